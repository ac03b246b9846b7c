"""Browser peers in a plan: CPU per page from the measured same-run ratio to a Python peer, whole Chromiums per
node, nodes, memory and `browser_slot`, the measurement cited, and what it says when no node holds a Chromium."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from peerperf.sizing.browser_plan import MEASURED, BrowserCost, plan_browsers, render_browsers
from peerperf.sizing.plan import PlanRequest, make_plan
from tests.sizing.test_plan import COST, packets, with_cost

PYTHON_PLAN = make_plan(PlanRequest(1000, 8, 16, 0.6), with_cost(COST), packets(125.0))


def test_the_declared_cost_is_the_benchs_median() -> None:
    median = json.loads((Path(__file__).parents[2] / "bench" / "results" / "browser_cost.json").read_text())["results"][
        "median"
    ]
    assert (MEASURED.cpu_ratio, MEASURED.pss_mb_per_peer) == (median["cpu_ratio"], median["browser_pss_mb_per_peer"])
    assert MEASURED.source.startswith("bench/results/browser_cost.json")


def test_browser_peers_cost_the_measured_ratio_and_fill_nodes_with_whole_chromiums() -> None:
    browsers = plan_browsers(PYTHON_PLAN, 95, 10)
    assert browsers.cores_per_peer == pytest.approx(PYTHON_PLAN.cores_per_peer * MEASURED.cpu_ratio)
    fits = math.floor(16 * 0.6 / browsers.cores_per_peer)
    assert browsers.pages_per_node == fits // 10 * 10 and browsers.browser_slot == browsers.pages_per_node
    assert browsers.nodes == math.ceil(95 / browsers.pages_per_node) and browsers.vcpus == browsers.nodes * 16
    assert browsers.browsers == 10 and browsers.memory_mb == 95 * MEASURED.pss_mb_per_peer
    assert browsers.memory_mb_per_node == browsers.pages_per_node * MEASURED.pss_mb_per_peer
    text = render_browsers(browsers)
    assert f"measured: {MEASURED.source}" in text and text.endswith(f"browser_slot: {browsers.pages_per_node}")


def test_a_chromium_no_node_holds_has_no_nodes_and_says_how_many_pages_fit() -> None:
    heavy = BrowserCost(cpu_ratio=200.0, pss_mb_per_peer=100.0, source="test")
    browsers = plan_browsers(PYTHON_PLAN, 20, 10, heavy)
    fits = math.floor(16 * 0.6 / browsers.cores_per_peer)
    assert 0 < fits < 10 and browsers.nodes is None and browsers.browser_slot is None
    assert f"use --pages-per-browser {fits}" in browsers.notes[0] and "no browser_slot fits" in render_browsers(
        browsers
    )


def test_no_browser_peers_need_no_browser_nodes() -> None:
    browsers = plan_browsers(PYTHON_PLAN, 0, 10)
    assert (browsers.nodes, browsers.browsers, browsers.memory_mb, browsers.notes) == (0, 0, 0.0, [])
