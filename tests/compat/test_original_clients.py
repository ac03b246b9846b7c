"""Original browser clients and peerperf's peers mix in one room on peerperf's servers: links form between
the kinds, app messages flow both ways, and both kinds' datapoints reach the results service; once with
the peers on the default data path and once on the compiled one (issue 23), whose packets from the
original clients are counted to show it ran.

The original client is the real one (`shared/original/client`, the original peer library bundled), in
headless Chromium; tests/compat/original_mix_session.py runs the room inside a network namespace that has
only loopback.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import pytest

from peerperf.peer import PeerSettings
from peerperf.peer.settings import COMPILED_DATA_PATH
from peerperf.protocol.metrics import BROWSER, PYTHON
from tests.conftest import REPO_ROOT, shared_dir

ORIGINAL = shared_dir() / "original"
BROWSER_PEERS = PYTHON_PEERS = 3
pytestmark = [pytest.mark.browser, pytest.mark.root]  # Chromium in a network namespace of its own


@pytest.fixture(scope="module", params=[PeerSettings().data_path, COMPILED_DATA_PATH])
def mix(request: pytest.FixtureRequest) -> dict[str, Any]:
    if not (ORIGINAL / "client" / "bundle.js").exists():
        pytest.skip(f"{ORIGINAL} is absent: the original system (not data, not copied) sits beside the checkout")
    return asyncio.run(run_isolated(request.param))


async def run_isolated(data_path: str) -> dict[str, Any]:
    inner = (
        f"ip link set lo up && exec {sys.executable} -m tests.compat.original_mix_session {ORIGINAL}"
        f" --browser-peers {BROWSER_PEERS} --python-peers {PYTHON_PEERS} --timeout 120 --data-path {data_path}"
    )
    process = await asyncio.create_subprocess_exec(
        "unshare",
        "--net",
        "sh",
        "-c",
        inner,
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), 240)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, f"the mixed session failed: {stderr.decode()[-3000:]}"
    report: dict[str, Any] = json.loads(stdout.decode().strip().splitlines()[-1])
    return report


def test_both_kinds_joined_the_room(mix: dict[str, Any]) -> None:
    assert len(mix["browser_ids"]) == BROWSER_PEERS and len(mix["python_ids"]) == PYTHON_PEERS, mix
    assert not set(mix["browser_ids"]) & set(mix["python_ids"])


def test_links_form_between_the_kinds(mix: dict[str, Any]) -> None:
    """Data channels between an original client and a peerperf peer, seen from both ends."""
    browsers, pythons = set(mix["browser_ids"]), set(mix["python_ids"])
    connected = {peer: set(ids) for peer, ids in mix["connected"].items()}
    assert any(connected.get(b, set()) & pythons for b in browsers), connected
    assert any(connected.get(p, set()) & browsers for p in pythons), connected


def test_app_messages_flow_both_ways(mix: dict[str, Any]) -> None:
    """Every original client heard every peerperf peer, and every peerperf peer every original client."""
    received = mix["received"]
    for browser in mix["browser_ids"]:
        assert all(received[browser].get(p, 0) > 0 for p in mix["python_ids"]), (browser, received[browser])
    for python in mix["python_ids"]:
        assert all(received[python].get(b, 0) > 0 for b in mix["browser_ids"]), (python, received[python])
    assert mix["decode_errors"] == [], "an original client could not decode a packet"


def test_both_kinds_datapoints_reach_the_results_service(mix: dict[str, Any]) -> None:
    """peerperf's results service took every page's datapoints and stored each with its kind."""
    datapoints = mix["datapoints"]
    assert all(datapoints.get(peer, 0) > 0 for peer in mix["browser_ids"] + mix["python_ids"]), datapoints
    assert {peer: mix["kinds"].get(peer) for peer in mix["browser_ids"]} == dict.fromkeys(mix["browser_ids"], BROWSER)
    assert {peer: mix["kinds"].get(peer) for peer in mix["python_ids"]} == dict.fromkeys(mix["python_ids"], PYTHON)


def test_the_compiled_path_takes_the_original_clients_packets(mix: dict[str, Any]) -> None:
    """On the compiled path, packets from original clients go through it on the links between the kinds (a
    Python peer may hear the clients only through relays); on any other path it takes none."""
    taken = mix["compiled_from_browsers"]
    assert set(taken) == set(mix["python_ids"]), taken
    if mix["data_path"] == COMPILED_DATA_PATH:
        assert any(count > 0 for count in taken.values()), taken
    else:
        assert all(count == 0 for count in taken.values()), taken
