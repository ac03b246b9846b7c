"""The HTML report as a person sees it: opened in real headless Chromium, plots drawn, no errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from peerperf.analysis.compare import compare
from peerperf.analysis.report import compare_report, report
from peerperf.analysis.summary import Summary, summary
from tests.analysis.fixtures import Scenario
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
