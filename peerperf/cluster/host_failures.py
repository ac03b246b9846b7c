"""What the run says about a peer host that failed mid-test: which host, on which node, and why.

When a node dies (a machine lost, its Ray killed), every host on it fails at once with an error that
names only an actor id. Naming the host, the node's address and whether Ray has declared the node
dead lets a reader tell a lost machine from one crashed process, and find the machine.
"""

from __future__ import annotations

from typing import Any

from peerperf.sim.host_reports import SetupReport

#: How much of the error's first line the reason keeps.
ERROR_CHARS = 200


def failure_reason(exc: BaseException, report: SetupReport | None, nodes: list[dict[str, Any]]) -> str:
    """Why a host's peers were lost: `report` is the host's setup report (where it ran), `nodes` Ray's node table."""
    error = str(exc).splitlines()[0][:ERROR_CHARS] if str(exc) else type(exc).__name__
    if report is None:
        return f"its host failed during the test: {error}"
    node = next((n for n in nodes if n.get("NodeID") == report.node_id), None)
    if node is None:
        where = f"node {report.node_id[:12]}"
    else:
        state = "" if node.get("Alive", True) else ", which Ray reports dead"
        where = f"node {node.get('NodeManagerAddress', '?')} ({report.node_id[:12]}{state})"
    return f"its host {report.host_id} on {where} failed during the test: {error}"
