"""Append-only JSON lines for the small records of a test: topology snapshots and peers' final results.

Records are buffered between flushes like datapoints. A flush appends whole lines in one write; a
crash can at worst tear the last line, which is cut off when the log is reopened, so what was
flushed before survives and later appends stay readable.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class RecordLog:
    """JSON objects on disk, one per line, plus those buffered since the last flush."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.buffer: list[dict[str, Any]] = []
        self._cut_torn_tail()

    def _cut_torn_tail(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
            log.warning("%s: dropping a torn last record (%d bytes)", self.path, len(data) - keep)
            with self.path.open("r+b") as out:
                out.truncate(keep)

    def write(self, records: list[dict[str, Any]]) -> None:
        """Append `records` (blocking, meant for a worker thread)."""
        if not records:
            return
        text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(text)

    def stored_size(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def iter_stored(self, upto: int | None = None) -> Iterator[dict[str, Any]]:
        """Flushed records in order, those in the first `upto` bytes only when given (blocking I/O)."""
        if not self.path.exists():
            return
        with self.path.open("rb") as source:
            data = source.read() if upto is None else source.read(upto)
        for line in data.splitlines():
            if line.strip():
                yield json.loads(line)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
