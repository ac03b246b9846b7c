"""A peer host process loads what it uses: not pyarrow, numpy, pandas or pydantic (about 20 MB of USS each actor),
nor aiohttp's server."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import ray

from peerperf.cluster.lean_worker import skip_unused_serializers
from peerperf.cluster.peerhost_actor import PeerHostWorker
from peerperf.peer import PeerSettings
from peerperf.sim.host_config import HostConfig
from peerperf.sim.population import Population, plan_peers
from peerperf.sim.routines import parse_mix
from tests.cluster.processes import descendants_named

#: Shared libraries each unwanted package maps into a process that imported it.
UNWANTED_LIBRARIES = ("/pyarrow/", "/numpy/", "/pandas/", "/pydantic_core/")


def test_the_peer_host_and_its_results_client_import_no_dataframe_stack() -> None:
    code = (
        "import peerperf, sys\n"
        "import peerperf.cluster.peerhost_actor, peerperf.cluster.actor_results_client, peerperf.routines.default\n"
        "import peerperf.cluster.results_actor\n"  # Ray loads the class of every actor handle a host is given
        "import peerperf.results.client\n"  # HTTP mode's client: no aiohttp server (about 1.3 MB)
        "unwanted = ('pyarrow', 'numpy', 'pandas', 'pydantic', 'aiohttp.web', 'peerperf.httpserver')\n"
        "print(sorted(m for m in unwanted if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out


def test_outside_a_ray_worker_nothing_is_kept_out() -> None:
    """The driver (and this test process) may need pyarrow: only a worker gives it up."""
    skip_unused_serializers()
    assert not any(type(finder).__name__ == "_KeptOut" for finder in sys.meta_path)
    import pyarrow  # still importable here

    assert pyarrow.__name__ == "pyarrow"


@pytest.mark.usefixtures("local_ray")
def test_a_real_peer_host_actor_maps_no_arrow_numpy_or_pydantic() -> None:
    """Ray's serializer add-ons would import pyarrow (and numpy) and pydantic in every worker;
    the peer-host actor's process must not have them, after deserializing arguments and answering."""
    specs = plan_peers(Population(1, parse_mix("idle"), layer="imports"), random.Random(0))
    config = HostConfig("imports-0", "http://127.0.0.1:9", PeerSettings(), seed=0)
    actor: Any = ray.remote(PeerHostWorker).options(num_cpus=0).remote(config, specs)
    try:
        progress = ray.get(actor.progress.remote(), timeout=120)
        assert progress is not None
        (pid,) = descendants_named(os.getpid(), "ray::PeerHostWorker")
        maps = Path(f"/proc/{pid}/maps").read_text()
        assert "/av/" in maps  # the probe sees what the actor did load: aiortc's PyAV
        loaded = [library for library in UNWANTED_LIBRARIES if library in maps]
        assert loaded == [], f"the peer-host actor loaded {loaded}"
    finally:
        ray.kill(actor)
