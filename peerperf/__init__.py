"""peerperf: a load-testing harness for lighthouse-coordinated WebRTC comms meshes."""

from peerperf.cluster.network_mode import choose_network

choose_network()  # before anything imports ray: Ray reads its network mode once, at import

__version__ = "0.1.0"
