"""peerperf: a load-testing harness for lighthouse-coordinated WebRTC comms meshes."""

__version__ = "0.1.0"
