"""`scripts/rehearse-cluster`: a real multi-node Ray cluster on this machine, as root, without a cloud.

up      build a rehearsal (a namespace per node, a bridge, Ray started as cluster.yaml starts it)
exec    run a command on one of its nodes (the head by default), in cluster mode with its token
status  list the rehearsals on this machine, their nodes and processes
down    take rehearsals down: processes, namespaces, temp dir (all of them when none is named)
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from scripts.rehearsal import cluster, netns

#: What a user runs on the head once a rehearsal is up (its address is filled in).
EXAMPLE_RUN = "python -m peerperf.run --address {address} --peers 8 --peers-per-actor 2 --duration 30"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/rehearse-cluster", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="build a rehearsal and print how to run a test on it")
    up.add_argument("--peer-nodes", type=int, default=2, help="peer nodes besides the head (default 2)")
    up.add_argument("--peer-slots", type=int, help="peer_slot of each peer node (default: cluster.yaml's)")
    up.add_argument("--subnet", default=netns.DEFAULT_SUBNET, help=f"private subnet (default {netns.DEFAULT_SUBNET})")
    run = commands.add_parser("exec", help="run a command on a node of a rehearsal")
    run.add_argument("prefix", help="the rehearsal (`status` lists them)")
    run.add_argument("--node", default="head", help="head (default), peer1, peer2, ...")
    run.add_argument("argv", nargs=argparse.REMAINDER, help="the command, after --")
    commands.add_parser("status", help="list the rehearsals on this machine")
    down = commands.add_parser("down", help="take rehearsals down (all of them when none is named)")
    down.add_argument("prefixes", nargs="*", help="rehearsals to take down")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("rehearse-cluster: needs root (it creates network namespaces): run it with sudo", file=sys.stderr)
        return 2
    try:
        if args.command == "up":
            return _up(args.peer_nodes, args.peer_slots, args.subnet)
        if args.command == "exec":
            return _exec(args.prefix, args.node, args.argv[1:] if args.argv[:1] == ["--"] else args.argv)
        if args.command == "status":
            return _status()
        return _down(args.prefixes or cluster.rehearsals())
    except (ValueError, LookupError, RuntimeError, OSError) as exc:
        print(f"rehearse-cluster: {exc}", file=sys.stderr)
        return 1


def _up(peer_nodes: int, peer_slots: int | None, subnet: str) -> int:
    rehearsal = cluster.up(peer_nodes, peer_slots, subnet)
    me = "scripts/rehearse-cluster"
    env = rehearsal.environment({})
    settings = [f"{key}={env[key]}" for key in ("PEERPERF_NETWORK", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH")]
    example = EXAMPLE_RUN.format(address=rehearsal.address)
    print(f"rehearsal {rehearsal.prefix} is up: Ray at {rehearsal.address}, temp dir {rehearsal.temp_dir}")
    for node in rehearsal.network.nodes:
        print(f"  {node.name:6} {node.address:15} namespace {node.namespace}")
    print(f"peer nodes' resources: {rehearsal.peer_resources}")
    print("\nrun a test on the head:")
    print(f"  sudo {me} exec {rehearsal.prefix} -- {example}")
    print("which is:")
    command = ["ip", "netns", "exec", rehearsal.network.head.namespace, "env", *settings]
    print(f"  sudo {shlex.join(command)} {sys.executable} {example.removeprefix('python ')}")
    print(f"\ntake it down:\n  sudo {me} down {rehearsal.prefix}")
    return 0


def _exec(prefix: str, node_name: str, argv: list[str]) -> int:
    rehearsal = cluster.load(prefix)
    node = next((n for n in rehearsal.network.nodes if n.name == node_name), None)
    if node is None or not argv:
        raise ValueError(f"give a node of {prefix} ({[n.name for n in rehearsal.network.nodes]}) and a command")
    if argv[0] == "python":  # the interpreter this script runs on: the checkout's, with peerperf installed
        argv = [sys.executable, *argv[1:]]
    command = ["ip", "netns", "exec", node.namespace, *argv]
    os.execvpe(command[0], command, rehearsal.environment())


def _status() -> int:
    found = cluster.rehearsals()
    if not found:
        print("no rehearsals on this machine")
    for prefix in found:
        names = netns.namespaces(prefix)
        processes = {name: len(netns.pids_in(name)) for name in names}
        print(f"{prefix}: " + ", ".join(f"{name} ({count} processes)" for name, count in processes.items()))
    return 0


def _down(prefixes: list[str]) -> int:
    for prefix in prefixes:
        deleted = cluster.down(prefix)
        print(f"{prefix}: {'deleted ' + ', '.join(deleted) if deleted else 'nothing left to take down'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
