"""The cost model fitted to measured layers: it finds the cost it was made from, stays non-negative, and
says how well it reproduces each layer."""

from __future__ import annotations

import pytest

from peerperf.sizing.cost_model import CostModel, fit
from tests.sizing.fixtures import TRUE_COST, layer


def test_the_fit_recovers_the_cost_the_layers_were_made_from() -> None:
    result = fit([layer(2, 12.0), layer(4, 36.0), layer(6, 70.0), layer(8, 125.0)])
    model = result.model
    assert model.per_packet == pytest.approx(TRUE_COST.per_packet, rel=1e-6)
    assert model.per_peer == pytest.approx(TRUE_COST.per_peer, rel=1e-6)
    assert model.per_process == pytest.approx(TRUE_COST.per_process, rel=1e-6)
    assert result.terms == ("per_process", "per_peer", "per_packet") and result.worst_residual < 1e-9
    assert result.received_identity_error == pytest.approx(0.0)


def test_residuals_show_each_layers_distance_from_the_fit() -> None:
    result = fit([layer(2, 12.0), layer(4, 36.0, noise=0.10), layer(6, 70.0), layer(8, 125.0)])
    by_size = {r.layer_size: r for r in result.residuals}
    assert by_size[4].relative < -0.02  # measured 10 % above the cost: the fit sits below it
    assert 0.02 < result.worst_residual < 0.10  # three terms absorb part of one layer's noise


def test_costs_never_go_negative() -> None:
    # More CPU per peer in small layers than the packets explain: an unconstrained fit gives per_packet < 0.
    cost = CostModel(per_process=0.0, per_peer=0.05, per_packet=0.0)
    layers = [layer(2, 100.0, cost, noise=0.2), layer(4, 150.0, cost), layer(8, 300.0, cost, noise=-0.1)]
    model = fit(layers).model
    assert min(model.per_process, model.per_peer, model.per_packet) >= 0


def test_a_fit_needs_two_layer_sizes() -> None:
    with pytest.raises(ValueError, match="at least two sizes"):
        fit([layer(4, 36.0), layer(4, 37.0)])


def test_the_model_costs_a_host_and_a_peer() -> None:
    model = CostModel(per_process=0.1, per_peer=0.01, per_packet=0.001)
    assert model.host_cores(10, 20.0) == pytest.approx(0.1 + 10 * (0.01 + 0.02))
    assert model.cores_per_peer(10, 20.0) == pytest.approx(0.04)
