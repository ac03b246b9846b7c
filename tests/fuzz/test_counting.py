"""The fuzz figure is counted: a fuzz test that generates less than it asked fails, and docs/reliability.md quotes
what the counting guarantees."""

from __future__ import annotations

import math
import re
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import REPO_ROOT
from tests.fuzz import checks


def test_hypothesis_stopping_short_of_its_budget_fails_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(checks.BUDGET, "two values", 50)
    monkeypatch.setattr(checks, "GENERATED", Counter())

    @checks.fuzzed("two values")
    @given(flag=st.booleans())  # two possible inputs: hypothesis stops once it has tried both
    def test(flag: bool) -> None:
        assert flag in (True, False)

    with pytest.raises(AssertionError, match="two values: 2 inputs generated, 50 asked"):
        test()
    assert checks.GENERATED == {"two values": 2}


def test_every_generated_input_is_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(checks.BUDGET, "integers", 40)
    monkeypatch.setattr(checks, "GENERATED", Counter())
    seen = []

    @checks.fuzzed("integers", 0.5)
    @given(value=st.integers())
    def test(value: int) -> None:
        seen.append(value)

    test()
    assert len(seen) == 20 and checks.GENERATED == {"integers": 20}


def test_the_docs_quote_the_count_a_passing_run_guarantees() -> None:
    guaranteed = sum(math.ceil(checks.FLOOR.get(name, 1.0) * asked) for name, asked in checks.BUDGET.items())
    reliability = (REPO_ROOT / "docs" / "reliability.md").read_text()
    sentence = re.search(r"\*\*Inputs fuzzed: ([\d,]+) per test run\*\*.*?at least ([\d,]+)", reliability, re.S)
    assert sentence, "docs/reliability.md states the fuzz count"
    assert int(sentence[2].replace(",", "")) == guaranteed
    assert int(sentence[1].replace(",", "")) <= sum(checks.BUDGET.values())
