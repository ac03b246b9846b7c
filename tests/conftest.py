"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import peerperf  # noqa: F401  (first: fixes Ray's network mode to loopback before any test imports ray)

REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """The read-only `shared/` folder beside the checkout (PEERPERF_SHARED_DIR overrides)."""
    return Path(os.environ.get("PEERPERF_SHARED_DIR", REPO_ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def golden_vectors_path() -> Path:
    path = shared_dir() / "docs" / "reference" / "golden-vectors.json"
    if not path.exists():
        pytest.skip(
            f"{path} is absent: the golden vectors come from the original system and are "
            "not copied into the project; set PEERPERF_SHARED_DIR to the shared/ folder"
        )
    return path
