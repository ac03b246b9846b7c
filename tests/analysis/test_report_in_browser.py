"""The HTML report as a person sees it: opened in real headless Chromium, plots drawn, no errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from peerperf.analysis.comparison import compare
from peerperf.analysis.html_report import compare_report, report
from peerperf.analysis.summarise import Summary, summary
from tests.analysis.fixtures import Scenario
from tests.analysis.svg import MeshShapes
from tests.browser import render

pytestmark = pytest.mark.browser


def test_the_report_renders_its_plots_without_console_errors(tmp_path: Path) -> None:
    frame = Scenario(lost={0: 0.1}, latency_ms={i: [2.0 + i, 40.0] for i in range(4)}).frame()
    path = report(frame, summary(frame), tmp_path / "report.html")
    page = render(path.as_uri(), tmp_path / "profile")
    assert page.console == []
    assert page.dom.count("<svg") >= 7  # every plot drew: rates, delivery, latency, connections, hops, harness, heatmap
    assert "harness verdict: healthy" in page.dom and "delivery ratio (layer, every packet)" in page.dom
    assert "no data in this run" not in page.dom
    assert "The mesh was not sampled in this run" in page.dom  # no topology: said, and nothing else breaks
    assert not page.looks_blank()


def test_the_comparison_report_renders(tmp_path: Path) -> None:
    frames = [Scenario(test_id="a").frame(), Scenario(test_id="b", latency_ms={i: [9.0] for i in range(4)}).frame()]
    result = compare(frames, ["a", "b"], resamples=200)
    path = compare_report(frames, result, tmp_path / "compare.html")
    page = render(path.as_uri(), tmp_path / "profile")
    assert page.console == []
    assert page.dom.count("<svg") >= 5 and "significant" in page.dom
    assert not page.looks_blank()


def test_console_errors_are_caught(tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text("<html><body><script>console.error('boom')</script><p>x</p></body></html>")
    assert any("boom" in message for message in render(broken.as_uri(), tmp_path / "profile").console)


def test_stages_are_bands_on_the_plots_over_time_with_active_against_target(tmp_path: Path) -> None:
    frame = Scenario(windows=10).frame()
    frame["stage"] = (frame["window"] > 4).astype(int) + 1  # stage 1: windows 1-4, stage 2: 5-10
    result = summary(frame)
    settings = {**result.settings, "stages": "8s:4,12s:4"}
    staged = Summary(result.test_ids, result.metrics, result.verdict, result.steady_state, settings, result.notes)
    path = report(frame, staged, tmp_path / "report.html")
    page = render(path.as_uri(), tmp_path / "profile")
    assert page.console == [] and not page.looks_blank()
    assert "Stages: active peers per window (solid) and the stages' target (dashed)" in page.dom
    # One band per stage on each of the six plots over time (stages, rates, delivery, latency, connections,
    # harness), in alternating colours; none on the hops histogram or the per-window heatmap.
    assert page.dom.count("fill: #f9ab00") == 6 and page.dom.count("fill: #1a73e8") == 6
    assert page.dom.count("<svg") >= 8


def test_the_mesh_is_drawn_at_start_each_stage_and_end_with_its_peers_and_connections(tmp_path: Path) -> None:
    frame = Scenario(peers=6, windows=10).frame()  # one room and node: peers coloured by host (2 to a host)
    frame["stage"] = (frame["window"] > 4).astype(int) + 1  # stage 2 begins at the start of window 5: t0 + 8 s
    peer = Scenario().peer_id

    def entries(layer: str, links: dict[int, list[int]]) -> list[dict[str, object]]:
        return [{"id": peer(i), "layer": layer, "connectedPeerIds": [peer(j) for j in js]} for i, js in links.items()]

    t0 = 1_000_000  # the fixture's test start; its first datapoint closes window 1 at t0 + 2 s
    topology = [
        (t0 + 1000, entries("blue-1", {0: [1], 1: [0, 2], 2: []})),  # start: 3 peers, 2 connections
        (t0 + 6000, entries("blue-1", {0: [1, 2], 1: [2], 2: [0]})),  # nearest stage 2: 6 peers, 5 connections
        (t0 + 6020, entries("blue-2", {3: [4], 4: [5], 5: [4]})),
        (t0 + 11000, entries("blue-1", {0: [1], 1: [], 2: []})),  # 3 peers, 1 connection
        (t0 + 16000, [*entries("blue-1", {1: [2], 2: [1]}), {"id": "p0-s2", "layer": "blue-1"}]),
        (t0 + 16010, entries("blue-2", {3: [], 4: [], 5: []})),  # end: 6 peers, 1 connection
    ]
    result = summary(frame)
    settings = {**result.settings, "stages": "8s:6,12s:6"}
    staged = Summary(result.test_ids, result.metrics, result.verdict, result.steady_state, settings, result.notes)
    path = report(frame, staged, tmp_path / "report.html", topology=topology)
    page = render(path.as_uri(), tmp_path / "profile")
    assert page.console == [] and not page.looks_blank()
    shapes = MeshShapes(page.dom)
    assert shapes.pictures() == 4  # every sample: room for six
    assert [shapes.count(n) for n in (1, 2, 3, 4)] == [(3, 2), (6, 5), (3, 1), (6, 1)]
    captions = ("Mesh at -1 s, start: 3 peers", "at 4 s, stage 2 begins: 6 peers", "at 9 s: 3", "at 14 s, end: 6 peers")
    assert all(caption in page.dom for caption in captions)
    assert "coloured by host" in page.dom
    fills = [style.split(";")[0] for style, _ in shapes.shapes["mesh-2-peers"]]
    assert sorted(fills.count(f) for f in set(fills)) == [2, 2, 2], "three hosts of two peers, a colour each"
    assert "Connections per peer as the lighthouse saw them" in page.dom
    assert page.dom.count("fill: #f9ab00") == 7, "stage bands on connections over time too, not on the pictures"
