"""The README's quick start stays true: CI runs its test command verbatim."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT
from tests.prerequisites import MARKERS, TOOLS, packages


def quick_start_commands() -> list[str]:
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "the quick start needs a bash block"
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


def test_quick_start_has_exactly_two_commands() -> None:
    assert len(quick_start_commands()) == 2


def test_ci_runs_the_readme_test_command() -> None:
    """The README's command 2 is scripts/test, and CI runs exactly it, with lint first."""
    test_command = quick_start_commands()[1]
    assert test_command == "scripts/test"
    ci_lines = (REPO_ROOT / ".ci" / "run").read_text().splitlines()
    assert f"{test_command} --lint" in ci_lines
    script = (REPO_ROOT / "scripts" / "test").read_text()
    assert "exec .venv/bin/python -m pytest" in script and "tests.prerequisites --packages" in script


def test_the_quick_start_names_every_system_package_the_tests_use() -> None:
    section = (REPO_ROOT / "README.md").read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    for package in packages(TOOLS):
        assert f"`{package}`" in section, package
    for marker in MARKERS:
        assert f"`{marker}`" in section, marker
