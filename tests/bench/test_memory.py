"""Smoke test of bench/memory.py: USS of the idle worker, the peer-host actor and a packed peer."""

from __future__ import annotations

from pathlib import Path

from tests.bench.conftest import run_bench


def test_memory_figures_are_measured_on_real_actors(tmp_path: Path) -> None:
    document = run_bench("memory.py", tmp_path, "--packed", "3", "--rounds", "1")
    (run,) = document["results"]["runs"]
    assert run["idle_worker_mb"] > 1 and run["peer_host_actor_mb"] > run["idle_worker_mb"]
    assert run["loop"] == "uvloop", "Ray runs async actors on uvloop once it is installed"
    assert "aiortc" in run["heavy_imports"]
    assert not {"pyarrow", "numpy", "pydantic"} & set(run["heavy_imports"]), "kept out of peer hosts (lean_worker)"
