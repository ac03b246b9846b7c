from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CommsMessage(_message.Message):
    __slots__ = ("time", "position_data", "profile_data", "chat_data", "scene_data")
    TIME_FIELD_NUMBER: _ClassVar[int]
    POSITION_DATA_FIELD_NUMBER: _ClassVar[int]
    PROFILE_DATA_FIELD_NUMBER: _ClassVar[int]
    CHAT_DATA_FIELD_NUMBER: _ClassVar[int]
    SCENE_DATA_FIELD_NUMBER: _ClassVar[int]
    time: float
    position_data: PositionData
    profile_data: ProfileData
    chat_data: ChatData
    scene_data: SceneData
    def __init__(self, time: _Optional[float] = ..., position_data: _Optional[_Union[PositionData, _Mapping]] = ..., profile_data: _Optional[_Union[ProfileData, _Mapping]] = ..., chat_data: _Optional[_Union[ChatData, _Mapping]] = ..., scene_data: _Optional[_Union[SceneData, _Mapping]] = ...) -> None: ...

class PositionData(_message.Message):
    __slots__ = ("position_x", "position_y", "position_z", "rotation_x", "rotation_y", "rotation_z", "rotation_w")
    POSITION_X_FIELD_NUMBER: _ClassVar[int]
    POSITION_Y_FIELD_NUMBER: _ClassVar[int]
    POSITION_Z_FIELD_NUMBER: _ClassVar[int]
    ROTATION_X_FIELD_NUMBER: _ClassVar[int]
    ROTATION_Y_FIELD_NUMBER: _ClassVar[int]
    ROTATION_Z_FIELD_NUMBER: _ClassVar[int]
    ROTATION_W_FIELD_NUMBER: _ClassVar[int]
    position_x: float
    position_y: float
    position_z: float
    rotation_x: float
    rotation_y: float
    rotation_z: float
    rotation_w: float
    def __init__(self, position_x: _Optional[float] = ..., position_y: _Optional[float] = ..., position_z: _Optional[float] = ..., rotation_x: _Optional[float] = ..., rotation_y: _Optional[float] = ..., rotation_z: _Optional[float] = ..., rotation_w: _Optional[float] = ...) -> None: ...

class ProfileData(_message.Message):
    __slots__ = ("profile_version", "user_id")
    PROFILE_VERSION_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    profile_version: str
    user_id: str
    def __init__(self, profile_version: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class ChatData(_message.Message):
    __slots__ = ("message_id", "text")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    text: str
    def __init__(self, message_id: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class SceneData(_message.Message):
    __slots__ = ("scene_id", "text")
    SCENE_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    scene_id: str
    text: str
    def __init__(self, scene_id: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...
