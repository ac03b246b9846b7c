"""What else may watch a test's accepted records besides the Parquet files: the InfluxDB relay, the live page.

A sink is told synchronously, on the service's event loop, after a record is accepted; it must only
buffer (never block, never raise into the request that brought the record).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from peerperf.results.model import DataPoint


class ResultsSink(Protocol):
    def datapoints(self, test_id: str, points: Sequence[DataPoint]) -> None:
        """Datapoints of an ongoing test, as stored."""

    def event(self, test_id: str, name: str, at_ms: int, fields: dict[str, Any]) -> None:
        """A run event: `start`, `finish`, `peers_lost` (fields: what it is about)."""
