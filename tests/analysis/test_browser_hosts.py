"""Browser hosts in the harness verdict: a Chromium tree past its share of cores saturates the run, a host that
lost pages makes it faulty, each reason naming the host; the whole-run verdict reads them from the metadata."""

from __future__ import annotations

from typing import Any

import pytest

from peerperf.analysis.browser_hosts import BrowserHost, core_shares, from_metadata, judge_browser_hosts
from peerperf.analysis.results_files import ResultsFileError
from peerperf.analysis.summarise import summary
from peerperf.analysis.verdict import Status
from tests.analysis.fixtures import Scenario


def figures(
    cpu: float | None = 40.0, pages: int = 2, alive: int = 2, cpus: int | None = 2, node: str = "n1"
) -> dict[str, Any]:
    return {"cpuPercent": cpu, "pssMb": 250.0, "pages": pages, "pagesAlive": alive, "machineCpus": cpus, "nodeId": node}


def hosts(**each: dict[str, Any]) -> tuple[BrowserHost, ...]:
    return from_metadata({"browserHosts": each})


def test_each_host_shares_its_machines_cores_with_the_browser_hosts_on_its_node() -> None:
    found = hosts(
        a=figures(node="n1"), b=figures(node="n1"), c=figures(cpus=8, node="n2"), d=figures(cpus=None, node="n3")
    )
    assert core_shares(found) == {"a": 1.0, "b": 1.0, "c": 8.0}


def test_a_chromium_past_the_limit_of_its_share_saturates_naming_the_host() -> None:
    # Two hosts on a 2-core node: one core each; 95 % of it is past the 90 % limit, 85 % is not.
    found = judge_browser_hosts(hosts(**{"browser-0000": figures(cpu=95.0), "browser-0001": figures(cpu=85.0)}))
    assert len(found.saturated) == 1 and "browser host browser-0000's Chromium" in found.saturated[0]
    assert "95% of its share of cores (1)" in found.saturated[0] and not found.faults
    assert found.figures["browserCpuMaxSharePercent"] == pytest.approx(95.0)
    # The same tree alone on the node has both cores: 95 % of a core is under half its share.
    assert judge_browser_hosts(hosts(**{"browser-0000": figures(cpu=95.0)})).saturated == []


def test_a_host_that_lost_pages_is_a_fault_naming_it() -> None:
    found = judge_browser_hosts(hosts(**{"browser-0003": figures(pages=10, alive=7)}))
    assert found.faults == ["browser host browser-0003 lost 3 of 10 pages (their peers stopped)"]
    assert "1 browser hosts, 7 of 10 pages alive" in found.evidence[0] and found.figures["browserPagesLost"] == 3


def test_a_host_without_cpu_or_cores_is_left_unjudged_not_passed() -> None:
    found = judge_browser_hosts(hosts(a=figures(cpu=None), b=figures(cpus=None), c=figures()))
    assert found.unjudged == ["a", "b"] and not found.saturated


@pytest.mark.parametrize(
    ("metadata", "problem"),
    [
        ({"browserHosts": [1]}, "not an object of hosts"),
        ({"browserHosts": {"h": {"cpuPercent": 5}}}, "browser host h's figures lack pages"),
        ({"browserHosts": {"h": {**figures(), "cpuPercent": "busy"}}}, "browser host h's figures are not numbers"),
    ],
)
def test_malformed_browser_hosts_are_a_clear_error(metadata: dict[str, Any], problem: str) -> None:
    with pytest.raises(ResultsFileError, match=problem):
        from_metadata(metadata)


@pytest.mark.parametrize(
    ("host", "status", "reason"),
    [
        (figures(cpu=30.0), Status.HEALTHY, None),
        (figures(cpu=190.0), Status.SATURATED, "browser host browser-0000's Chromium used 190% of a core"),
        (figures(alive=1), Status.FAULTY, "browser host browser-0000 lost 1 of 2 pages"),
        (figures(cpu=None), Status.UNKNOWN, "the Chromium CPU (or machine cores) of browser hosts browser-0000"),
    ],
)
def test_the_run_verdict_covers_its_browser_hosts(host: dict[str, Any], status: Status, reason: str | None) -> None:
    frame = Scenario().frame().assign(harnessErrors=0)
    verdict = summary(frame, metadata={"browserHosts": {"browser-0000": host}}).verdict
    assert verdict.status is status, verdict
    if reason is None:
        assert not verdict.reasons
    else:
        assert any(reason in r for r in verdict.reasons), verdict.reasons
    assert any("1 browser hosts" in line for line in verdict.evidence)
