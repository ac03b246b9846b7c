"""A test where the original client's pages also reported: their datapoints lack peerperf's fields and are
counted apart, through the same Parquet file the results service writes."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from rich.console import Console

from peerperf.analysis.assertions import check, parse
from peerperf.analysis.cli import main as analysis_main
from peerperf.analysis.comparison import compare_groups
from peerperf.analysis.groups import mixed_kinds, summaries_by
from peerperf.analysis.html_report import report
from peerperf.analysis.results_files import load_datapoints
from peerperf.analysis.summarise import summary
from peerperf.analysis.text import kinds_table
from peerperf.analysis.verdict import Status
from peerperf.protocol.metrics import BROWSER, CATEGORIES, PYTHON, SUFFIXES, validate_metrics
from peerperf.results.datapoints import to_table
from peerperf.results.model import DataPoint
from tests.analysis.fixtures import Scenario

KINDS = (BROWSER, PYTHON)


def original_body(window: int, connected: list[str]) -> dict[str, Any]:
    """The original client's metrics body, key for key (`buildCatalystPeerStatsData` of its bundle)."""
    body: dict[str, Any] = {}
    for category in CATEGORIES:
        for suffix in SUFFIXES:
            body[f"{category}{suffix}"] = 0 if category in ("duplicate", "expired") else 12 * window + len(suffix)
    return {
        **body,
        "connectedPeers": connected,
        "knownPeersCount": 7,
        "position": [3.5, 0, -12.25],
        "averageLatency": 4,
    }


def write_test(path: Path, ours: list[dict[str, Any]], browsers: int) -> Path:
    points = [DataPoint(row["peerId"], row["timestamp"], validate_metrics(row)) for row in ours]
    for page in range(browsers):
        for window in range(1, 9):
            body = original_body(window, ["fixture-peer-0", f"browser-{(page + 1) % browsers}"])
            points.append(DataPoint(f"browser-{page}", 1_000_000 + window * 2000 + 7, validate_metrics(body)))
    pq.write_table(to_table(points), path)
    return path


def our_rows() -> list[dict[str, Any]]:
    return [{**row, "position": [0.0, 0.0, 0.0]} for row in Scenario(by_window=True).rows()]


def test_a_test_with_three_original_pages_summarises_them_apart(tmp_path: Path) -> None:
    frame = load_datapoints(write_test(tmp_path / "mixed.parquet", our_rows(), 3)).assign(testId="mixed")
    result = summary(frame)  # was: TypeError: Cannot setitem on a Categorical with a new category ()
    assert result["peers"] == 4 and result["datapoints"] == 32
    assert result["peers.browser"] == 3 and result["datapoints.browser"] == 24
    assert result.verdict.status is Status.HEALTHY  # from our hosts' evidence; the pages carry none
    assert math.isnan(float(result["delivery"]))  # they send in our layer but nobody reports what they create
    assert any("3 peers of another client" in note for note in result.notes)
    assert result["loss"] == 0.0 and float(result["latency.position.p50"]) > 0
    page = report(frame, result, tmp_path / "mixed.html").read_text()
    assert (
        "<svg" in page and "<h2>By kind of peer</h2>\n<table><tr><th>figure</th><th>browser</th><th>python</th>" in page
    )


def test_a_test_of_original_pages_only_summarises_what_they_report(tmp_path: Path) -> None:
    frame = load_datapoints(write_test(tmp_path / "pages.parquet", [], 3)).assign(testId="pages")
    result = summary(frame)
    assert result["peers"] == 3 and result["connections"] == 2.0
    assert result.verdict.status is Status.UNKNOWN
    assert any("delivery is unknown" in note for note in result.notes)


def test_summary_by_kind_gives_each_kind_its_figures_and_scoped_assertions_read_them(tmp_path: Path) -> None:
    frame = load_datapoints(write_test(tmp_path / "mixed.parquet", our_rows(), 3)).assign(testId="mixed")
    groups = summaries_by(frame, "kind")
    assert list(groups) == [BROWSER, PYTHON]
    pages, ours = groups[BROWSER], groups[PYTHON]
    assert (pages["peers"], ours["peers"]) == (3, 4)
    # The pages' own rates over our steady windows 3..7: receivedPerSecond is 12 * window + 9 in the bodies.
    assert pages["throughput.received"] == 69.0 and pages["connections"] == 2.0
    assert math.isnan(float(pages["delivery"])) and "latency.position.p50" not in pages.metrics
    assert any("report packet counts and rates only" in note for note in pages.notes)
    assert float(ours["latency.position.p50"]) > 0 and ours["loss"] == 0.0
    outcomes = check(
        summary(frame),
        [
            parse(t)
            for t in ("kind:browser.throughput.received>=60", "kind:python.loss<=0", "kind:browser.delivery>0.9")
        ],
        lambda column: summaries_by(frame, column),
    )
    assert [o.passed for o in outcomes] == [True, True, False]
    assert "delivery has no value" in outcomes[2].message


def test_compare_by_kind_sets_the_kinds_side_by_side(tmp_path: Path) -> None:
    frame = load_datapoints(write_test(tmp_path / "mixed.parquet", our_rows(), 3)).assign(testId="mixed")
    result = compare_groups(frame, "kind", resamples=100)
    assert result.names == [BROWSER, PYTHON]
    received = {d.name: d for d in result.differences}["throughput.received"]
    assert received.values == [69.0, 60.0] and received.deltas == [-9.0]


def test_the_summary_of_a_mixed_test_has_a_row_per_kind(tmp_path: Path) -> None:
    frame = load_datapoints(write_test(tmp_path / "mixed.parquet", our_rows(), 3)).assign(testId="mixed")
    assert mixed_kinds(frame) and not mixed_kinds(frame[frame["kind"] == PYTHON])
    console = Console(record=True, width=200)
    console.print(kinds_table(summaries_by(frame, "kind"), "by kind"))
    rows = {line.split()[1]: line for line in console.export_text().splitlines() if line[2:9].strip() in KINDS}
    assert set(rows) == set(KINDS), rows
    assert "n/a" in rows[BROWSER] and "69.00" in rows[BROWSER] and "60.00" in rows[PYTHON]


def test_a_test_of_original_pages_only_groups_by_kind(tmp_path: Path) -> None:
    frame = load_datapoints(write_test(tmp_path / "pages.parquet", [], 3)).assign(testId="pages")
    assert list(summaries_by(frame, "kind")) == [BROWSER]
    assert list(summaries_by(frame.drop(columns="kind", errors="ignore"), "kind")) == [BROWSER]  # told by its fields


def test_peerperf_summary_of_a_mixed_test_ends_with_the_table_by_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_test(tmp_path / "mixed.parquet", our_rows(), 3)
    assert analysis_main(["summary", str(path)]) == 0
    table = capsys.readouterr().out.split("mixed by kind", 1)[-1]
    assert re.search(r"^\W*browser\b.*69\.00", table, re.M) and re.search(r"^\W*python\b", table, re.M), table
