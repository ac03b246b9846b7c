"""The rehearsal's network: one namespace per node, joined by a bridge that lives in a namespace of its own.

Each node's namespace has loopback and one veth (`eth0`) with an address in a private subnet and no
default route; the veth's other end sits on the bridge, which has no uplink. So the nodes reach each
other and nothing else, and the machine's own interfaces never see their traffic. Every namespace is
named `<prefix>-<node>` (the bridge's `<prefix>-net`), so two rehearsals or a leftover never collide
and everything one rehearsal made is found again by its prefix. Nothing is made in the root namespace.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

#: Where `ip netns add` keeps a namespace (a bind mount of its /proc/PID/ns/net).
NETNS_DIR = Path("/run/netns")
#: Every rehearsal's prefix: this, then 6 hex digits.
PREFIX_STEM = "ppr"
PREFIX_PATTERN = re.compile(rf"^{PREFIX_STEM}[0-9a-f]{{6}}$")
#: The suffix of the bridge's namespace; node names are `head` and `peer<N>`.
BRIDGE = "net"
BRIDGE_DEVICE = "br0"
#: The node's end of its veth.
NODE_DEVICE = "eth0"
DEFAULT_SUBNET = "10.77.0.0/24"


@dataclass(frozen=True)
class Node:
    """One node of the rehearsal: its name, its namespace and its address on the bridge."""

    name: str
    namespace: str
    address: str


@dataclass(frozen=True)
class Network:
    """What one rehearsal's network is made of (`plan` it, then `create` it)."""

    prefix: str
    subnet: ipaddress.IPv4Network
    #: The head first, then the peer nodes.
    nodes: tuple[Node, ...]

    @property
    def bridge_namespace(self) -> str:
        return f"{self.prefix}-{BRIDGE}"

    @property
    def head(self) -> Node:
        return self.nodes[0]

    @property
    def peers(self) -> tuple[Node, ...]:
        return self.nodes[1:]

    def namespaces(self) -> list[str]:
        return [self.bridge_namespace, *(node.namespace for node in self.nodes)]


def plan(prefix: str, peer_nodes: int, subnet: str = DEFAULT_SUBNET) -> Network:
    """The head and `peer_nodes` peer nodes at the subnet's first addresses (the head at .1)."""
    if not PREFIX_PATTERN.match(prefix):
        raise ValueError(f"a rehearsal prefix is {PREFIX_STEM} and 6 hex digits, not {prefix!r}")
    if peer_nodes < 1:
        raise ValueError(f"a rehearsal needs at least one peer node, not {peer_nodes}")
    network = ipaddress.IPv4Network(subnet)
    hosts = list(network.hosts())
    if not network.is_private or len(hosts) < peer_nodes + 1:
        raise ValueError(f"{subnet} is not a private subnet with room for {peer_nodes + 1} nodes")
    names = ["head", *(f"peer{n}" for n in range(1, peer_nodes + 1))]
    nodes = tuple(Node(name, f"{prefix}-{name}", str(hosts[i])) for i, name in enumerate(names))
    return Network(prefix, network, nodes)


def _ip(*args: str) -> None:
    """Run `ip ARGS`; a failure raises with what `ip` said."""
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed: {result.stderr.strip() or result.returncode}")


def create(network: Network) -> None:
    """Make the namespaces, the bridge and one veth per node, addressed and up (undo with `destroy`)."""
    taken = set(namespaces(network.prefix))
    if taken:
        raise RuntimeError(f"namespaces of rehearsal {network.prefix} exist already: {sorted(taken)}")
    bridge = network.bridge_namespace
    _ip("netns", "add", bridge)
    _ip("-n", bridge, "link", "set", "lo", "up")
    _ip("-n", bridge, "link", "add", BRIDGE_DEVICE, "type", "bridge")
    _ip("-n", bridge, "link", "set", BRIDGE_DEVICE, "up")
    for node in network.nodes:
        _ip("netns", "add", node.namespace)
        _ip("-n", node.namespace, "link", "set", "lo", "up")
        # Made inside the node's namespace with its peer end inside the bridge's: never in the root namespace.
        _ip(
            "-n", node.namespace, "link", "add", NODE_DEVICE, "type", "veth", "peer", "name", node.name, "netns", bridge
        )
        _ip("-n", node.namespace, "link", "set", NODE_DEVICE, "addrgenmode", "none")  # no IPv6 link-local
        _ip("-n", node.namespace, "addr", "add", f"{node.address}/{network.subnet.prefixlen}", "dev", NODE_DEVICE)
        _ip("-n", node.namespace, "link", "set", NODE_DEVICE, "up")
        _ip("-n", bridge, "link", "set", node.name, "master", BRIDGE_DEVICE, "up")


def namespaces(prefix: str | None = None) -> list[str]:
    """The namespaces of rehearsal `prefix` (of every rehearsal when None), leftovers included."""
    if not NETNS_DIR.is_dir():
        return []
    names = sorted(entry.name for entry in NETNS_DIR.iterdir())
    return [
        name for name in names if _rehearsal_of(name) is not None and (prefix is None or _rehearsal_of(name) == prefix)
    ]


def rehearsals() -> list[str]:
    """The prefixes of every rehearsal that has a namespace on this machine."""
    return sorted({prefix for name in namespaces() if (prefix := _rehearsal_of(name)) is not None})


def _rehearsal_of(namespace: str) -> str | None:
    prefix, _, _ = namespace.partition("-")
    return prefix if PREFIX_PATTERN.match(prefix) and namespace != prefix else None


def pids_in(namespace: str) -> list[int]:
    """Every live process whose network namespace is `namespace` (what `ip netns pids` lists)."""
    try:
        target = os.stat(NETNS_DIR / namespace)
    except FileNotFoundError:
        return []
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            mine = os.stat(entry / "ns" / "net")  # fails for zombies and processes gone meanwhile
        except OSError:
            continue
        if (mine.st_dev, mine.st_ino) == (target.st_dev, target.st_ino):
            pids.append(int(entry.name))
    return pids


def kill_all(names: list[str], grace: float = 5.0) -> None:
    """End every process in the namespaces `names`: SIGTERM, up to `grace` seconds, then SIGKILL (grace 0: at once)."""
    signals = [signal.SIGKILL] if grace <= 0 else [signal.SIGTERM, signal.SIGKILL]
    for sig in signals:
        for pid in (pid for namespace in names for pid in pids_in(namespace)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + (grace if sig == signal.SIGTERM else 10.0)
        while any(pids_in(namespace) for namespace in names) and time.monotonic() < deadline:
            time.sleep(0.1)
    left = {namespace: pids_in(namespace) for namespace in names}
    if any(left.values()):
        raise RuntimeError(f"processes outlived SIGKILL: {left}")


def destroy(prefix: str, grace: float = 5.0) -> list[str]:
    """End every process of rehearsal `prefix` and delete its namespaces (their veths go with them).

    Safe to repeat and on a half-made rehearsal; returns the namespaces deleted.
    """
    found = namespaces(prefix)
    kill_all(found, grace)
    for namespace in found:
        _ip("netns", "delete", namespace)
    return found
