from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PacketType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UKNOWN_PACKET_TYPE: _ClassVar[PacketType]
    MESSAGE: _ClassVar[PacketType]
    PING: _ClassVar[PacketType]
    PONG: _ClassVar[PacketType]
    SUSPEND_RELAY: _ClassVar[PacketType]

class PayloadEncoding(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BYTES: _ClassVar[PayloadEncoding]
    STRING: _ClassVar[PayloadEncoding]
    JSON: _ClassVar[PayloadEncoding]
UKNOWN_PACKET_TYPE: PacketType
MESSAGE: PacketType
PING: PacketType
PONG: PacketType
SUSPEND_RELAY: PacketType
BYTES: PayloadEncoding
STRING: PayloadEncoding
JSON: PayloadEncoding

class MessageData(_message.Message):
    __slots__ = ("room", "dst", "payload", "encoding")
    ROOM_FIELD_NUMBER: _ClassVar[int]
    DST_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    room: str
    dst: _containers.RepeatedScalarFieldContainer[bytes]
    payload: bytes
    encoding: PayloadEncoding
    def __init__(self, room: _Optional[str] = ..., dst: _Optional[_Iterable[bytes]] = ..., payload: _Optional[bytes] = ..., encoding: _Optional[_Union[PayloadEncoding, str]] = ...) -> None: ...

class PingData(_message.Message):
    __slots__ = ("pingId",)
    PINGID_FIELD_NUMBER: _ClassVar[int]
    pingId: int
    def __init__(self, pingId: _Optional[int] = ...) -> None: ...

class PongData(_message.Message):
    __slots__ = ("pingId",)
    PINGID_FIELD_NUMBER: _ClassVar[int]
    pingId: int
    def __init__(self, pingId: _Optional[int] = ...) -> None: ...

class SuspendRelayData(_message.Message):
    __slots__ = ("relayedPeers", "durationMillis")
    RELAYEDPEERS_FIELD_NUMBER: _ClassVar[int]
    DURATIONMILLIS_FIELD_NUMBER: _ClassVar[int]
    relayedPeers: _containers.RepeatedScalarFieldContainer[str]
    durationMillis: int
    def __init__(self, relayedPeers: _Optional[_Iterable[str]] = ..., durationMillis: _Optional[int] = ...) -> None: ...

class Packet(_message.Message):
    __slots__ = ("sequenceId", "instanceId", "timestamp", "src", "subtype", "discardOlderThan", "optimistic", "expireTime", "hops", "ttl", "receivedBy", "messageData", "pingData", "pongData", "suspendRelayData")
    SEQUENCEID_FIELD_NUMBER: _ClassVar[int]
    INSTANCEID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    SRC_FIELD_NUMBER: _ClassVar[int]
    SUBTYPE_FIELD_NUMBER: _ClassVar[int]
    DISCARDOLDERTHAN_FIELD_NUMBER: _ClassVar[int]
    OPTIMISTIC_FIELD_NUMBER: _ClassVar[int]
    EXPIRETIME_FIELD_NUMBER: _ClassVar[int]
    HOPS_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    RECEIVEDBY_FIELD_NUMBER: _ClassVar[int]
    MESSAGEDATA_FIELD_NUMBER: _ClassVar[int]
    PINGDATA_FIELD_NUMBER: _ClassVar[int]
    PONGDATA_FIELD_NUMBER: _ClassVar[int]
    SUSPENDRELAYDATA_FIELD_NUMBER: _ClassVar[int]
    sequenceId: int
    instanceId: int
    timestamp: int
    src: str
    subtype: str
    discardOlderThan: int
    optimistic: bool
    expireTime: int
    hops: int
    ttl: int
    receivedBy: _containers.RepeatedScalarFieldContainer[str]
    messageData: MessageData
    pingData: PingData
    pongData: PongData
    suspendRelayData: SuspendRelayData
    def __init__(self, sequenceId: _Optional[int] = ..., instanceId: _Optional[int] = ..., timestamp: _Optional[int] = ..., src: _Optional[str] = ..., subtype: _Optional[str] = ..., discardOlderThan: _Optional[int] = ..., optimistic: _Optional[bool] = ..., expireTime: _Optional[int] = ..., hops: _Optional[int] = ..., ttl: _Optional[int] = ..., receivedBy: _Optional[_Iterable[str]] = ..., messageData: _Optional[_Union[MessageData, _Mapping]] = ..., pingData: _Optional[_Union[PingData, _Mapping]] = ..., pongData: _Optional[_Union[PongData, _Mapping]] = ..., suspendRelayData: _Optional[_Union[SuspendRelayData, _Mapping]] = ...) -> None: ...
