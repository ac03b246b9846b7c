"""What every answer to generated input must be, and how much input a run generates (counted, not assumed)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings

#: Inputs each fuzz test asks for, by budget: hypothesis's `max_examples`, an upper bound only.
BUDGET = {
    "results API": 1200,
    "lighthouse API": 800,
    "signaling frames": 4000,
    "protobuf packets": 2500,
    "metrics bodies": 1500,
}
#: The share of what it asked that a fuzz test must really generate, or it fails (the HTTP fuzzers may
#: see schemathesis reject a few generated cases before they are sent).
FLOOR = {"results API": 0.9, "lighthouse API": 0.9}
#: Inputs really generated in this session, by budget (tests/fuzz/conftest.py prints them at the end).
GENERATED: Counter[str] = Counter()


def record(budget: str, generated: int, asked: int) -> None:
    """Count a fuzz test's real inputs; fail it when hypothesis stopped short of what it asked."""
    GENERATED[budget] += generated
    assert generated >= FLOOR.get(budget, 1.0) * asked, f"{budget}: {generated} inputs generated, {asked} asked"


def fuzzed(budget: str, share: float = 1.0) -> Callable[[Callable[..., None]], Callable[[], None]]:
    """Run a `@given` test on `share` of `budget`'s inputs and count the inputs it really ran on."""
    asked = int(BUDGET[budget] * share)

    def decorate(test: Callable[..., None]) -> Callable[[], None]:
        configured: Any = settings(
            max_examples=asked, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )(test)
        inner = configured.hypothesis.inner_test
        calls = 0

        def counted(*args: Any, **kwargs: Any) -> None:
            nonlocal calls
            calls += 1
            inner(*args, **kwargs)

        configured.hypothesis.inner_test = counted  # hypothesis's documented hook around each example

        def run() -> None:
            nonlocal calls
            calls = 0
            configured()
            record(budget, calls, asked)

        run.__doc__ = test.__doc__
        return run

    return decorate


def assert_clean_answer(status: int, content_type: str, body: Any, what: str) -> None:
    """Never a 5xx; an error is 4xx JSON `{"status": code, ...}` saying what was wrong."""
    assert status < 500, f"{what}: {status} {body!r}"
    if status >= 400:
        assert content_type == "application/json", f"{what}: {status} error as {content_type}"
        assert isinstance(body, dict) and isinstance(body.get("status"), str), f"{what}: {status} {body!r}"
