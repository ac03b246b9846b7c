"""A rehearsal comes up whole or not at all, and `down` touches nothing but a rehearsal's own.

(A whole rehearsal with Ray on every node: tests/cluster/test_multinode.py.)
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from scripts.rehearsal import cluster, netns
from tests.conftest import REPO_ROOT

needs_root = pytest.mark.root  # creates network namespaces


@needs_root
def test_a_failed_start_takes_down_everything_it_made(tmp_path: Path) -> None:
    config = yaml.safe_load((REPO_ROOT / "cluster.yaml").read_text())
    config["head_start_ray_commands"] = ["ray start --head --port=6379 --no-such-option"]
    broken = tmp_path / "cluster.yaml"
    broken.write_text(yaml.safe_dump(config))
    before = cluster.rehearsals()
    with pytest.raises(RuntimeError, match="Ray did not start on head") as failure:
        cluster.up(peer_nodes=1, cluster_yaml=broken)
    assert "no-such-option" in str(failure.value)  # Ray's own words, to act on
    assert cluster.rehearsals() == before, "the half-made rehearsal was left behind"


@pytest.mark.parametrize("prefix", ["../etc", "ppr0a1b2", "ppr0a1b2c/..", "", "tmp"])
def test_down_refuses_what_is_not_a_rehearsal(prefix: str) -> None:
    with pytest.raises(ValueError, match="not a rehearsal"):
        cluster.down(prefix)


def test_load_names_a_rehearsal_that_is_not_there() -> None:
    with pytest.raises(LookupError, match="no rehearsal ppr0a1b2c on this machine"):
        cluster.load("ppr0a1b2c")


@needs_root
def test_down_takes_a_half_made_rehearsal_found_by_its_folder_alone() -> None:
    prefix = "ppr" + os.urandom(3).hex()
    folder = cluster.temp_root(prefix)
    folder.mkdir()
    (folder / "auth_token").write_text("x")
    assert prefix in cluster.rehearsals() and netns.namespaces(prefix) == []
    assert cluster.down(prefix) == [] and not folder.exists()
