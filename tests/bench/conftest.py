"""Run a bench script with tiny sizes in a child process and read the JSON it wrote.

The two longest smoke runs whose assertions are structural (files, counts, statuses; nothing timed, no
verdict required) start in the background when the first bench test starts and overlap the others: about a
minute of CI. (verdict_stability's is not one: it compares two runs' verdicts, which load can change.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT

#: Smoke runs started early, with their arguments; `early_bench(script)` waits for one and reads it.
EARLY: dict[str, tuple[str, ...]] = {
    "soak.py": ("--duration", "30", "--churn-every", "8", "--sample-every", "2"),
    "largest_run.py": ("--peers", "2,3", "--hosts", "1", "--duration", "8", "--keep-going"),
}
EARLY_TIMEOUT = 600.0


@dataclass
class Started:
    """A bench script running in the background: its process, JSON file and output log."""

    script: str
    proc: subprocess.Popen[str]
    out: Path
    log: Path


_early: dict[str, Started] = {}


def _command(script: str, args: tuple[str, ...], out: Path) -> list[str]:
    return [sys.executable, str(REPO_ROOT / "bench" / script), *args, "--json", str(out)]


def _document(script: str, code: int, output: str, out: Path) -> dict[str, Any]:
    assert code == 0, f"{script} failed:\n{output[-6000:]}"
    assert "x baseline" in output, f"{script} printed no table:\n{output}"
    document: dict[str, Any] = json.loads(out.read_text())
    assert document["machine"]["cpus"] >= 1 and document["machine"]["aiortc"]
    return document


def run_bench(script: str, tmp_path: Path, *args: str, timeout: float = 240) -> dict[str, Any]:
    """`python bench/<script> ARGS --json tmp`; fails with the script's output if it fails."""
    out = tmp_path / f"{script}.json"
    done = subprocess.run(_command(script, args, out), capture_output=True, text=True, timeout=timeout, check=False)
    return _document(script, done.returncode, done.stdout + done.stderr, out)


@pytest.fixture(scope="session", autouse=True)
def early_benches(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Start the `EARLY` runs whose tests were collected (`test_<script>`); kill any left at the end."""
    collected = {Path(item.path).name for item in request.session.items}
    folder = tmp_path_factory.mktemp("early-bench")
    for script, args in EARLY.items():
        if f"test_{script}" in collected:
            out, log = folder / f"{script}.json", folder / f"{script}.log"
            with log.open("w") as sink:
                proc = subprocess.Popen(_command(script, args, out), stdout=sink, stderr=subprocess.STDOUT, text=True)
            _early[script] = Started(script, proc, out, log)
    yield
    for started in _early.values():
        if started.proc.poll() is None:
            started.proc.kill()
            started.proc.wait()


def early_bench(script: str) -> dict[str, Any]:
    """The document of `script`'s early run (`EARLY`), once it has finished."""
    started = _early[script]
    code = started.proc.wait(timeout=EARLY_TIMEOUT)
    return _document(script, code, started.log.read_text(), started.out)
