"""The results service away mid-test: peers queue their datapoints, retry, and the record has no gap.

The unit tests drive the `Outbox` with a simulated service and clock; the last test kills a real
results process (SIGKILL) during a real run (`--results-url`: local Ray, aiortc on loopback) and
restarts it on the same port and folder.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from peerperf.errors import RequestError
from peerperf.results.model import Submission
from peerperf.results.outbox import Outbox, Pending, RetryPolicy
from tests.runcli import Run
from tests.serviceprocess import start_service_process

DEADLINE = 30.0
#: How long the results service stays dead in the end-to-end test (the outage itself, not a wait).
OUTAGE = 6.0


class FlakyService:
    """Stores records unless it is `down`; can refuse one peer's records as bad input."""

    def __init__(self) -> None:
        self.down = False
        self.stored: list[str] = []
        self.attempts = 0
        self.refuse: set[str] = set()

    async def send(self, records: list[Pending]) -> list[RequestError | None]:
        self.attempts += 1
        outcomes: list[RequestError | None] = []
        for record in records:
            if self.down:
                outcomes.append(RequestError(503, "results-unreachable", "connection refused"))
            elif record.submission.peer_id in self.refuse:
                outcomes.append(RequestError(400, "invalid-metrics", "bad"))
            else:
                self.stored.append(record.path)
                outcomes.append(None)
        return outcomes


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def records(*names: str) -> list[Pending]:
    return [Pending(name, Submission("p1", {})) for name in names]


async def test_an_outage_queues_records_and_they_arrive_in_order_afterwards() -> None:
    service, clock = FlakyService(), Clock()
    outbox = Outbox(service.send, RetryPolicy(first_pause=1.0, max_pause=4.0), clock)
    assert (await outbox.deliver(records("w1"), 4)).accepted == 1
    service.down = True
    assert (await outbox.deliver(records("w2"), 4)).accepted == 0
    assert outbox.pending == 1 and service.attempts == 2
    clock.now = 0.5  # within the pause: queued without trying
    assert (await outbox.deliver(records("w3"), 4)).accepted == 0
    assert service.attempts == 2 and outbox.pending == 2
    clock.now = 1.0  # tried again and failed: the pause doubles
    await outbox.deliver(records("w4"), 4)
    assert service.attempts == 3
    clock.now = 2.9
    await outbox.deliver([], 4)
    assert service.attempts == 3
    service.down = False
    clock.now = 3.0
    result = await outbox.deliver(records("w5"), 2)  # sent in chunks of 2, oldest first
    assert result.accepted == 4 and result.rejected == []
    assert service.stored == ["w1", "w2", "w3", "w4", "w5"] and outbox.pending == 0
    assert outbox.failed_attempts == 2


async def test_the_pause_is_bounded() -> None:
    service, clock = FlakyService(), Clock()
    outbox = Outbox(service.send, RetryPolicy(first_pause=1.0, max_pause=3.0), clock)
    service.down = True
    tries = []
    for _ in range(40):  # one call per simulated 0.1 s for 4 s... and then some
        before = service.attempts
        await outbox.deliver([], 4) if outbox.pending else await outbox.deliver(records("w"), 4)
        if service.attempts > before:
            tries.append(clock.now)
        clock.now = round(clock.now + 0.5, 3)
    gaps = [b - a for a, b in itertools.pairwise(tries)]
    assert gaps[:2] == [1.0, 2.0] and max(gaps) == 3.0  # doubling, then capped


async def test_a_full_queue_drops_its_oldest_records_by_name_and_bad_records_are_not_retried() -> None:
    service, clock = FlakyService(), Clock()
    outbox = Outbox(service.send, RetryPolicy(first_pause=1.0, max_pending=3), clock)
    service.down = True
    await outbox.deliver(records("w1", "w2"), 4)
    result = await outbox.deliver(records("w3", "w4", "w5"), 4)
    assert len(result.rejected) == 2 and "w1 dropped" in result.rejected[0] and "w2 dropped" in result.rejected[1]
    assert outbox.dropped == 2 and outbox.pending == 3
    service.down = False
    service.refuse = {"bad"}
    clock.now = 1.0
    assert (await outbox.deliver([], 4)).accepted == 3
    result = await outbox.deliver([Pending("x", Submission("bad", {}))], 4)
    assert result.accepted == 0 and len(result.rejected) == 1 and "'bad'" in result.rejected[0]
    assert outbox.pending == 0 and service.stored == ["w3", "w4", "w5"]


async def test_drain_gives_up_after_its_timeout_and_names_what_is_lost() -> None:
    service = FlakyService()
    outbox = Outbox(service.send, RetryPolicy(first_pause=0.01, max_pause=0.05, drain_timeout=0.3))
    service.down = True
    await outbox.deliver(records("w1", "w2"), 4)
    began = time.monotonic()
    result = await outbox.drain(4)
    assert time.monotonic() - began < 5.0 and service.attempts >= 3
    assert result.accepted == 0 and len(result.rejected) == 2 and "undelivered after 0.3 s" in result.rejected[0]
    assert outbox.pending == 0


async def test_drain_delivers_once_the_service_is_back() -> None:
    service = FlakyService()
    outbox = Outbox(service.send, RetryPolicy(first_pause=0.05, max_pause=0.05, drain_timeout=DEADLINE))
    service.down = True
    await outbox.deliver(records("w1", "w2"), 4)

    async def come_back() -> None:
        while service.attempts < 3:  # it tried (and failed) a few times first
            await asyncio.sleep(0.01)
        service.down = False

    back = asyncio.create_task(come_back())
    result = await outbox.drain(4)
    await back
    assert result.accepted == 2 and service.stored == ["w1", "w2"]


async def start_service(folder: Path, port: int = 0) -> tuple[asyncio.subprocess.Process, int]:
    """`python -m peerperf.results` in its own process; every acknowledged datapoint is on disk (FLUSH_ROWS=1)."""
    env = {
        "RESULTS_PORT": str(port),
        "RESULTS_HOST": "127.0.0.1",
        "TEST_RESULTS_LOCATION": str(folder),
        "FLUSH_ROWS": "1",
        "FLUSH_INTERVAL": "0.2",
    }
    return await start_service_process("peerperf.results", env)


def stored_datapoints(folder: Path) -> int:
    return sum(1 for _ in folder.glob(".peerperf/*.parts/part-*.parquet"))


async def test_a_results_service_killed_mid_run_loses_no_window(tmp_path: Path) -> None:
    folder, local = tmp_path / "service", tmp_path / "local"
    proc, port = await start_service(folder)
    base = f"http://127.0.0.1:{port}"
    run = await Run.start(
        *("--peers", "4", "--peers-per-actor", "2", "--duration", "24", "--stats-interval", "1000"),
        *("--results-url", base, "--output", str(local), "--seed", "5", "--ping-interval", "off"),
    )
    try:
        deadline = time.monotonic() + 180
        while stored_datapoints(folder) < 12:  # running: three windows of every peer are in
            assert time.monotonic() < deadline and run.proc.returncode is None, run.output
            await asyncio.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        killed_at = time.time() * 1000
        await asyncio.sleep(OUTAGE)  # the outage: windows closing now find no service
        proc, _ = await start_service(folder, port)
        code = await run.finish()
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            await proc.wait()
    assert code == 0, run.output
    document = json.loads(next(folder.glob("*.json")).read_text())
    points = document["dataPoints"]
    windows: dict[str, list[int]] = {}
    hosts: dict[str, set[str]] = {}
    for point in points:
        windows.setdefault(point["peerId"], []).append(point["metrics"]["window"])
        hosts.setdefault(point["metrics"]["hostId"], set()).add(point["peerId"])
    assert len(windows) == 4 and len(hosts) == 2
    # Datapoints in == datapoints out: every datapoint a host was told was stored is in the record once.
    metadata = document["metadata"]
    assert metadata["rejectedDatapoints"] == 0
    assert sum(len(set(w)) for w in windows.values()) == metadata["acceptedDatapoints"]
    # The peers of one host have the same windows (a host late on a busy machine merges two windows
    # into the next datapoint, for all its peers at once; a lost datapoint would be one peer's hole).
    for peers in hosts.values():
        assert len({frozenset(windows[p]) for p in peers}) == 1, {p: sorted(windows[p]) for p in peers}
    # A PUT whose answer the kill cut off is sent again: at most one copy per in-flight request.
    copies = sum(n - 1 for w in windows.values() for n in Counter(w).values())
    assert copies <= 4
    # The outage really happened: windows that closed while the service was dead were stored after it came back.
    closed_while_dead = [
        p
        for p in points
        if killed_at + 500 < document["started"] + p["metrics"]["window"] * 1000 < killed_at + OUTAGE * 1000 - 500
    ]
    assert len(closed_while_dead) >= 4 * 3, "the outage did not cover three windows of every peer"
    assert all(p["timestamp"] >= killed_at + OUTAGE * 1000 for p in closed_while_dead)
    assert set(document["results"]) == set(windows)
    assert len(pd.read_parquet(local / f"{document['id']}.parquet")) == len(points)
