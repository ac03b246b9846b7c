"""The rehearsal's network: a namespace per node on a bridge of its own, nothing routed out, nothing left.

The real namespaces need root (CI runs as root); the plan is checked without.
"""

from __future__ import annotations

import ipaddress
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from scripts.rehearsal import netns
from scripts.rehearsal.netns import Network, Node

needs_root = pytest.mark.root  # creates network namespaces
#: Listens on the first argument's address, accepts one connection and prints what the peer sent.
SERVE = """
import socket, sys
with socket.create_server((sys.argv[1], 7000)) as server:
    print("listening", flush=True)
    connection, _ = server.accept()
    print(connection.recv(100).decode(), flush=True)
"""
CONNECT = """
import socket, sys
try:
    with socket.create_connection((sys.argv[1], 7000), timeout=5) as connection:
        connection.sendall(b"hello from " + sys.argv[2].encode())
    print("sent")
except OSError as exc:
    print(f"refused: {exc.errno}")
"""


def test_a_plan_names_every_namespace_after_the_prefix_and_puts_the_head_first() -> None:
    network = netns.plan("ppr0a1b2c", 2)
    assert [node.name for node in network.nodes] == ["head", "peer1", "peer2"]
    assert network.namespaces() == ["ppr0a1b2c-net", "ppr0a1b2c-head", "ppr0a1b2c-peer1", "ppr0a1b2c-peer2"]
    assert [node.address for node in network.nodes] == ["10.77.0.1", "10.77.0.2", "10.77.0.3"]
    assert network.head.name == "head" and [n.name for n in network.peers] == ["peer1", "peer2"]


@pytest.mark.parametrize(
    ("prefix", "peers", "subnet", "error"),
    [
        ("pp0a1b2c", 2, netns.DEFAULT_SUBNET, "a rehearsal prefix is ppr and 6 hex digits"),
        ("ppr0a1b2c-x", 2, netns.DEFAULT_SUBNET, "a rehearsal prefix"),
        ("ppr0a1b2c", 0, netns.DEFAULT_SUBNET, "at least one peer node"),
        ("ppr0a1b2c", 2, "8.8.8.0/24", "not a private subnet"),
        ("ppr0a1b2c", 2, "10.77.0.0/31", "room for 3 nodes"),
    ],
)
def test_a_bad_plan_is_refused(prefix: str, peers: int, subnet: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        netns.plan(prefix, peers, subnet)


@pytest.fixture
def network() -> Iterator[Network]:
    planned = netns.plan(f"ppr{secrets.token_hex(3)}", 2)
    try:
        netns.create(planned)
        yield planned
    finally:
        netns.destroy(planned.prefix)


def in_namespace(node: Node, script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["ip", "netns", "exec", node.namespace, sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True
    )


def ip(*args: str) -> str:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=True).stdout


@needs_root
def test_nodes_reach_each_other_over_the_bridge_and_nothing_else(network: Network) -> None:
    head, peer = network.head, network.peers[0]
    server = in_namespace(head, SERVE, head.address)
    assert server.stdout is not None and server.stdout.readline().strip() == "listening"
    client = in_namespace(peer, CONNECT, head.address, peer.name)
    assert client.communicate(timeout=30)[0].strip() == "sent"
    assert server.communicate(timeout=30)[0].strip() == "hello from peer1"
    # No route out: an address beyond the subnet is unreachable at once (ENETUNREACH), nothing is sent.
    outside = in_namespace(peer, CONNECT, "192.0.2.1", peer.name)
    assert outside.communicate(timeout=30)[0].strip() == "refused: 101"
    for node in network.nodes:
        assert ip("-n", node.namespace, "route").split() == [
            *(str(network.subnet), "dev", "eth0", "proto", "kernel", "scope", "link", "src", node.address)
        ]
        assert ip("-n", node.namespace, "-6", "addr", "show", "dev", "eth0").strip() == ""  # no IPv6 at all
    bridge_links = ip("-n", network.bridge_namespace, "-o", "link").split("\n")
    names = sorted(line.split(":")[1].strip().split("@")[0] for line in bridge_links if line)
    assert names == sorted(["lo", "br0", *(node.name for node in network.nodes)])  # no uplink
    root = ip("-o", "addr") + ip("route")
    assert not any(node.address in root for node in network.nodes), "the root namespace saw the rehearsal's addresses"


@needs_root
def test_destroy_ends_the_processes_and_deletes_every_namespace(network: Network) -> None:
    sleeper = subprocess.Popen(["ip", "netns", "exec", network.peers[1].namespace, "sleep", "600"])
    try:
        wait_for(lambda: netns.pids_in(network.peers[1].namespace) == [sleeper.pid])  # `ip` execs `sleep` there
        assert sorted(netns.destroy(network.prefix)) == sorted(network.namespaces())
        assert sleeper.wait(timeout=10) != 0
        assert netns.namespaces(network.prefix) == [] and network.prefix not in netns.rehearsals()
        assert netns.destroy(network.prefix) == []  # again: nothing to do, no error
    finally:
        sleeper.kill()


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@needs_root
def test_a_prefix_in_use_is_not_created_again(network: Network) -> None:
    with pytest.raises(RuntimeError, match=f"namespaces of rehearsal {network.prefix} exist already"):
        netns.create(network)
    assert netns.namespaces(network.prefix) == sorted(network.namespaces())


def test_other_namespaces_are_not_a_rehearsals() -> None:
    assert netns._rehearsal_of("ppr0a1b2c-head") == "ppr0a1b2c"
    assert netns._rehearsal_of("ppr0a1b2c") is None and netns._rehearsal_of("other-head") is None
    assert ipaddress.IPv4Address(netns.plan("ppr0a1b2c", 1).head.address).is_private
