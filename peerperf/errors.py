"""Exceptions shared across peerperf's layers; each names what went wrong for the user."""

from __future__ import annotations

from typing import Any


class PeerperfError(Exception):
    """Base class of every error peerperf raises on purpose."""


class ProtocolError(PeerperfError):
    """Bytes or a frame that do not follow the wire protocol."""


class ConfigError(PeerperfError):
    """A setting that cannot be used (wrong type, missing secret, bad combination)."""


class ResultsFileError(PeerperfError):
    """A results file or folder that cannot be read (here, not in `analysis.results_files`: the verdict raises it
    too, and the live verdict must not import pandas)."""


class RequestError(PeerperfError):
    """A refused request, answered over HTTP as `{"status": code, "message": ...}` JSON with an HTTP status."""

    def __init__(self, http_status: int, code: str, message: str | None = None) -> None:
        super().__init__(message or code)
        self.http_status = http_status
        self.code = code
        self.message = message

    @classmethod
    def from_answer(cls, http_status: int, answer: Any, request: str) -> RequestError:
        """The refusal a service answered to `request` (e.g. "GET /layers/blue"), from its parsed JSON body
        (`{"status": code, "message": ...}`, or anything else a foreign server sends, or None)."""
        body = answer if isinstance(answer, dict) else {}
        code = str(body.get("status", "error"))
        detail = body.get("message") or (str(answer) if answer is not None and not body else code)
        return cls(http_status, code, f"{request}: {http_status} {detail}")

    def to_json(self) -> dict[str, str]:
        body = {"status": self.code}
        if self.message:
            body["message"] = self.message
        return body


class PeerStateError(PeerperfError):
    """A peer asked to do something its state does not allow (send to a room it has not joined...)."""


class RunAborted(PeerperfError):
    """The run cannot go on (peers missing at the deadline, capacity, a finished test...)."""


class LighthouseUnavailable(PeerperfError):
    """The lighthouse could not be reached, refused the peer, or stayed away past every retry."""
