"""The results data model: a test's lifecycle state and one datapoint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from peerperf.errors import RequestError


@dataclass(frozen=True)
class TestInfo:
    """Lifecycle of one test; times are server wall-clock milliseconds."""

    __test__ = False  # not a pytest class

    id: str
    started: int | None = None
    finished: int | None = None

    @property
    def ongoing(self) -> bool:
        return self.started is not None and self.finished is None

    def to_json(self) -> dict[str, Any]:
        """`{id, started?, finished?}`; unset times are omitted as the original's JSON did."""
        out: dict[str, Any] = {"id": self.id}
        if self.started is not None:
            out["started"] = self.started
        if self.finished is not None:
            out["finished"] = self.finished
        return out

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> TestInfo:
        return cls(str(obj["id"]), obj.get("started"), obj.get("finished"))

    def require_ongoing(self) -> None:
        """The original's `validateTestOngoing`: 400 unless started and not finished."""
        if self.finished is not None:
            raise RequestError(400, "test-already-finished", f"test {self.id} has finished")
        if self.started is None:
            raise RequestError(400, "test-not-started", f"test {self.id} has not started")


@dataclass(frozen=True)
class DataPoint:
    """One peer's metrics for one stats interval, stamped with the server's receive time."""

    peer_id: str
    timestamp: int
    metrics: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"peerId": self.peer_id, "timestamp": self.timestamp, "metrics": self.metrics}


def not_found(test_id: str) -> RequestError:
    return RequestError(404, "test-not-found", f"no test with id {test_id!r}")
