"""Every figure in bench/README.md's table comes from a committed command and the JSON it wrote, and every
results file the READMEs and docs/ cite exists: a row without its command, JSON, date or baseline fails here."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT

BENCH = REPO_ROOT / "bench"
RESULTS = BENCH / "results"
JSON_NAME = re.compile(r"([\w.-]+\.json)")
SCRIPT = re.compile(r"([a-z_]+\.py)((?: --[\w-]+(?: [^\s`]+)?)*)")
HEADER = ("figure", "measured", "same-run baseline", "ratio", "goal", "command", "written")


@dataclass(frozen=True)
class Row:
    """One row of the table, with what a row saying "as above" takes from the row before it."""

    cells: list[str]
    scripts: list[tuple[str, str]]
    jsons: list[str]
    written: str


def table_rows(text: str) -> list[Row]:
    """The rows of the figures table: the first table of the file (sections below it may hold tables of detail)."""
    all_lines = text.splitlines()
    start = next(i for i, line in enumerate(all_lines) if line.startswith("| "))
    end = next((i for i in range(start, len(all_lines)) if not all_lines[i].startswith("|")), len(all_lines))
    lines = [line for line in all_lines[start:end] if not line.startswith("|---")]
    header = [cell.strip() for cell in lines[0].strip().strip("|").split("|")]
    assert [cell.split()[0] for cell in header] == [name.split()[0] for name in HEADER], header
    rows: list[Row] = []
    for line in lines[1:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        assert len(cells) == len(header), f"a row with {len(cells)} cells: {line[:80]}"
        command, written = cells[5], cells[6]
        before = rows[-1] if rows else None
        inherit = "above" in command
        scripts = SCRIPT.findall(command) or (before.scripts if before and inherit else [])
        jsons = JSON_NAME.findall(command) or (before.jsons if before and inherit else [])
        rows.append(Row(cells, scripts, jsons, before.written if before and written == "as above" else written))
    return rows


def results(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((RESULTS / name).read_text())
    return document


ROWS = table_rows((BENCH / "README.md").read_text())


def test_the_table_has_rows() -> None:
    assert len(ROWS) >= 10


@pytest.mark.parametrize("row", ROWS, ids=[row.cells[0][:60] for row in ROWS])
def test_each_row_names_its_command_json_date_and_baseline(row: Row) -> None:
    assert row.scripts and all((BENCH / script).exists() for script, _ in row.scripts), row.cells[5]
    assert row.jsons and all((RESULTS / name).exists() for name in row.jsons), row.cells[5]
    assert row.cells[2], "a same-run baseline"
    for name in row.jsons:
        when = results(name)["machine"]["when_utc"]  # "YYYY-MM-DD HH:MM", written by bench/common.py
        day, clock = when.split()
        assert day in row.written and clock in row.written, f"{name} was written {when}, the row says {row.written}"


@pytest.mark.parametrize("row", ROWS, ids=[row.cells[0][:60] for row in ROWS])
def test_each_rows_command_is_the_one_its_json_records(row: Row) -> None:
    """Every flag the command gives and the JSON records as a parameter has the same value in both."""
    for script, flags in row.scripts:
        given = dict(re.findall(r"--([\w-]+)(?: ([^\s`-][^\s`]*))?", flags))
        for name in row.jsons:
            document = results(name)
            assert document["benchmark"] == script.removesuffix(".py"), f"{name} is not {script}'s"
            recorded = document["parameters"]
            for flag, value in given.items():
                key = flag.replace("-", "_")
                if key in recorded and value and key != "json":
                    assert _same(recorded[key], value), f"{name}: {flag} {value}, recorded {recorded[key]!r}"


def _same(recorded: Any, given: str) -> bool:
    if isinstance(recorded, int | float) and not isinstance(recorded, bool):
        return float(recorded) == float(given)
    if isinstance(recorded, list):  # a comma-separated flag, recorded as its items
        return [str(item) for item in recorded] == given.split(",")
    return str(recorded) == given


#: The pages that cite results: the README with its docs/ (read as one), and bench/README.md.
DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").rglob("*.md"))]


@pytest.mark.parametrize("readme", [DOCS, [BENCH / "README.md"]], ids=["docs", "bench"])
def test_every_results_file_the_readmes_cite_exists(readme: list[Path]) -> None:
    text = "\n".join(page.read_text() for page in readme)
    cited = set(re.findall(r"bench/results/([\w.-]+\.json)", text))
    if readme == [BENCH / "README.md"]:
        cited |= {name for row in ROWS for name in row.jsons}
    assert cited and all((RESULTS / name).exists() for name in cited), sorted(cited)
