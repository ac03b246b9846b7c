"""Where a test's files live: the original's `{id}.json` and peerperf's Parquet in the results folder,
working state in a hidden subfolder so scripts that read `*.json` in the folder see only results."""

from __future__ import annotations

from pathlib import Path

from peerperf.errors import RequestError
from peerperf.protocol.ids import is_valid_test_id
from peerperf.results.storage import check_writable

#: The hidden subfolder of working state (lifecycle, unmerged Parquet parts, logs of an ongoing test).
WORK_DIR = ".peerperf"


class ResultsFolder:
    """Every path of every test, built only from validated ids."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.work = root / WORK_DIR
        check_writable(self.work)  # a full or read-only folder is refused here, before any test

    def check(self, test_id: str) -> str:
        """`test_id` when it cannot leave the folder, else 400 `invalid-test-id`."""
        if not isinstance(test_id, str) or not is_valid_test_id(test_id):
            shown = repr(test_id)[:80]
            raise RequestError(400, "invalid-test-id", f"test ids are 1-128 letters, digits, '-' or '_'; got {shown}")
        return test_id

    def result(self, test_id: str, suffix: str) -> Path:
        """A finished test's file: `.json` (the original's), `.parquet`, `.topology.parquet`, `.results.parquet`."""
        return self.root / f"{self.check(test_id)}{suffix}"

    def working(self, test_id: str, suffix: str) -> Path:
        """Working state: `.state.json`, `.parts/` (Parquet parts), `.topology.jsonl`, `.results.jsonl`."""
        return self.work / f"{self.check(test_id)}{suffix}"
