"""The README's quick start stays true: CI runs its test command verbatim."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT


def quick_start_commands() -> list[str]:
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "the quick start needs a bash block"
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


def test_quick_start_has_exactly_two_commands() -> None:
    assert len(quick_start_commands()) == 2


def test_ci_runs_the_readme_test_command() -> None:
    test_command = quick_start_commands()[1]
    assert "pytest" in test_command
    ci_lines = (REPO_ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci_lines
