"""A datapoint resent after a lost answer is stored once, also by a results service restarted mid-test."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from peerperf.results.model import Submission
from peerperf.results.seen_windows import MAX_TRACKED_WINDOW, SeenWindows
from peerperf.results.service import ResultsService
from peerperf.results.settings import ResultsSettings
from tests.results.conftest import metrics_body


def test_a_window_is_new_once_per_peer() -> None:
    seen = SeenWindows()
    assert seen.first_arrival("a", 1) and seen.first_arrival("a", 9000) and seen.first_arrival("b", 1)
    assert not seen.first_arrival("a", 1) and not seen.first_arrival("a", 9000)
    assert seen.first_arrival("a", 2) and seen.first_arrival("a", 8999) and seen.first_arrival("a", 0)


def test_datapoints_without_a_usable_window_are_never_taken_for_copies() -> None:
    seen = SeenWindows()
    for window in (None, "3", 2.0, True, -1, MAX_TRACKED_WINDOW):  # the original client sends no window
        assert seen.first_arrival("a", window) and seen.first_arrival("a", window), window


def _service(folder: Path) -> ResultsService:
    return ResultsService(ResultsSettings(location=str(folder)))


def _window(peer: str, n: int) -> Submission:
    return Submission(peer, metrics_body(n, window=n))


async def test_a_resent_batch_counts_as_accepted_and_is_stored_once(tmp_path: Path) -> None:
    service = _service(tmp_path)
    await service.create_test("t", started=True)
    assert (await service.submit_batch("t", [_window("p0", 1), _window("p1", 1)])).accepted == 2
    resent = await service.submit_batch("t", [_window("p0", 1), _window("p1", 1), _window("p0", 2)])
    assert resent.accepted == 3 and not resent.rejected  # the sender missed the first answer: nothing to retry
    await service.submit_one("t", "p1", metrics_body(2, window=2))
    await service.submit_one("t", "p1", metrics_body(2, window=2))
    for _ in range(2):  # the original client's datapoints carry no window: each one is kept
        await service.submit_one("t", "browser", metrics_body(7))
    await service.finish_test("t")
    stored = pd.read_parquet(tmp_path / "t.parquet")
    assert sorted(zip(stored.peerId, stored.window.fillna(0), strict=True)) == [
        ("browser", 0),
        ("browser", 0),
        ("p0", 1),
        ("p0", 2),
        ("p1", 1),
        ("p1", 2),
    ]


async def test_a_restarted_service_knows_the_windows_it_flushed_before(tmp_path: Path) -> None:
    first = _service(tmp_path)
    await first.create_test("t", started=True)
    await first.submit_batch("t", [_window("p0", 1), _window("p0", 2)])
    await first.flush("t")  # on disk; the answer to the host is what got lost, then the process died
    restarted = _service(tmp_path)
    result = await restarted.submit_batch("t", [_window("p0", 2), _window("p0", 3)])
    assert result.accepted == 2
    await restarted.finish_test("t")
    assert sorted(pd.read_parquet(tmp_path / "t.parquet").window) == [1, 2, 3]
