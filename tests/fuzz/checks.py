"""What every answer to generated input must be, and how much input a CI run generates."""

from __future__ import annotations

from typing import Any

#: Generated requests/frames per CI run, by test (their sum is the figure the README quotes).
BUDGET = {
    "results API": 1200,
    "lighthouse API": 800,
    "signaling frames": 4000,
    "protobuf packets": 2500,
    "metrics bodies": 1500,
}


def assert_clean_answer(status: int, content_type: str, body: Any, what: str) -> None:
    """Never a 5xx; an error is 4xx JSON `{"status": code, ...}` saying what was wrong."""
    assert status < 500, f"{what}: {status} {body!r}"
    if status >= 400:
        assert content_type == "application/json", f"{what}: {status} error as {content_type}"
        assert isinstance(body, dict) and isinstance(body.get("status"), str), f"{what}: {status} {body!r}"


def test_a_ci_run_generates_at_least_ten_thousand_inputs() -> None:
    assert sum(BUDGET.values()) >= 10_000
