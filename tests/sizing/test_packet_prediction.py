"""Packets per peer at a layer size: the whole layer when it fits the budget, a stated lower bound when not."""

from __future__ import annotations

import pytest

from peerperf.peer.settings import PeerSettings
from peerperf.sizing.packet_prediction import Budget, predict


def test_a_small_layer_is_simulated_whole() -> None:
    packets = predict(6, "default", PeerSettings(), duration=10.0)
    assert not packets.lower_bound and packets.basis.startswith("the whole layer of 6 simulated")
    assert packets.received == pytest.approx(packets.sent + packets.relayed, rel=0.02)
    assert packets.unique == pytest.approx(5 * 11.1, rel=0.05)


def test_a_layer_beyond_the_budget_is_bounded_from_single_floods() -> None:
    packets = predict(16, "default", PeerSettings(), duration=10.0, budget=Budget(whole_layer=10_000))
    assert packets.lower_bound and "a lower bound" in packets.basis and "10,000 frames" in packets.basis
    # At least every one of the 15 others' 11.1 messages/s, each copied as the floods copied a position packet.
    assert packets.received >= 15 * 11.0 * 1.0 and packets.copies_per_unique > 1
    assert packets.relayed == pytest.approx(packets.received - packets.sent)


def test_a_flood_cut_by_its_budget_makes_the_bound_say_at_least() -> None:
    packets = predict(24, "default", PeerSettings(), budget=Budget(whole_layer=10_000, floods=1, per_flood=300))
    assert packets.lower_bound and "made at least" in packets.basis
