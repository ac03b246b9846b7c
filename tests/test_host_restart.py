"""A peer host killed mid-test with `--restart-hosts 1`: it comes back, its peers rejoin as new instances.

Real stack (local Ray, aiortc on loopback); the host's actor process is SIGKILLed.
"""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

from peerperf.cluster.host_restarts import instance_id
from tests.runcli import Run, results_document
from tests.test_run import descendants


def test_instance_ids_keep_the_peer_recognisable() -> None:
    assert instance_id("abc", 1) == "abc-r1"
    assert instance_id("abc-r1", 2) == "abc-r2"


async def test_a_killed_host_comes_back_and_its_peers_rejoin_as_new_instances(tmp_path: Path) -> None:
    run = await Run.start(
        *("--peers", "4", "--peers-per-actor", "2", "--duration", "26", "--output", str(tmp_path), "--seed", "5"),
        *("--stats-interval", "1000", "--restart-hosts", "1", "--ping-interval", "off"),
    )
    while not re.search(r"datapoints (1[6-9]|[2-9]\d|\d{3})", await run.until("[running]")):
        pass  # running, and both hosts have submitted a few windows
    hosts = [pid for pid, command in descendants(run.proc.pid).items() if "PeerHostWorker" in command]
    assert len(hosts) == 2, descendants(run.proc.pid)
    os.kill(hosts[0], signal.SIGKILL)
    assert await run.finish() == 0, run.output  # nobody is lost: the host came back (--allow-unhealthy)
    # ... but the restarted peers' load was missing for a while: named as such, and the harness is faulty.
    assert "2 peers restarted when their host failed" in run.output and "HARNESS FAULTY" in run.output, run.output
    assert "peers that stopped reporting early 0" in run.output, run.output

    document = results_document(tmp_path)
    restarted: dict[str, str] = document["metadata"]["restartedPeers"]
    assert len(restarted) == 2 and all(new == instance_id(old, 1) for old, new in restarted.items())
    assert document["metadata"]["lostPeers"] == {}
    windows: dict[str, list[int]] = {}
    for point in document["dataPoints"]:
        windows.setdefault(point["peerId"], []).append(point["metrics"]["window"])
    assert len(windows) == 6  # 4 first instances, 2 new ones
    last = max(max(w) for w in windows.values())
    for old, new in restarted.items():
        # Not mixed: the first instance stops, the new one starts later, and the gap between them shows.
        assert max(windows[old]) < min(windows[new]) - 1, (sorted(windows[old]), sorted(windows[new]))
        assert max(windows[new]) >= last - 1  # ... and runs to the end of the test
    new_points = [p for p in document["dataPoints"] if p["peerId"] in restarted.values()]
    # Rejoined the mesh: the new instances hear the others' traffic.
    assert any(p["metrics"]["relevantPerSecond"] > 0 for p in new_points)
    assert {p["metrics"]["hostId"] for p in new_points} == {new_points[0]["metrics"]["hostId"]}
    assert new_points[0]["metrics"]["hostId"].endswith("-r1")
    survivors = set(windows) - set(restarted) - set(restarted.values())
    assert all(max(windows[p]) >= last - 1 for p in survivors)
