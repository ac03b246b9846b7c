"""Run a bench script with tiny sizes in a child process and read the JSON it wrote."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import REPO_ROOT


def run_bench(script: str, tmp_path: Path, *args: str, timeout: float = 240) -> dict[str, Any]:
    """`python bench/<script> ARGS --json tmp`; fails with the script's output if it fails."""
    out = tmp_path / f"{script}.json"
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / script), *args, "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    assert "x baseline" in done.stdout, f"{script} printed no table:\n{done.stdout}"
    document: dict[str, Any] = json.loads(out.read_text())
    assert document["machine"]["cpus"] >= 1 and document["machine"]["aiortc"]
    return document
