"""A failed host is named with its node: the address, and whether Ray reports the node dead."""

from __future__ import annotations

from peerperf.cluster.host_failures import failure_reason
from peerperf.sim.host_reports import SetupReport

REPORT = SetupReport("host-0001", "633363d0b357aa", ["a", "b"], {})
NODE = {"NodeID": "633363d0b357aa", "NodeManagerAddress": "10.77.0.2", "Alive": True}


def test_the_reason_names_the_host_and_its_nodes_address() -> None:
    reason = failure_reason(RuntimeError("The actor died unexpectedly.\nmore"), REPORT, [NODE])
    assert (
        reason
        == "its host host-0001 on node 10.77.0.2 (633363d0b357) failed during the test: The actor died unexpectedly."
    )


def test_a_node_ray_declared_dead_is_said_to_be() -> None:
    reason = failure_reason(RuntimeError("gone"), REPORT, [{**NODE, "Alive": False}])
    assert "on node 10.77.0.2 (633363d0b357, which Ray reports dead) failed" in reason


def test_without_a_report_or_a_known_node_it_says_what_it_knows() -> None:
    assert failure_reason(TimeoutError(), None, [NODE]) == "its host failed during the test: TimeoutError"
    assert "its host host-0001 on node 633363d0b357 failed" in failure_reason(RuntimeError("x"), REPORT, [])
    assert len(failure_reason(RuntimeError("y" * 1000), REPORT, [NODE]).split(": ", 1)[1]) == 200
