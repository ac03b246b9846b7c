"""Single floods through a formed mesh: the copies one packet makes, and a lower bound when the budget ends one."""

from __future__ import annotations

from peerperf.peer.settings import PeerSettings
from peerperf.sizing.flood_probe import probe
from peerperf.sizing.mesh_simulation import SimulationSettings, simulate


def test_a_flood_reaches_every_peer_and_its_copies_match_the_whole_layers() -> None:
    settings = SimulationSettings(12, peer=PeerSettings(), duration=14, seed=4)
    flood = probe(settings, floods=6)
    assert flood.floods == 6 and not flood.lower_bound
    assert 4 <= flood.connections <= 7
    whole = simulate(settings)  # the whole layer: positions and profiles flood the same way, chats less
    assert flood.copies_per_receiver > 1
    assert 0.5 < flood.copies_per_receiver / whole.rates.copies_per_unique < 2.0


def test_a_flood_cut_by_the_budget_is_a_lower_bound() -> None:
    flood = probe(SimulationSettings(24, peer=PeerSettings(), seed=1), floods=2, max_receives=500)
    assert flood.cut == 2 and flood.lower_bound
    assert flood.copies_per_receiver >= 500 / 23 * 0.99  # at least the budget over the receivers it reached
