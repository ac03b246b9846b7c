"""The fuzz tests' real input count, printed at the end of the session (docs/reliability.md quotes it)."""

from __future__ import annotations

import pytest

from tests.fuzz.checks import GENERATED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if GENERATED:
        parts = ", ".join(f"{budget} {count:,}" for budget, count in GENERATED.items())
        terminalreporter.write_line(f"fuzz: {sum(GENERATED.values()):,} generated inputs ({parts})")
