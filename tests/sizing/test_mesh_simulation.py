"""The mesh simulation: the real relay code over a formed mesh in virtual time, reproducible, and honest about
what it could not finish."""

from __future__ import annotations

import pytest

from peerperf.errors import ConfigError
from peerperf.peer.settings import PeerSettings
from peerperf.sizing.mesh_simulation import SimulationSettings, simulate

QUIET = PeerSettings()  # no pings: the routine's packets only


def test_a_small_layer_floods_every_packet_to_everyone_and_counts_each_end() -> None:
    result = simulate(SimulationSettings(6, peer=QUIET, duration=12, seed=2))
    rates = result.rates
    assert result.complete and result.measured_seconds == pytest.approx(8.0)
    # The default routine: 10 positions + 1 profile + 0.1 chat per second from each of the 5 others, all arriving.
    assert rates.originated == pytest.approx(11.1, rel=0.05)
    assert rates.unique == pytest.approx(5 * rates.originated, rel=0.05)
    # A closed layer: every frame sent or relayed is received by a peer of the layer (edges of the window aside).
    assert rates.received == pytest.approx(rates.sent + rates.relayed, rel=0.02)
    assert rates.copies_per_unique >= 1.0
    assert 4 <= result.connections <= 5  # target 4, and a layer of 6 has 5 others


def test_the_same_seed_gives_the_same_layer() -> None:
    first, second = (simulate(SimulationSettings(8, peer=QUIET, duration=8, seed=5)) for _ in range(2))
    assert first.rates == second.rates and first.connections == second.connections and first.receives == second.receives


def test_copies_per_unique_packet_grow_with_the_layer() -> None:
    """The original's rule relays a second copy of the newest unreliable packet again (reference 2.6)."""
    small, large = (simulate(SimulationSettings(n, peer=QUIET, duration=10, seed=1)) for n in (6, 16))
    assert large.rates.copies_per_unique > 2 * small.rates.copies_per_unique


def test_pings_add_pongs_from_every_processed_copy() -> None:
    quiet = simulate(SimulationSettings(8, peer=QUIET, duration=12, seed=3))
    pinging = simulate(SimulationSettings(8, peer=PeerSettings(ping_interval=0.009), duration=12, seed=3))
    assert pinging.rates.originated > quiet.rates.originated + 0.5  # a pong per processed ping copy, each peer
    assert pinging.rates.received > quiet.rates.received


def test_the_budget_stops_a_layer_and_says_so() -> None:
    result = simulate(SimulationSettings(16, peer=QUIET, duration=10, seed=1, max_receives=20_000))
    assert not result.complete and result.receives == 20_001
    assert result.measured_seconds < 6.0


def test_a_wall_clock_limit_stops_a_layer_and_says_so() -> None:
    result = simulate(SimulationSettings(4, peer=QUIET, duration=10, seed=1, wall_seconds=0.0))
    assert not result.complete and result.measured_seconds == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"layer_size": 1}, "at least 2 peers"),
        ({"layer_size": 4, "duration": 3.0}, "longer than the warm-up"),
        ({"layer_size": 4, "max_receives": 0}, "max_receives"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SimulationSettings(**kwargs)  # type: ignore[arg-type]
