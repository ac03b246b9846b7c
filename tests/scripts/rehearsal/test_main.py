"""The command line: root required, bad input refused with a clear word, `down` safe to repeat."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from scripts.rehearsal.__main__ import main
from tests.conftest import REPO_ROOT


def test_without_root_it_says_so_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert main(["status"]) == 2
    assert "needs root" in capsys.readouterr().err


@pytest.mark.root  # the commands past the root check
@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["down", "../etc"], "not a rehearsal: '../etc'"),
        (["exec", "ppr0a1b2c", "--", "true"], "no rehearsal ppr0a1b2c on this machine"),
        (["up", "--peer-nodes", "0"], "at least one peer node"),
        (["up", "--subnet", "8.8.8.0/24"], "not a private subnet"),
    ],
)
def test_bad_input_is_refused_with_a_reason(argv: list[str], error: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 1
    assert error in capsys.readouterr().err


@pytest.mark.root  # the commands past the root check
def test_the_script_runs_from_any_folder_and_down_of_a_gone_rehearsal_is_fine(tmp_path: Path) -> None:
    script = REPO_ROOT / "scripts" / "rehearse-cluster"
    (tmp_path / "scripts").mkdir()  # a `scripts` of another project must not shadow ours
    done = subprocess.run([script, "down", "ppr0a1b2c"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ppr0a1b2c: nothing left to take down"
