"""Peers fill layers of the layer size in turn, as the network sends users to another layer when one is full."""

from __future__ import annotations

import random

import pytest

from peerperf.sim.population import Population, plan_peers
from peerperf.sim.routines import parse_mix


@pytest.mark.parametrize(
    ("peers", "layer_size", "sizes", "text"),
    [
        (8, None, [8], "1 layer of 8"),
        (8, 50, [8], "1 layer of 8"),
        (50, 50, [50], "1 layer of 50"),
        (12, 6, [6, 6], "2 layers of 6"),
        (1000, 50, [50] * 20, "20 layers of 50"),
        (120, 50, [50, 50, 20], "3 layers of 50 (the last 20)"),
    ],
)
def test_peers_fill_layers_in_turn(peers: int, layer_size: int | None, sizes: list[int], text: str) -> None:
    population = Population(peers, parse_mix("default"), layer_size=layer_size)
    assert population.layer_sizes() == sizes
    assert population.describe_layers() == text
    specs = plan_peers(population, random.Random(0))
    counts: dict[str, int] = {}
    for spec in specs:
        counts[spec.layer] = counts.get(spec.layer, 0) + 1
    assert list(counts.values()) == sizes
    expected_names = ["blue"] if len(sizes) == 1 else [f"blue-{i + 1}" for i in range(len(sizes))]
    assert list(counts) == expected_names
