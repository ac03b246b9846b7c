"""The checked-in *_pb2.py files are exactly what scripts/generate_proto.sh produces."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT


def test_checked_in_generated_code_matches_the_proto_sources(tmp_path: Path) -> None:
    env_path = str(Path(sys.executable).parent)
    subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "generate_proto.sh"), str(tmp_path)],
        check=True,
        cwd=REPO_ROOT,
        env={"PATH": env_path + ":/usr/bin:/bin"},
    )
    checked_in = REPO_ROOT / "peerperf" / "protocol" / "generated"
    produced = sorted(p.name for p in tmp_path.iterdir())
    assert produced == ["comms_pb2.py", "comms_pb2.pyi", "peer_protobuf_pb2.py", "peer_protobuf_pb2.pyi"]
    for name in produced:
        assert (tmp_path / name).read_text() == (checked_in / name).read_text(), (
            f"{name} is stale: run scripts/generate_proto.sh"
        )
