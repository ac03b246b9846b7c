"""Smoke test of bench/data_path.py: all four meshes deliver, the fast and compiled ones through their
paths, the profile names functions, and perf's samples are grouped by library (bench/perf_shares.py)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from tests.bench.conftest import run_bench
from tests.conftest import REPO_ROOT


def test_stock_tuned_fast_and_compiled_meshes_are_measured_in_one_process(tmp_path: Path) -> None:
    document = run_bench(
        "data_path.py", tmp_path, "--peers", "2", "--rate", "30", "--seconds", "0.5", "--windows", "1", "--profile"
    )
    summary = document["results"]["summary"]
    assert [row["variant"] for row in summary] == ["stock", "tuned", "fast", "compiled"] and summary[0]["ratio"] == 1.0
    runs = document["results"]["runs"]
    assert all(run["delivered"] > 0 for run in runs)
    assert all(run["fast_datagrams"] > 0 for run in runs if run["variant"] == "fast"), "the fast path never ran"
    assert all(run["compiled_packets"] > 0 for run in runs if run["variant"] == "compiled"), "compiled never ran"
    profile = document["results"]["profile"]
    assert any("fast_path.py" in entry["function"] for entry in profile["fast_top"])
    assert any("compiled_path.py" in entry["function"] for entry in profile["compiled_top"])
    assert set(profile["calls_per_message"]) == {"stock", "tuned", "fast", "compiled"}
    assert all(count > 10 for count in profile["calls_per_message"].values())
    assert document["parameters"]["load_average_before"]


def perf_shares() -> ModuleType:
    spec = importlib.util.spec_from_file_location("perf_shares", REPO_ROOT / "bench" / "perf_shares.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["perf_shares"] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def test_perf_samples_are_summed_by_library() -> None:
    report = """# Samples: 1K of event 'cpu-clock'
#
    61.97%  libpython3.11.so.1.0
    16.34%  [kernel.kallsyms]
     7.38%  _rust.abi3.so
     7.21%  loop.cpython-311-x86_64-linux-gnu.so
     4.32%  libc.so.6
     0.77%  _datapath.cpython-311-x86_64-linux-gnu.so
     0.71%  _asyncio.cpython-311-x86_64-linux-gnu.so
     0.60%  _cffi_backend.cpython-311-x86_64-linux-gnu.so
"""
    shares = perf_shares().grouped(report)
    assert shares == {
        "python interpreter": 62.0,
        "kernel": 16.3,
        "OpenSSL (cryptography's)": 7.4,
        "uvloop": 7.2,
        "peerperf C": 0.8,
        "libc": 4.3,
        "other": 1.3,
    }


def test_the_perf_option_samples_each_variant_or_says_perf_is_missing(tmp_path: Path) -> None:
    args = ("--peers", "2", "--rate", "30", "--seconds", "0.5", "--windows", "1", "--perf")
    if shutil.which("perf") is None:  # a machine without Linux perf: a clear refusal, nothing measured
        command = [sys.executable, str(REPO_ROOT / "bench" / "data_path.py"), *args, "--json", str(tmp_path / "x.json")]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 2 and "Linux perf is not installed" in done.stderr
        assert not (tmp_path / "x.json").exists()
        return
    shares = run_bench("data_path.py", tmp_path, *args)["results"]["profile"]["cpu_share_by_library"]
    assert set(shares) == {"stock", "tuned", "fast", "compiled"}
    for variant, row in shares.items():
        assert 99 <= sum(row.values()) <= 101, (variant, row)
        assert row["python interpreter"] > 10, (variant, row)
    # Not asserted: peerperf's C above 0 in so short a window (CI17 sampled none of it); the grouping that
    # finds it is tested on fixed text above.
