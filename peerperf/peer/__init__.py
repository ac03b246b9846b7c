"""The peer library: Python peers that join a lighthouse-coordinated mesh over aiortc data channels."""

from peerperf.peer.peer import Peer
from peerperf.peer.settings import PeerSettings

__all__ = ["Peer", "PeerSettings"]
