"""The results data model: a test's lifecycle state, one datapoint, one topology snapshot, one peer's results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from peerperf.errors import RequestError


@dataclass(frozen=True)
class TestInfo:
    """Lifecycle of one test; times are server wall-clock milliseconds."""

    __test__ = False  # not a pytest class

    id: str
    started: int | None = None
    finished: int | None = None
    #: Free-form facts about the test (the run's settings), merged in by `PUT /test/{id}/metadata`.
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def ongoing(self) -> bool:
        return self.started is not None and self.finished is None

    def to_json(self) -> dict[str, Any]:
        """`{id, started?, finished?, metadata}`; unset times are omitted as the original's JSON did."""
        out: dict[str, Any] = {"id": self.id}
        if self.started is not None:
            out["started"] = self.started
        if self.finished is not None:
            out["finished"] = self.finished
        out["metadata"] = self.metadata
        return out

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> TestInfo:
        metadata = obj.get("metadata")
        return cls(
            str(obj["id"]), obj.get("started"), obj.get("finished"), metadata if isinstance(metadata, dict) else {}
        )

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


@dataclass(frozen=True)
class TopologyPoint:
    """One topology snapshot (any JSON, the lighthouse's `/topology` format when peerperf sampled it)."""

    timestamp: int
    topology: Any

    def to_json(self) -> dict[str, Any]:
        return {"timestamp": self.timestamp, "topology": self.topology}


@dataclass(frozen=True)
class PeerResults:
    """A peer's final results: its body with the server's receive time, as the original stored them."""

    peer_id: str
    timestamp: int
    body: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """`{...body, timestamp}`: the original's `results[peerId]` entry."""
        return {**self.body, "timestamp": self.timestamp}


def not_found(test_id: str) -> RequestError:
    return RequestError(404, "test-not-found", f"no test with id {test_id!r}")


@dataclass(frozen=True)
class Submission:
    """One datapoint (or one peer's final results) as submitted: the peer and its raw body."""

    peer_id: str
    metrics: Any


@dataclass(frozen=True)
class BatchResult:
    """What a batch submission did: how many were stored and why the others were refused."""

    accepted: int
    rejected: list[str] = field(default_factory=list)
