"""What the relay did, as the run's live view and summary show it (no influxdb-client import: the driver reads it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RelayStats:
    """What the relay did so far; `not_relayed` is what InfluxDB will never get."""

    target: str
    #: Points InfluxDB stored.
    written: int = 0
    #: Of those, points stored only after one or more failed attempts.
    delayed: int = 0
    #: Points given up: the buffer overflowed, retries ran out, or the relay stopped with them pending.
    dropped: int = 0
    #: Points waiting in the buffer or in flight.
    pending: int = 0
    #: The last write error, if any.
    last_error: str = ""
    #: Unexpected failures of the relay's writer task (harness errors, logged with their traceback).
    errors: int = 0

    @property
    def not_relayed(self) -> int:
        return self.dropped + self.pending

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "written": self.written,
            "delayed": self.delayed,
            "dropped": self.dropped,
            "pending": self.pending,
            "lastError": self.last_error,
            "harnessErrors": self.errors,
        }
