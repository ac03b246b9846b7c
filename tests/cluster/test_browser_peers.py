"""Browser peers in a run: `python -m peerperf.run --peers 2 --browser-peers 2 --browser-client
shared/original/client` runs the original client's page (the original peer library inside) in headless
Chromium beside peerperf's Python peers, on the run's own lighthouse and results service: it completes
with datapoints of both kinds, the pages receive packets from the Python peers and the Python peers from
the pages; the summary counts the pages apart. The run is real (Ray, aiortc, Chromium) and runs inside a
network namespace that has only loopback (Chromium's WebRTC uses every interface it finds).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from peerperf.analysis.assertions import check, parse
from peerperf.analysis.comparison import compare_groups
from peerperf.analysis.groups import summaries_by
from peerperf.analysis.results_files import load
from peerperf.analysis.summarise import summary
from peerperf.cluster.browser_peers import plan_pages
from peerperf.config import RunConfig
from peerperf.errors import ConfigError
from peerperf.protocol.metrics import BROWSER, PYTHON
from tests.cluster.processes import descendants_named
from tests.conftest import shared_dir
from tests.runcli import Run, results_document

CLIENT = shared_dir() / "original" / "client"
#: The whole run inside a network namespace with loopback only: `sh -c` brings `lo` up, then runs the rest.
ISOLATED = ("unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh")


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"browser_peers": 2}, "--browser-peers needs --browser-client"),
        ({"browser_peers": 2, "browser_client": "x", "layer": "red"}, "keep --layer and --room"),
        ({"browser_peers": 2, "browser_client": "x", "room_size": 2}, "keep --layer and --room"),
        ({"browser_peers": 2, "browser_client": "x", "results_token": "t"}, "no results token"),
        ({"browser_peers": 2, "browser_client": "x", "churn": "10%/min"}, "join once and stay"),
        ({"browser_peers": -1}, "--browser-peers must not be negative"),
        ({"pages_per_browser": 0}, "--pages-per-browser must be at least 1"),
    ],
)
def test_a_run_browser_pages_cannot_join_is_refused(settings: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        RunConfig(**settings)


def test_pages_get_the_originals_query_parameters_a_few_to_a_browser() -> None:
    config = RunConfig(browser_peers=5, browser_client="x", pages_per_browser=2, duration=30.5, peer_id_length=20)
    groups = plan_pages(config, "http://127.0.0.1:8/", "http://127.0.0.1:9000", "http://127.0.0.1:9904", "t1")
    assert [[page.name for page in group] for group in groups] == [
        ["browser-0000/page-0", "browser-0000/page-1"],
        ["browser-0001/page-0", "browser-0001/page-1"],
        ["browser-0002/page-0"],
    ]
    url = urlsplit(groups[1][0].url)
    assert url.path == "/" and {k: v[0] for k, v in parse_qs(url.query).items()} == {
        "lighthouseUrl": "http://127.0.0.1:9000",
        "statsServerUrl": "http://127.0.0.1:9904",
        "testId": "t1",
        "sessionId": "browser-0001/page-0",
        "numberOfPeers": "1",
        "testDuration": "30",
        "peerIdLength": "20",
        "observe": "1",
    }
    with_query = plan_pages(RunConfig(browser_peers=1, browser_client="x"), "http://h/c/?v=2", "l", "r", "t")
    assert with_query[0][0].url.startswith("http://h/c/?v=2&lighthouseUrl=l&")


@dataclass
class MixedRun:
    code: int
    output: str
    folder: Path
    document: dict[str, Any]


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MixedRun]:
    if not (CLIENT / "bundle.js").exists():
        pytest.skip(f"{CLIENT} is absent: the original system (not data, not copied) sits beside the checkout")
    folder = tmp_path_factory.mktemp("browser-peers")
    run = asyncio.run(_run(folder))
    yield MixedRun(*run, folder, results_document(folder))


async def _run(folder: Path) -> tuple[int, str]:
    run = await Run.start(
        *("--peers", "2", "--browser-peers", "2", "--browser-client", str(CLIENT)),
        *("--duration", "12", "--output", str(folder), "--topology-interval", "0"),
        prefix=ISOLATED,
    )
    return await run.finish(), run.output


def kinds(document: dict[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for point in document["dataPoints"]:
        out.setdefault(point["metrics"]["kind"], set()).add(point["peerId"])
    return out


@pytest.mark.browser
@pytest.mark.root
def test_the_run_completes_with_datapoints_of_both_kinds(mixed_run: MixedRun) -> None:
    assert mixed_run.code == 0, mixed_run.output[-3000:]
    by_kind = kinds(mixed_run.document)
    assert len(by_kind[PYTHON]) == 2 and len(by_kind[BROWSER]) == 2, by_kind
    pages = mixed_run.document["metadata"]["browserPages"]
    assert sorted(pages) == ["browser-0000/page-0", "browser-0000/page-1"]
    assert {peer for page in pages.values() for peer in page["peerIds"]} == by_kind[BROWSER]
    hosts = mixed_run.document["metadata"]["browserHosts"]  # the browser host's own harness figures
    assert list(hosts) == ["browser-0000"] and hosts["browser-0000"]["pagesAlive"] == 2, hosts
    assert hosts["browser-0000"]["cpuPercent"] > 0 and hosts["browser-0000"]["pssMb"] > 50, hosts
    assert hosts["browser-0000"]["machineCpus"] == os.cpu_count() and hosts["browser-0000"]["nodeId"], hosts
    result = summary(load(mixed_run.folder))
    assert (result["peers.browser"], result["datapoints.browser"]) == (
        2,
        sum(1 for p in mixed_run.document["dataPoints"] if p["metrics"]["kind"] == BROWSER),
    )


@pytest.mark.browser
@pytest.mark.root
def test_pages_receive_packets_from_the_python_peers(mixed_run: MixedRun) -> None:
    pythons = kinds(mixed_run.document)[PYTHON]
    for name, page in mixed_run.document["metadata"]["browserPages"].items():
        heard = page["receivedBySource"]
        assert all(heard.get(peer, 0) > 0 for peer in pythons), (name, heard)


@pytest.mark.browser
@pytest.mark.root
def test_python_peers_receive_packets_from_the_pages(mixed_run: MixedRun) -> None:
    """Each Python peer lists the pages among its connections and delivered far more position messages than
    the other Python peer sent: the rest came from the pages (each sends as many, 10 a second)."""
    by_kind = kinds(mixed_run.document)
    points = [p for p in mixed_run.document["dataPoints"] if p["peerId"] in by_kind[PYTHON]]
    for peer in by_kind[PYTHON]:
        own = [p["metrics"] for p in points if p["peerId"] == peer]
        others = [p["metrics"] for p in points if p["peerId"] != peer]
        assert by_kind[BROWSER] <= {c for m in own for c in m["connectedPeers"]}, own[-1]["connectedPeers"]
        delivered = sum(m["deliveredBySubtype"].get("position", 0) for m in own)
        sent = sum(m["originatedBySubtype"].get("position", 0) for m in others)
        assert delivered > 1.5 * sent > 0, (peer, delivered, sent)


@pytest.mark.browser
@pytest.mark.root
@pytest.mark.parametrize("on_missing", ["abort", "proceed"])
async def test_a_page_killed_mid_run_is_named_and_the_run_follows_on_missing(tmp_path: Path, on_missing: str) -> None:
    """Every page's renderer is killed once the test runs: each page is named with why, and the run fails
    (`--on-missing abort`, the default) or finishes its test with the pages counted as lost (`proceed`)."""
    if not (CLIENT / "bundle.js").exists():
        pytest.skip(f"{CLIENT} is absent: the original system (not data, not copied) sits beside the checkout")
    run = await Run.start(
        *("--peers", "2", "--browser-peers", "2", "--browser-client", str(CLIENT)),
        *("--duration", "15", "--output", str(tmp_path), "--topology-interval", "0", "--on-missing", on_missing),
        prefix=ISOLATED,
    )
    await run.until("[running]")
    await run.until("[running]")  # a few seconds in: the pages' peers have joined
    renderers = descendants_named(run.proc.pid, "--type=renderer")
    assert renderers, "no Chromium renderer found below the run"
    for pid in renderers:
        os.kill(pid, signal.SIGKILL)
    code = await run.finish()
    for page in ("browser-0000/page-0", "browser-0000/page-1"):
        assert re.search(rf"{page}: browser page stopped|{page}: .*crashed", run.output), run.output[-3000:]
    if on_missing == "abort":
        assert code == 1 and "failed: " in run.output, run.output[-3000:]
    else:  # the test finishes with a faulty verdict (pages lost), which `Run`'s --allow-unhealthy accepts
        assert code == 0 and "failed: " not in run.output, f"exit {code}: " + run.output[-1500:]
        assert "harness faulty: accepted" in run.output and "of 2 pages alive at the end" in run.output
        assert results_document(tmp_path)["metadata"]["browserPages"], "the test was finished and kept"


@pytest.mark.browser
@pytest.mark.root
def test_the_mixed_run_is_summarised_asserted_and_compared_per_kind(mixed_run: MixedRun) -> None:
    """The run prints a row per kind; `summary --by kind`, `kind:VALUE.metric` assertions and `compare --by kind`
    read the mixed test's results (the pages' bodies without peerperf's fields); the verdict covers the browser
    host."""
    assert "evidence: 1 browser hosts, 2 of 2 pages alive" in mixed_run.output  # the run's own verdict
    table = mixed_run.output.split("by kind of peer", 1)[-1]
    assert re.search(r"^\W*browser\b", table, re.M) and re.search(r"^\W*python\b", table, re.M), table
    frame = load(mixed_run.folder)
    groups = summaries_by(frame, "kind")
    assert list(groups) == [BROWSER, PYTHON] and (groups[BROWSER]["peers"], groups[PYTHON]["peers"]) == (2, 2)
    assert float(groups[BROWSER]["throughput.received"]) > 0 and float(groups[BROWSER]["connections"]) >= 2
    thresholds = ["kind:browser.connections>=2", "kind:python.throughput.received>0", "kind:browser.peers==2"]
    outcomes = check(summary(frame), [parse(t) for t in thresholds], lambda column: summaries_by(frame, column))
    assert all(o.passed for o in outcomes), [o.message for o in outcomes]
    assert compare_groups(frame, "kind", resamples=100).names == [BROWSER, PYTHON]
    verdict = summary(frame, metadata=mixed_run.document["metadata"]).verdict
    assert any("1 browser hosts, 2 of 2 pages alive" in line for line in verdict.evidence), verdict.evidence
    assert "browserCpuMaxSharePercent" in verdict.figures, verdict.figures
