"""Record logs survive a write torn by a crash: the torn line is cut, earlier and later records stay."""

from __future__ import annotations

from pathlib import Path

from peerperf.results.record_log import RecordLog


def test_a_torn_last_line_is_cut_when_reopened(tmp_path: Path) -> None:
    path = tmp_path / "t.topology.jsonl"
    log = RecordLog(path)
    log.write([{"n": 1}, {"n": 2}])
    with path.open("a") as out:
        out.write('{"n": 3, "torn')  # the process died mid-write
    reopened = RecordLog(path)
    reopened.write([{"n": 4}])
    assert list(reopened.iter_stored()) == [{"n": 1}, {"n": 2}, {"n": 4}]
    size = reopened.stored_size()
    reopened.write([{"n": 5}])
    assert list(reopened.iter_stored(size)) == [{"n": 1}, {"n": 2}, {"n": 4}]  # a snapshot ignores later appends
