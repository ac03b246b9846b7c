"""One local, loopback-only Ray per test module, in a temp dir of the test's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import ray

from peerperf.cluster.runtime import init_local_ray


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    temp_dir = Path("/tmp") / f"pp-ray-{tmp_path_factory.getbasetemp().name}"  # Ray needs a short path
    info = init_local_ray(num_cpus=2, temp_dir=str(temp_dir), log_to_driver=False)
    yield info
    ray.shutdown()
