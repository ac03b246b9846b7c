"""What installing peerperf puts into site-packages, and the checkout's import paths."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_holds_routines_and_analysis_inside_peerperf_only(tmp_path: Path) -> None:
    subprocess.run(
        # Offline: this venv's setuptools builds it (no isolated build env fetched from an index).
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
        timeout=600,
    )
    (wheel,) = tmp_path.glob("peerperf-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    distribution = "-".join(wheel.name.split("-")[:2])  # name-version; the rest is the (platform) tag
    assert {name.split("/")[0] for name in names} == {"peerperf", distribution + ".dist-info"}
    assert any(name.startswith("peerperf/peer/_datapath.") and name.endswith(".so") for name in names), (
        "the compiled data path's C extension was not built into the wheel (setup.py: a C compiler and headers?)"
    )
    for shipped in (
        "peerperf/py.typed",
        "peerperf/peer/_datapath.pyi",
        "peerperf/routines/default.py",
        "peerperf/analysis/summarise.py",
        "peerperf/sizing/data/default_calibration.json",  # what `peerperf plan` uses without --calibration
    ):
        assert shipped in names
    sources = {path.name for path in (ROOT / "analysis").glob("*.py")}
    assert {name.rpartition("/")[2] for name in names if name.startswith("peerperf/analysis/")} == sources


def test_analysis_and_routines_have_one_name_each_outside_the_checkout(tmp_path: Path) -> None:
    """The package-dir mapping alone (no symlinks) serves the install: `peerperf.analysis` resolves to the
    sources at the top, and no top-level `analysis` exists to make a second `verdict.Status` class."""
    code = (
        "import importlib.util, sys\n"
        "import peerperf.analysis.verdict, peerperf.routines.roam\n"
        "print(peerperf.analysis.verdict.__file__)\n"
        "print(peerperf.routines.roam.__file__)\n"
        "print([name for name in ('analysis', 'routines') if importlib.util.find_spec(name) is not None])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    verdict, roam, top_level = out.stdout.splitlines()
    assert Path(verdict) == ROOT / "analysis" / "verdict.py" and Path(roam) == ROOT / "routines" / "roam.py"
    assert top_level == "[]"
    failed = subprocess.run([sys.executable, "-c", "import analysis"], cwd=tmp_path, capture_output=True, text=True)
    assert failed.returncode != 0 and "No module named 'analysis'" in failed.stderr


def test_the_package_holds_no_symlinks() -> None:
    """Symlinks break on checkouts without them (and gave one file two module names): the mapping replaces them."""
    assert [path for path in (ROOT / "peerperf").rglob("*") if path.is_symlink()] == []


def test_the_run_cli_parses_its_arguments_without_pandas() -> None:
    code = (
        "import sys\n"
        "from peerperf.run import parse\n"
        "parse(['--peers', '3', '--assert', 'delivery>=0.99'])\n"
        "print(sorted(m for m in ('pandas', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out
