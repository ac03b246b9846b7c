"""What a peer tells the lighthouse in each heartbeat: its connections and position, and, every
`optimize_network_interval` (first at its timer phase), a request for hints of whom to connect to."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from peerperf.peer.settings import PeerSettings
from peerperf.peer.timer_phases import TimerPhases, first_firing
from peerperf.protocol.positions import Position, parcel_of
from peerperf.protocol.signaling_frames import HeartbeatPayload


class Heartbeat:
    """Builds one peer's heartbeat payloads; asking for hints is due at most once per interval."""

    def __init__(self, settings: PeerSettings, phases: TimerPhases, connected: Callable[[], Sequence[str]]) -> None:
        self._settings = settings
        self._connected = connected
        hints = first_firing(phases.hint_request, settings.optimize_network_interval)
        self._next_hint_request = time.monotonic() + hints

    def payload(self, position: Position) -> HeartbeatPayload:
        """This heartbeat's payload at `position`."""
        now = time.monotonic()
        ask = now >= self._next_hint_request
        if ask:
            self._next_hint_request = now + self._settings.optimize_network_interval
        parcel = parcel_of(position) if len(position) == 3 else None
        return HeartbeatPayload(
            tuple(self._connected()),
            tuple(position),
            parcel,
            True if ask else None,
            self._settings.target_connections if ask else None,
            self._settings.nearby_peers_distance if ask else None,
        )
