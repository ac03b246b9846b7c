"""Connection configuration: which addresses become host candidates, which STUN/TURN servers are used,
whether the SCTP transport is tuned (peerperf/peer/sctp_tuning.py) and which receive path the data
channels run (peerperf/peer/data_path.py).

aiortc contacts a public STUN server unless told otherwise, and aioice leaves 127.0.0.1 out of its
host candidates, so on a loopback-only machine two peers find no path. Host addresses are therefore
configuration: loopback for local runs and tests, the node's cluster address on a cluster. aioice
reads them from a module-level function, so the choice is per process (one process hosts the
peers of one node, which share it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer

from peerperf.peer.settings import COMPILED_DATA_PATH, PeerSettings

log = logging.getLogger(__name__)
_configured: tuple[str, ...] | None = None


def use_host_addresses(addresses: tuple[str, ...]) -> None:
    """Make every ICE agent of this process gather host candidates on exactly `addresses`."""
    global _configured
    if not addresses:
        raise ValueError("at least one ICE host address is needed")
    if _configured is not None and _configured != addresses:
        log.warning("ICE host addresses change from %s to %s for the whole process", _configured, addresses)
    chosen = list(addresses)

    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in chosen if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = get_host_addresses
    _configured = addresses


@dataclass
class ConnectionConfiguration(RTCConfiguration):
    """aiortc's configuration plus the choice of SCTP transport and receive path, which aiortc has no field for."""

    sctp_tuning: bool = True
    data_path: str = COMPILED_DATA_PATH


def rtc_configuration(settings: PeerSettings) -> ConnectionConfiguration:
    """A configuration with exactly the configured servers (none by default), the SCTP and data path choices."""
    servers = [
        RTCIceServer(urls=url, username=settings.ice_username, credential=settings.ice_credential)
        for url in settings.ice_servers
    ]
    return ConnectionConfiguration(iceServers=servers, sctp_tuning=settings.sctp_tuning, data_path=settings.data_path)
