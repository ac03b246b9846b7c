"""A crowd gathering (issue 24): at routine time `at` every peer moves to one room of the run.

`crowd?at=30&room=room-2`: `at` in seconds (default 60, so a default run has a minute spread over its
rooms first), `room` (default: the run's first). The move is the roam routine's: leave the other rooms,
join that one, send there. It sends what the default routine sends throughout.
"""

from __future__ import annotations

from peerperf.errors import ConfigError
from peerperf.routines import RoutinePeer
from peerperf.routines.default import routine as default_routine
from peerperf.routines.roam import go_to

#: Routine seconds before the crowd gathers.
AT = 60.0


def parse_at(text: str) -> float:
    try:
        at = float(text)
    except ValueError:
        raise ConfigError(f"crowd at={text!r}: expected seconds, e.g. at=60") from None
    if not at >= 0:
        raise ConfigError(f"crowd at={text!r}: expected seconds >= 0")
    return at


def check_params(params: dict[str, str]) -> None:
    """Refuse unknown parameters, a bad time or an empty room before the run starts."""
    unknown = sorted(set(params) - {"at", "room"})
    if unknown:
        raise ConfigError(f"routine crowd: unknown parameters {unknown} (it takes at=SECONDS and room=NAME)")
    if "at" in params:
        parse_at(params["at"])
    if params.get("room") == "":
        raise ConfigError("routine crowd: room= is empty")


def routine(elapsed: float, delta: float, peer: RoutinePeer) -> None:
    if not peer.state.get("gathered"):
        at = parse_at(peer.params["at"]) if "at" in peer.params else AT
        if elapsed >= at:
            go_to(peer, peer.params.get("room") or peer.run_rooms[0])
            peer.state["gathered"] = True
    default_routine(elapsed, delta, peer)
