"""Browser peers in a plan (`peerperf plan --browser-peers N`): their hosts' CPU and memory, nodes, `browser_slot`.

A browser peer is a page of the original client in a headless Chromium; it receives the layer's
packets as a Python peer does, so its CPU is the plan's CPU per Python peer times the ratio
bench/browser_cost.py measured in one mixed run (both kinds in the same layer, the same machine, the
same load), and its memory the PSS per page that run measured. Browser hosts run on nodes of their
own (`browser_slot`, one per page), whole Chromiums of `--pages-per-browser` pages, at the plan's
utilisation of each core: a Chromium is many processes, so it is not held to one core as a peer host is.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from peerperf.sizing.plan import Plan


@dataclass(frozen=True)
class BrowserCost:
    """What one browser peer costs, measured beside Python peers in the same run."""

    #: CPU of a browser peer (its share of its Chromium's tree) over a Python peer's, same layer.
    cpu_ratio: float
    #: PSS of a browser peer (its share of its Chromium's tree), MB.
    pss_mb_per_peer: float
    #: Where the figures come from, said in every plan that uses them.
    source: str


#: The median of bench/results/browser_cost.json (`python bench/browser_cost.py`: 3 rounds of 4 Python peers
#: and 4 pages in one Chromium, one layer, 30 s; 2 shared cores, load average 2.0 at the start). Re-measure
#: on the node type (and replace these) before sizing a large mixed run.
MEASURED = BrowserCost(
    cpu_ratio=1.74,
    pss_mb_per_peer=126.0,
    source="bench/results/browser_cost.json (bench/browser_cost.py, median of 3 same-run rounds, 4 + 4 peers, "
    "2 shared cores at load 2.0)",
)


@dataclass(frozen=True)
class BrowserPlan:
    """The browser hosts of a mixed run (`nodes` None: no node holds one Chromium of the pages asked)."""

    browser_peers: int
    pages_per_browser: int
    cost: BrowserCost
    cores_per_peer: float
    browsers: int
    pages_per_node: int
    nodes: int | None
    vcpus: int | None
    memory_mb_per_node: float
    memory_mb: float
    notes: list[str] = field(default_factory=list)

    @property
    def browser_slot(self) -> int | None:
        """The `browser_slot` of a browser node in cluster.yaml: the pages one node holds."""
        return self.pages_per_node if self.nodes is not None else None

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "browser_slot": self.browser_slot}


def plan_browsers(plan: Plan, browser_peers: int, pages_per_browser: int, cost: BrowserCost = MEASURED) -> BrowserPlan:
    """Size `browser_peers` pages beside the Python peers of `plan` (same layer size, node type, utilisation)."""
    per_page = plan.cores_per_peer * cost.cpu_ratio
    budget = plan.request.node_cpus * plan.request.utilisation
    fits = math.floor(budget / per_page) if per_page > 0 else browser_peers
    pages_per_node = (fits // pages_per_browser) * pages_per_browser  # whole Chromiums: a host asks for its pages
    notes = []
    if pages_per_node == 0 and browser_peers:
        notes.append(
            f"one Chromium of {pages_per_browser} pages needs {pages_per_browser * per_page:,.2f} cores, more than "
            f"the {budget:,.2f} a node of {plan.request.node_cpus} vCPUs offers: use --pages-per-browser {fits or 1}"
        )
    nodes = 0 if not browser_peers else math.ceil(browser_peers / pages_per_node) if pages_per_node else None
    return BrowserPlan(
        browser_peers,
        pages_per_browser,
        cost,
        per_page,
        math.ceil(browser_peers / pages_per_browser),
        pages_per_node,
        nodes,
        nodes * plan.request.node_cpus if nodes is not None else None,
        pages_per_node * cost.pss_mb_per_peer,
        browser_peers * cost.pss_mb_per_peer,
        notes,
    )


def render_browsers(browsers: BrowserPlan) -> str:
    """The browser part of a plan as a person reads it, ending with the line for cluster.yaml."""
    b, cost = browsers, browsers.cost
    lines = [
        f"browser peers: {b.browser_peers:,} pages in {b.browsers:,} Chromium(s) of {b.pages_per_browser}",
        f"CPU per browser peer: {b.cores_per_peer:,.3f} cores ({cost.cpu_ratio:g} x a Python peer's); memory per "
        f"browser peer: {cost.pss_mb_per_peer:,.0f} MB (PSS); {b.memory_mb / 1024:,.1f} GB in all",
        f"  measured: {cost.source}",
    ]
    if b.nodes is None:
        lines.append("browser nodes: none fits")
    else:
        lines += [
            f"pages per browser node: {b.pages_per_node:,}; browser nodes: {b.nodes:,}; vCPUs: {b.vcpus:,}; "
            f"memory per browser node: {b.memory_mb_per_node / 1024:,.1f} GB",
            f"run with: --browser-peers {b.browser_peers} --pages-per-browser {b.pages_per_browser}",
        ]
    lines += [f"note: {note}" for note in b.notes]
    lines.append(
        f"cluster.yaml (browser nodes): browser_slot: {b.browser_slot}"
        if b.browser_slot is not None
        else "cluster.yaml: no browser_slot fits"
    )
    return "\n".join(lines)
