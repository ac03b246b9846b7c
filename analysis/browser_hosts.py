"""Browser hosts in the harness verdict: each one's Chromium tree against its share of cores, and its pages.

A browser host reports its own figures once for the whole test (the test's metadata `browserHosts`: CPU
of its Chromium's process tree in % of a core, the cores of its machine, its Ray node, pages and pages
alive), not per window as peer hosts do. A Chromium is many processes, so its ceiling is not one core
but its share of the machine: the machine's cores over the browser hosts on that node. A tree above
`CPU_BOUND_PERCENT` of that share over the whole test was the bottleneck throughout (saturated); a host
that lost pages lost its peers (faulty). Either reason names the host.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from peerperf.analysis.thresholds import CPU_BOUND_PERCENT, TOLERATED_LOST_PEERS
from peerperf.errors import ResultsFileError


@dataclass(frozen=True)
class BrowserHost:
    """One browser host's figures over the test (None: not measured)."""

    host_id: str
    pages: int
    pages_alive: int
    #: CPU of the Chromium tree over the test, in % of one core.
    cpu_percent: float | None = None
    machine_cpus: int | None = None
    node_id: str = ""


@dataclass(frozen=True)
class BrowserFindings:
    """What the browser hosts add to the verdict."""

    saturated: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)
    #: Hosts whose CPU could not be judged (no CPU figure, or no machine cores to share).
    unjudged: list[str] = field(default_factory=list)


def from_metadata(metadata: dict[str, Any]) -> tuple[BrowserHost, ...]:
    """The browser hosts a test's metadata records (none for a run without browser peers)."""
    hosts = metadata.get("browserHosts") or {}
    if not isinstance(hosts, dict):
        raise ResultsFileError(f"the test's metadata browserHosts is not an object of hosts: {hosts!r}")
    return tuple(_host(str(name), figures) for name, figures in sorted(hosts.items()))


def _host(name: str, figures: Any) -> BrowserHost:
    problem = f"the test's metadata: browser host {name}'s figures"
    if not isinstance(figures, dict) or not {"pages", "pagesAlive"} <= figures.keys():
        raise ResultsFileError(f"{problem} lack pages and pagesAlive: {figures!r}")
    cpu, cpus = figures.get("cpuPercent"), figures.get("machineCpus")
    try:
        return BrowserHost(
            name,
            int(figures["pages"]),
            int(figures["pagesAlive"]),
            float(cpu) if cpu is not None else None,
            int(cpus) if cpus else None,
            str(figures.get("nodeId") or ""),
        )
    except (TypeError, ValueError) as exc:
        raise ResultsFileError(f"{problem} are not numbers: {figures!r} ({exc})") from None


def core_shares(hosts: tuple[BrowserHost, ...]) -> dict[str, float]:
    """Each host's share of its machine's cores (in cores): the cores over the browser hosts on its node."""
    on_node = Counter(host.node_id for host in hosts)
    return {host.host_id: host.machine_cpus / on_node[host.node_id] for host in hosts if host.machine_cpus}


def judge_browser_hosts(hosts: tuple[BrowserHost, ...]) -> BrowserFindings:
    """The reasons (saturated, faulty) and evidence the browser hosts give, each naming its host."""
    if not hosts:
        return BrowserFindings()
    shares = core_shares(hosts)
    saturated, faults, used = [], [], {}
    for host in hosts:
        share = shares.get(host.host_id)
        if host.cpu_percent is not None and share:
            used[host.host_id] = host.cpu_percent / share
            if used[host.host_id] > CPU_BOUND_PERCENT:
                saturated.append(
                    f"browser host {host.host_id}'s Chromium used {host.cpu_percent:.0f}% of a core, "
                    f"{used[host.host_id]:.0f}% of its share of cores ({share:g}) > {CPU_BOUND_PERCENT:.0f}%"
                )
        lost = host.pages - host.pages_alive
        if lost > TOLERATED_LOST_PEERS:
            faults.append(f"browser host {host.host_id} lost {lost} of {host.pages} pages (their peers stopped)")
    alive, pages = sum(host.pages_alive for host in hosts), sum(host.pages for host in hosts)
    line = f"{len(hosts)} browser hosts, {alive} of {pages} pages alive at the end"
    figures = {"browserHosts": float(len(hosts)), "browserPagesLost": float(pages - alive)}
    if used:
        line += f", Chromium CPU max {max(used.values()):.0f}% of a host's share of cores"
        figures["browserCpuMaxSharePercent"] = max(used.values())
    unjudged = [host.host_id for host in hosts if host.host_id not in used]
    return BrowserFindings(saturated, faults, [line], figures, unjudged)
