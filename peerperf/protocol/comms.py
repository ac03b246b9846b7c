"""The application-level `CommsMessage` family (reference section 3, `comms.proto`)."""

from peerperf.protocol.generated.comms_pb2 import (
    ChatData,
    CommsMessage,
    PositionData,
    ProfileData,
    SceneData,
)

__all__ = ["ChatData", "CommsMessage", "PositionData", "ProfileData", "SceneData"]
