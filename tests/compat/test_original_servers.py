"""peerperf's run against the original system's own servers (`shared/original`, on Node.js): its Python
peers join the original lighthouse (`NO_AUTH=true`), connect and deliver to each other through it, and
the run submits to the original results server, which stores peerperf's datapoints, every field as
sent, and its final results; the run reads the finished test back from it. One real run serves both
(`python -m peerperf.run --lighthouse-url ... --results-url ...`, Ray, aiortc data channels).

The original client against peerperf's servers is tests/compat/test_original_clients.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pandas as pd
import pytest

from peerperf.analysis.results_files import load
from peerperf.analysis.summarise import summary
from peerperf.protocol.metrics import PYTHON
from tests.compat.original_servers import absent, original_lighthouse, original_results_server
from tests.runcli import Run

pytestmark = pytest.mark.nodejs
PEERS = 3
TEST_ID = "on-original-servers"


@dataclass
class Outcome:
    """What the run said and left: its output, its own copy of the test, and the original server's."""

    code: int
    output: str
    saved: Path
    stored: dict[str, Any]
    served: dict[str, Any]


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcome]:
    if reason := absent():
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("original-servers")
    with (
        original_lighthouse(folder / "lighthouse") as lighthouse,
        original_results_server(folder / "stored") as results,
    ):
        code, output = asyncio.run(_run(lighthouse, results, folder / "saved"))
        with urlopen(f"{results}/test/{TEST_ID}?dataPoints=true", timeout=30) as answer:  # its API
            served = json.load(answer)
    stored = json.loads((folder / "stored" / f"{TEST_ID}.json").read_text())  # its storage folder
    yield Outcome(code, output, folder / "saved", stored, served)


async def _run(lighthouse: str, results: str, saved: Path) -> tuple[int, str]:
    run = await Run.start(
        *("--peers", str(PEERS), "--duration", "8", "--test-id", TEST_ID, "--output", str(saved)),
        *("--lighthouse-url", lighthouse, "--results-url", results, "--topology-interval", "2"),
    )
    return await run.finish(), run.output


def peer_ids(outcome: Outcome) -> set[str]:
    return set(outcome.stored["results"])


def test_the_run_completes_on_the_original_servers(outcome: Outcome) -> None:
    assert outcome.code == 0, outcome.output[-3000:]
    assert f"done: test {TEST_ID}" in outcome.output
    # The original results server has no metadata route: said once, clearly, and the run goes on.
    assert "did not keep the run's metadata: PUT /test/" in outcome.output and "404" in outcome.output


def test_peers_join_the_original_lighthouse_and_connect(outcome: Outcome) -> None:
    """The original lighthouse's own topology (sampled by the run) lists every peer, linked to the others."""
    assert len(peer_ids(outcome)) == PEERS
    snapshots = [s["topology"] for s in outcome.stored["topologyDataPoints"]]
    assert snapshots, "the original lighthouse's topology was never sampled"
    full = [t for t in snapshots if {entry["id"] for entry in t} == peer_ids(outcome)]
    assert full, snapshots
    assert any(all(len(entry.get("connectedPeerIds") or []) == PEERS - 1 for entry in t) for t in full), full


def test_peers_deliver_to_each_other(outcome: Outcome) -> None:
    """Every peer delivered app messages of every subtype it was sent, and the verdict counts delivery."""
    frame = load(outcome.saved)
    delivered = frame.groupby("peerId")["deliveredBySubtype"].agg(
        lambda column: sum(dict(counts).get("position", 0) for counts in column)
    )
    assert set(delivered.index) == peer_ids(outcome) and (delivered > 0).all(), delivered
    assert float(summary(frame)["delivery"]) >= 0.95


def test_the_original_results_server_stores_peerperfs_datapoints(outcome: Outcome) -> None:
    stored = outcome.stored
    assert stored["id"] == TEST_ID and stored["started"] <= stored["finished"]
    points = stored["dataPoints"]
    assert {p["peerId"] for p in points} == peer_ids(outcome)
    assert min(pd.Series([p["peerId"] for p in points]).value_counts()) >= 3  # a datapoint per 2 s window
    for point in points:
        metrics = point["metrics"]
        assert metrics["kind"] == PYTHON and metrics["layer"] == "blue" and metrics["window"] >= 1, metrics
        assert isinstance(metrics["latencyPositionMs"], list) and len(metrics["position"]) == 3
        assert set(metrics["connectedPeers"]) <= peer_ids(outcome)
    assert all(r["sentTotal"] > 0 and r["originatedTotal"] > 0 for r in stored["results"].values())
    assert outcome.served["dataPoints"] == points  # its API answers what it keeps


def test_the_run_reads_the_finished_test_back_from_the_original_server(outcome: Outcome) -> None:
    saved = pd.read_parquet(outcome.saved / f"{TEST_ID}.parquet")
    assert len(saved) == len(outcome.stored["dataPoints"])
    assert set(saved["kind"]) == {PYTHON}
