"""Every ```python example in docs/ runs, as a reader would paste it, against a real 4-peer run.

The run is the example in docs/api.md that calls `run(RunConfig(...))`: it runs first (once per module,
real Ray, lighthouse and WebRTC on loopback). Results paths in the docs are the default folder
`~/peer-performance-tests`, and a file in it is named `ID`, `BASELINE` or `CANDIDATE`; here the folder
is the run's temporary one and each such name is the run's test id. Each other example then runs in a
fresh namespace (one interpreter per docs file), so an example that leans on another's variables fails.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
#: The results folder the docs name (the results service's default location).
RESULTS = "~/peer-performance-tests"
#: A results file the docs name: all of them are the fixture's run here.
RESULTS_FILE = re.compile(re.escape(RESULTS) + r"/(?:ID|BASELINE|CANDIDATE)\.")
#: The run example: the one that runs a test.
RUNS_A_TEST = "from peerperf.run import run"
#: Each example in a fresh namespace; the first failure ends the process with its traceback.
RUNNER = """
import json, sys, traceback
for where, code in json.load(sys.stdin):
    print("--- " + where, flush=True)
    try:
        exec(compile(code, where, "exec"), {"__name__": "__main__"})
    except BaseException:
        traceback.print_exc()
        sys.exit(1)
"""
TIMEOUT = 240.0


@dataclass(frozen=True)
class Snippet:
    """One example: where it is (`docs/api.md:42`) and its code."""

    where: str
    code: str


@dataclass(frozen=True)
class DocsRun:
    """The run the api example made: its folder, test id and what the example printed."""

    folder: Path
    test_id: str
    output: str


def snippets(path: Path) -> list[Snippet]:
    text, page = path.read_text(), path.relative_to(ROOT)
    return [Snippet(f"{page}:{text.count(chr(10), 0, m.start()) + 2}", m.group(1)) for m in FENCE.finditer(text)]


def pointed_at(code: str, folder: Path, test_id: str) -> str:
    """`code` with the docs' results paths pointing at the run's folder and test."""
    return RESULTS_FILE.sub(f"{folder}/{test_id}.", code).replace(RESULTS, str(folder))


def execute(examples: list[Snippet], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("RAY_ADDRESS", None)  # a local Ray, as tests/runcli.py
    return subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=json.dumps([(s.where, s.code) for s in examples]),
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


@pytest.fixture(scope="module")
def docs_run(tmp_path_factory: pytest.TempPathFactory) -> DocsRun:
    """The programmatic 4-peer run of docs/api.md, run as written (its results folder redirected)."""
    (example,) = [s for s in snippets(DOCS / "api.md") if RUNS_A_TEST in s.code]
    folder = tmp_path_factory.mktemp("docs-results")
    done = execute([Snippet(example.where, pointed_at(example.code, folder, "ID"))], folder)
    assert done.returncode == 0, done.stdout + done.stderr
    (parquet,) = [p for p in folder.glob("*.parquet") if p.name.count(".") == 1]
    return DocsRun(folder, parquet.stem, done.stdout)


def test_the_programmatic_run_returns_its_summary_outcomes_and_files(docs_run: DocsRun) -> None:
    out = docs_run.output
    code = int(re.search(rf"test {docs_run.test_id}: exit code (\d+)", out).group(1))  # type: ignore[union-attr]
    assert re.search(r"^delivery 0\.\d+|^delivery 1(\.0)? ", out, re.MULTILINE), out
    assert re.search(r"harness (healthy|bursts|saturated|faulty|unknown)$", out, re.MULTILINE), out
    assert len(re.findall(r"^(ok|FAILED) ", out, re.MULTILINE)) == 2, out  # one line per assertion
    # 0, or 3 on a machine too busy for a healthy harness; 1 only when an assertion failed.
    assert code in (0, 3) or (code == 1 and "FAILED" in out), out
    files = re.search(r"datapoints: (\S+) report: (\S+)", out)
    assert files is not None, out
    assert Path(files.group(1)) == docs_run.folder / f"{docs_run.test_id}.parquet"
    assert Path(files.group(2)).read_text().startswith("<!DOCTYPE html>")


def test_the_api_page_has_an_example_for_each_entry_point() -> None:
    code = "\n".join(s.code for s in snippets(DOCS / "api.md"))
    for name in ("RunConfig", "run(", "load(", "summary(", "check(", "compare(", "report(", "RoutinePeer"):
        assert name in code, f"docs/api.md shows no use of {name}"


@pytest.mark.parametrize("page", sorted(DOCS.glob("**/*.md")), ids=lambda p: str(p.relative_to(DOCS)))
def test_every_example_of_the_page_runs(page: Path, docs_run: DocsRun, tmp_path: Path) -> None:
    examples = [
        Snippet(s.where, pointed_at(s.code, docs_run.folder, docs_run.test_id))
        for s in snippets(page)
        if RUNS_A_TEST not in s.code
    ]
    done = execute(examples, tmp_path)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    assert done.stdout.count("--- docs/") == len(examples)
