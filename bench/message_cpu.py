"""CPU per delivered message: bare aiortc (stock and tuned SCTP) vs peerperf's peer stack, same rate.

N peers in one process, fully meshed on loopback; every peer sends R messages per second to each
other peer, paced by a 60 Hz tick as simulated peers are, so N*(N-1)*R messages are delivered per
second in every variant:

- `stock`: bare aiortc data channels, stock SCTP, a 120-byte payload per message;
- `tuned`: the same with peerperf/peer/sctp_tuning.py;
- `peer` / `peer-stock`: peerperf `Peer`s in one room (lighthouse in another process), each tick
  sending an `unreliable("position")` packet to the room (optimistic targets: no relaying in a full
  mesh), tuned and stock SCTP.

Each variant runs in its own process, on the asyncio or the uvloop event loop; variants are
interleaved round by round, and each is reported as process CPU per delivered message, with ratios
against bare stock aiortc on the asyncio loop measured in the same run (the issue's baseline): the
ratio of the medians, and each round's own ratio (against the baseline of that round) with their
median and range, since one round on a shared machine can land anywhere. The 1-minute load average
is recorded before every run.

    python bench/message_cpu.py [--peers 5] [--rate 25] [--seconds 8] [--rounds 2] [--loops asyncio,uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import emit, median, print_table, run_child, start_service, write_json

VARIANTS = ["stock", "tuned", "peer", "peer-stock"]
PAYLOAD = b"x" * 120
TICK_HZ = 60


async def paced(seconds: float, rate: float, send: Callable[[int], None]) -> None:
    """Call `send(k)` every tick with the number of messages due since the last one, for `seconds`."""
    start = time.monotonic()
    sent = 0
    for tick in itertools.count(1):
        due = start + tick / TICK_HZ
        if due > start + seconds:
            return
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        owed = int(rate * tick / TICK_HZ) - sent
        if owed:
            send(owed)
            sent += owed


async def bare_mesh(peers: int, tuned: bool) -> tuple[list[Any], list[Any], list[int]]:
    from aiortc import RTCConfiguration, RTCPeerConnection

    from peerperf.peer.ice import use_host_addresses
    from peerperf.peer.sctp_tuning import tune

    use_host_addresses(("127.0.0.1",))
    connections: list[Any] = []
    channels: list[list[Any]] = [[] for _ in range(peers)]
    delivered = [0]

    def count(_message: Any) -> None:
        delivered[0] += 1

    for a, b in itertools.combinations(range(peers), 2):
        offerer, answerer = RTCPeerConnection(RTCConfiguration(iceServers=[])), RTCPeerConnection(RTCConfiguration())
        channel = offerer.createDataChannel("bench", ordered=True)
        if tuned:
            assert offerer.sctp is not None
            tune(offerer.sctp)
        arrived: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        answerer.on("datachannel", arrived.set_result)
        await offerer.setLocalDescription(await offerer.createOffer())
        await answerer.setRemoteDescription(offerer.localDescription)
        if tuned:
            assert answerer.sctp is not None
            tune(answerer.sctp)
        await answerer.setLocalDescription(await answerer.createAnswer())
        await offerer.setRemoteDescription(answerer.localDescription)
        remote = await asyncio.wait_for(arrived, 30)
        while channel.readyState != "open" or remote.readyState != "open":
            await asyncio.sleep(0.01)
        channel.on("message", count)
        remote.on("message", count)
        channels[a].append(channel)
        channels[b].append(remote)
        connections += [offerer, answerer]
    return connections, channels, delivered


def sender(mine: list[Any]) -> Callable[[int], None]:
    """Sends `n` payloads on each of one peer's channels."""

    def send(n: int) -> None:
        for channel in mine:
            for _ in range(n):
                channel.send(PAYLOAD)

    return send


async def measure_bare(peers: int, rate: float, seconds: float, tuned: bool) -> dict[str, Any]:
    connections, channels, delivered = await bare_mesh(peers, tuned)
    result = await window(seconds, delivered, [paced(seconds + 1.2, rate, sender(mine)) for mine in channels])
    for pc in connections:
        await pc.close()
    return result


async def window(seconds: float, delivered: list[int], senders: list[Any]) -> dict[str, Any]:
    """Run the senders; measure CPU and deliveries over `seconds` after a one-second warm-up."""
    running = [asyncio.ensure_future(s) for s in senders]
    await asyncio.sleep(1.0)
    cpu, wall, count = time.process_time(), time.monotonic(), delivered[0]
    await asyncio.sleep(seconds)
    cpu, wall, count = time.process_time() - cpu, time.monotonic() - wall, delivered[0] - count
    await asyncio.gather(*running)
    return {"cpu_seconds": cpu, "wall_seconds": wall, "delivered": count}


async def measure_peers(peers: int, rate: float, seconds: float, tuned: bool, lighthouse: str) -> dict[str, Any]:
    from peerperf.peer import Peer, PeerSettings
    from peerperf.protocol.messagetypes import unreliable

    delivered = [0]

    def count(*_args: Any) -> None:
        delivered[0] += 1

    layer = f"bench{time.monotonic_ns()}"
    settings = PeerSettings(sctp_tuning=tuned, target_connections=peers - 1, max_connections=max(7, peers - 1))
    group = [Peer(lighthouse, f"{layer}-{i}", settings=settings, on_message=count) for i in range(peers)]
    for peer in group:
        await peer.connect()
        await peer.set_layer(layer)
        await peer.join_room("room")
    deadline = time.monotonic() + 60
    while any(len(p.connected_ids()) < peers - 1 for p in group):
        assert time.monotonic() < deadline, "the peers did not form a full mesh"
        await asyncio.sleep(0.1)
    kind = unreliable("position")

    def sender(peer: Any) -> Callable[[int], None]:
        def send(n: int) -> None:
            for _ in range(n):
                peer.send_message("room", PAYLOAD, kind)

        return send

    result = await window(seconds, delivered, [paced(seconds + 1.2, rate, sender(p)) for p in group])
    for peer in group:
        await peer.dispose()
    return result


def child(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.ERROR)
    if args.loop == "uvloop":
        import uvloop

        run: Callable[[Any], Any] = uvloop.run
    else:
        run = asyncio.run
    if args.variant in ("stock", "tuned"):
        result = run(measure_bare(args.peers, args.rate, args.seconds, args.variant == "tuned"))
    else:
        result = run(measure_peers(args.peers, args.rate, args.seconds, args.variant == "peer", args.lighthouse))
    emit({"variant": args.variant, "loop": args.loop, **result})


def start_lighthouse(folder: str) -> tuple[subprocess.Popen[bytes], str]:
    command = [sys.executable, "-m", "peerperf.lighthouse", "--no-auth", "--host", "127.0.0.1", "--port", "0"]
    process, port = start_service(command, Path(folder, "lighthouse.log"))
    return process, f"http://127.0.0.1:{port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peers", type=int, default=5)
    parser.add_argument("--rate", type=float, default=25.0, help="messages per second from each peer to each other")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--loops", default="asyncio,uvloop")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--json", default=str(__import__("common").BENCH_DIR / "results" / "message_cpu.json"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--loop", help=argparse.SUPPRESS)
    parser.add_argument("--lighthouse", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    folder = tempfile.TemporaryDirectory(prefix="pp-bench-")
    lighthouse, url = start_lighthouse(folder.name)
    runs: list[dict[str, Any]] = []
    try:
        for round_ in range(args.rounds):
            for variant in args.variants.split(","):
                for loop in args.loops.split(","):
                    load = os.getloadavg()[0]
                    common_args = ["--peers", str(args.peers), "--rate", str(args.rate), "--seconds", str(args.seconds)]
                    run = run_child(
                        "message_cpu.py", [*common_args, "--variant", variant, "--loop", loop, "--lighthouse", url]
                    )
                    run["round"], run["load_average"] = round_, load
                    run["us_per_message"] = run["cpu_seconds"] / max(1, run["delivered"]) * 1e6
                    run["delivered_per_second"] = run["delivered"] / run["wall_seconds"]
                    runs.append(run)
    finally:
        lighthouse.terminate()
        lighthouse.wait(10)
        folder.cleanup()
    summary = summarise(runs, args.variants.split(","), args.loops.split(","))
    expected = args.peers * (args.peers - 1) * args.rate
    print_table(
        f"CPU per delivered message, {args.peers} peers fully meshed, {expected:.0f} msg/s offered, "
        f"median of {args.rounds} interleaved rounds (baseline: bare stock aiortc, asyncio loop)",
        ["variant", "loop", "delivered/s", "us/message", "x baseline", "rounds: median", "min", "max"],
        [
            [
                *(s[key] for key in ("variant", "loop", "delivered_per_second", "us_per_message", "ratio")),
                *(s["round_ratio_median"], min(s["round_ratios"]), max(s["round_ratios"])),
            ]
            for s in summary
        ],
    )
    loads = [r["load_average"] for r in runs]
    print(f"load average (1 min) before the runs: {min(loads):.1f}-{max(loads):.1f}")
    parameters = {k: getattr(args, k) for k in ("peers", "rate", "seconds", "rounds", "loops", "variants")}
    write_json(args.json, "message_cpu", parameters, {"summary": summary, "runs": runs})


def summarise(runs: list[dict[str, Any]], variants: list[str], loops: list[str]) -> list[dict[str, Any]]:
    baseline = ("stock", "asyncio") if "stock" in variants and "asyncio" in loops else (variants[0], loops[0])
    base_by_round = {r["round"]: r["us_per_message"] for r in runs if (r["variant"], r["loop"]) == baseline}
    base = median(list(base_by_round.values()))
    rows: list[dict[str, Any]] = []
    for variant, loop in itertools.product(variants, loops):
        mine = [r for r in runs if r["variant"] == variant and r["loop"] == loop]
        us_per_message = median([r["us_per_message"] for r in mine])
        round_ratios = [r["us_per_message"] / base_by_round[r["round"]] for r in mine]
        rows.append(
            {
                "variant": variant,
                "loop": loop,
                "us_per_message": us_per_message,
                "delivered_per_second": median([r["delivered_per_second"] for r in mine]),
                "ratio": us_per_message / base,
                "round_ratios": round_ratios,
                "round_ratio_median": median(round_ratios),
            }
        )
    return rows


if __name__ == "__main__":
    main()
