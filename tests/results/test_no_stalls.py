"""The results service under load (issue 21, "no stalls"): a flush or a finish never holds the event loop
for long, so `GET /time` and every other request are answered meanwhile; a submission waits for the
disk only at the bound (`flush_rows`) and then only for its own datapoints; flushing starts before it.

The time bounds are on structure, not speed: a whole flush converted in one call holding the GIL (what
stalled the gateway) takes seconds here, a slice of it milliseconds; `LAG_BOUND` sits between them
with room for a loaded 2-core machine.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pandas as pd
import pytest

from peerperf.httpserver import serving
from peerperf.results import ResultsService, ResultsSettings, create_app
from peerperf.results.datapoints import from_rows
from peerperf.results.model import Submission
from peerperf.results.parts import DatapointLog
from tests.peer.conftest import eventually
from tests.results.conftest import metrics_body

#: Longest the event loop may go unanswered while a big flush or finish runs (seconds).
LAG_BOUND = 0.2
#: Datapoints in the big flush / finish: before the change, converting them held the GIL for seconds.
BIG = 60_000
BATCH = 5_000


@asynccontextmanager
async def loop_lag() -> AsyncIterator[list[float]]:
    """The event loop's lateness, sampled every millisecond while the block runs (a list, filled as it goes)."""
    lags: list[float] = []

    async def probe() -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append(time.perf_counter() - start - 0.001)

    task = asyncio.create_task(probe())
    await asyncio.sleep(0.01)  # running before the block starts
    try:
        yield lags
    finally:
        task.cancel()


async def fill(service: ResultsService, test_id: str, rows: int, body: dict[str, Any], flush: bool) -> None:
    """`rows` datapoints (no window: none is taken for a copy), a batch at a time, flushed after each when asked."""
    batch = [Submission(f"peer-{n % 100}", body) for n in range(BATCH)]
    for _ in range(rows // BATCH):
        assert (await service.submit_batch(test_id, batch)).accepted == BATCH
        if flush:
            await service.flush(test_id)


def stored_rows(folder: Path, test_id: str) -> int:
    return sum(len(pd.read_parquet(p)) for p in (folder / ".peerperf" / f"{test_id}.parts").glob("part-*.parquet"))


def unbounded(tmp_path: Path, **settings: Any) -> ResultsSettings:
    """Settings under which only the test decides when to flush."""
    base: dict[str, Any] = {"flush_rows": 10**6, "max_buffered_rows": 10**6, "flush_interval": 3600}
    return ResultsSettings(location=str(tmp_path), **(base | settings))


async def test_a_big_flush_never_holds_the_event_loop_long(tmp_path: Path) -> None:
    service = ResultsService(unbounded(tmp_path))
    await service.create_test("big", started=True)
    await fill(service, "big", BIG, {"position": [1.5, 0, -2]}, flush=False)
    async with loop_lag() as lags:
        await service.flush("big")
    assert stored_rows(tmp_path, "big") == BIG
    assert len(lags) > 10 and max(lags) < LAG_BOUND, f"the loop waited {max(lags):.3f} s during the flush"


def count_conversions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Rows any module of the results service reads back from Arrow into Python (`from_rows`), as it goes."""
    rows: list[int] = []

    def counted(batch: list[dict[str, Any]]) -> Iterator[Any]:
        rows.append(len(batch))
        return from_rows(batch)

    for name, module in list(sys.modules.items()):
        if name.startswith("peerperf.results") and getattr(module, "from_rows", None) is from_rows:
            monkeypatch.setattr(module, "from_rows", counted)
    return rows


async def test_finishing_converts_no_datapoint_again_and_time_is_answered_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, finishing read every datapoint back from Parquet into Python and wrote it out with `json`
    (0.1-0.2 ms each, seconds of a worker thread for a big test); now the document is the text each flush
    wrote, copied."""
    service = ResultsService(unbounded(tmp_path))
    async with serving(create_app(service), "127.0.0.1", 0) as port, aiohttp.ClientSession() as http:
        await service.create_test("big", started=True)
        await fill(service, "big", BIG, metrics_body(3), flush=True)
        conversions = count_conversions(monkeypatch)
        finishing = asyncio.create_task(service.finish_test("big"))
        round_trips = []
        while not finishing.done():
            start = time.perf_counter()
            async with http.get(f"http://127.0.0.1:{port}/time") as resp:
                assert resp.status == 200 and (await resp.json())["now"] > 0
            round_trips.append(time.perf_counter() - start)
            await asyncio.sleep(0.005)
        await finishing
    assert sum(conversions) == 0, f"finishing converted {sum(conversions)} datapoints back from Parquet"
    document = json.loads((tmp_path / "big.json").read_text())
    assert len(document["dataPoints"]) == BIG and document["dataPoints"][-1]["metrics"]["sentTotal"] == 3
    assert len(pd.read_parquet(tmp_path / "big.parquet", columns=["peerId"])) == BIG
    assert round_trips and max(round_trips) < LAG_BOUND, f"GET /time took {max(round_trips):.3f} s while finishing"


async def test_flushing_starts_at_half_the_bound_without_waiting_for_the_interval(tmp_path: Path) -> None:
    service = ResultsService(unbounded(tmp_path, flush_rows=10))
    async with serving(create_app(service), "127.0.0.1", 0) as port, aiohttp.ClientSession() as http:
        await service.create_test("early", started=True)
        for n in range(5):
            async with http.put(f"http://127.0.0.1:{port}/test/early/peer/p{n}/metrics", json=metrics_body(n)) as resp:
                assert resp.status == 200
        await eventually(lambda: stored_rows(tmp_path, "early") == 5, "the flusher wrote the 5 datapoints", 20)


class GatedWrites:
    """Each datapoint write waits until the test opens its gate: flushes made as slow as a busy disk."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.gates = [threading.Event() for _ in range(8)]
        self.started = 0
        write = DatapointLog.write

        def gated(log: DatapointLog, points: list[Any]) -> None:
            gate = self.gates[self.started]
            self.started += 1
            assert gate.wait(30), "a gate the test never opened"
            write(log, points)

        monkeypatch.setattr(DatapointLog, "write", gated)

    def open(self, number: int) -> None:
        self.gates[number].set()

    def open_all(self) -> None:
        for gate in self.gates:
            gate.set()


async def test_a_submission_at_the_bound_waits_for_its_own_datapoints_not_later_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: each waiting submission ran a flush of its own in turn, so one that was already on disk still
    waited for the flushes of datapoints that arrived after it (under wrk: a second and more)."""
    gates = GatedWrites(monkeypatch)
    service = ResultsService(unbounded(tmp_path, flush_rows=2))
    await service.create_test("t", started=True)

    def submit(n: int) -> asyncio.Task[Any]:
        return asyncio.create_task(service.submit_one("t", f"peer-{n}", metrics_body(n)))

    def writes(count: int) -> Callable[[], bool]:
        return lambda: gates.started == count

    try:
        first = [submit(0), submit(1)]  # the second reaches the bound: the first flush starts, and sticks
        await eventually(writes(1), "the first flush started")
        waiting = [submit(n) for n in range(2, 6)]  # at the bound too: they queue behind it
        await asyncio.sleep(0.05)
        gates.open(0)
        await asyncio.gather(*first)
        await eventually(writes(2), "a second flush took the four that waited")
        late = submit(6)  # arrives while their flush is on its way
        await asyncio.sleep(0.05)
        gates.open(1)
        done, _ = await asyncio.wait(waiting, timeout=10)  # on disk now: answered, whatever came after them
        assert done == set(waiting), "submissions already on disk waited for a later flush"
        assert not late.done()
        gates.open_all()
        await late
    finally:
        gates.open_all()
    assert stored_rows(tmp_path, "t") == 7


async def test_with_flush_rows_1_every_answer_means_on_disk(tmp_path: Path) -> None:
    service = ResultsService(unbounded(tmp_path, flush_rows=1))
    await service.create_test("durable", started=True)
    for n in range(3):
        await service.submit_one("durable", f"peer-{n}", metrics_body(n))
        assert stored_rows(tmp_path, "durable") == n + 1
