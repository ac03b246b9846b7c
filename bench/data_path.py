"""Stock aiortc vs tuned SCTP vs the fast and compiled receive paths, in one process (issue 23 items 1-2).

Builds four bare aiortc meshes of N peers in the same process: `stock` (aiortc 1.16.0 as shipped),
`tuned` (peerperf/peer/sctp_tuning.py), `fast` (tuned SCTP plus peerperf/peer/fast_path.py) and
`compiled` (tuned SCTP plus peerperf/peer/compiled_path.py, what peerperf's peers run with
`data_path=compiled` when the C extension is built). Short windows alternate between them in ABBA order
(ABCD DCBA ...), each sending R messages per second on every link both ways with `message_cpu.py`'s 60 Hz
pacing, so the machine's noise hits all four alike. Reports process CPU per delivered message, the ratio
to stock and, for `fast` and `compiled`, how many datagrams took the fast path and how many SCTP packets
and SACK chunks the compiled one (proof they ran). `--profile` adds a cProfile of one extra window of each
variant: Python calls per delivered message (a count, which machine noise does not move) and, for `fast`
and `compiled`, the top entries by own time, what is left to move. `--perf` adds one more window of each
variant sampled by Linux perf (bench/perf_shares.py): the share of CPU in the interpreter, the kernel,
OpenSSL, uvloop and peerperf's C, which cProfile's own overhead cannot show.

    python bench/data_path.py [--peers 5] [--rate 40] [--seconds 3] [--windows 8] [--loop uvloop] [--profile] [--perf]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import logging
import os
import pstats
from typing import Any

import perf_shares
from common import BENCH_DIR, LOAD_AT_START, median, print_table, write_json
from message_cpu import bare_mesh, paced, sender, window

VARIANTS = ("stock", "tuned", "fast", "compiled")
#: Profile entries kept in the JSON.
PROFILE_TOP = 25


async def mesh(peers: int, variant: str) -> tuple[list[Any], list[Any], list[int]]:
    """A connected mesh of `variant`; the fast and compiled paths attach to connections already open."""
    from peerperf.peer import compiled_path, fast_path

    connections, channels, delivered = await bare_mesh(peers, variant != "stock")
    if variant == "fast":
        for pc in connections:
            if not fast_path.install(pc.sctp):
                raise SystemExit(f"the fast path is off here: {fast_path.drifted_internals()}")
    if variant == "compiled":
        for pc in connections:
            if not compiled_path.install(pc.sctp):
                raise SystemExit(f"the compiled path is off here: {compiled_path.why_not()}")
    return connections, channels, delivered


def datagrams_sent(connections: list[Any]) -> int:
    """The datagrams DTLS has sent so far on `connections` (its own counter, which the stock, fast and compiled
    paths all keep): SCTP packets, once the handshake is over. Read, not wrapped: a wrapper around
    `_send_data` would cost every variant a call per packet and hide the compiled path's direct send."""
    return sum(pc.sctp.transport._RTCDtlsTransport__tx_packets for pc in connections)


def fast_counts(connections: list[Any]) -> tuple[int, int, int]:
    """Datagrams taken by the fast path, and SCTP packets and SACK chunks taken by the compiled path, so far."""
    receivers = [pc.sctp.transport._peerperf_fast for pc in connections]
    return (
        sum(r.fast for r in receivers),
        sum(getattr(r, "compiled", 0) for r in receivers),
        sum(getattr(r, "sacks", 0) for r in receivers),
    )


async def measure(args: argparse.Namespace) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    meshes = {name: await mesh(args.peers, name) for name in VARIANTS}

    async def one_window(name: str) -> dict[str, Any]:
        connections, channels, delivered = meshes[name]
        senders = [paced(args.seconds + 1.2, args.rate, sender(mine)) for mine in channels]
        fast = name in ("fast", "compiled")
        counts_before = fast_counts(connections) if fast else (0, 0, 0)
        sent_before, delivered_before = datagrams_sent(connections), delivered[0]
        result = await window(args.seconds, delivered, senders)
        # Over the whole sending span (warm-up and tail included), not only the CPU window:
        sent = datagrams_sent(connections) - sent_before
        result["datagrams_per_message"] = sent / (delivered[0] - delivered_before)
        if fast:
            counts = fast_counts(connections)
            result["fast_datagrams"] = counts[0] - counts_before[0]
            if name == "compiled":
                result["compiled_packets"] = counts[1] - counts_before[1]
                result["compiled_sacks"] = counts[2] - counts_before[2]
            result["suspended_sctp_calls"] = sum(pc.sctp.transport._peerperf_fast.suspended for pc in connections)
        return {"variant": name, **result}

    runs = []
    for i in range(args.windows):
        for name in VARIANTS if i % 2 == 0 else tuple(reversed(VARIANTS)):
            runs.append(await one_window(name))
    profile: dict[str, Any] = {}
    if args.profile:
        calls: dict[str, float] = {}
        for name in VARIANTS:
            profiler = cProfile.Profile()
            profiler.enable()
            profiled = await one_window(name)
            profiler.disable()
            entries = top_entries(profiler, profiled["delivered"])
            calls[name] = sum(e["calls_per_message"] for e in entries)
            if name in ("fast", "compiled"):
                profile[f"{name}_top"] = entries[:PROFILE_TOP]
        profile["calls_per_message"] = calls
    if args.perf:
        profile["cpu_share_by_library"] = {}
        for name in VARIANTS:
            sampling = await perf_shares.start(args.seconds + 1.0)  # the warm-up second and the window
            await one_window(name)
            profile["cpu_share_by_library"][name] = await perf_shares.finish(sampling)
    for connections, _channels, _delivered in meshes.values():
        for pc in connections:
            await pc.close()
    return runs, profile


def top_entries(profiler: cProfile.Profile, delivered: int) -> list[dict[str, Any]]:
    """The functions with the most own time, per delivered message (cProfile's overhead inflates them all)."""
    stats = pstats.Stats(profiler, stream=io.StringIO())
    rows = []
    for (path, line, name), (_primitive, calls, own, cumulative, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append(
            {
                "function": f"{os.path.basename(path)}:{line}({name})",
                "calls_per_message": calls / max(delivered, 1),
                "own_us_per_message": own / max(delivered, 1) * 1e6,
                "cumulative_us_per_message": cumulative / max(delivered, 1) * 1e6,
            }
        )
    rows.sort(key=lambda r: r["own_us_per_message"], reverse=True)
    return rows


def summarise(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per variant: medians over its windows, the ratio of medians to stock, and the median and range of
    each round's own ratio (a round: one window of every variant, back to back), which a noisy shared
    machine moves less."""

    def cost(run: dict[str, Any]) -> float:
        return float(run["cpu_seconds"] / run["delivered"] * 1e6)

    rounds = [runs[i : i + len(VARIANTS)] for i in range(0, len(runs), len(VARIANTS))]
    rows: list[dict[str, Any]] = []
    for name in VARIANTS:
        mine = [r for r in runs if r["variant"] == name]
        per_round = [
            cost(next(r for r in w if r["variant"] == name)) / cost(next(r for r in w if r["variant"] == "stock"))
            for w in rounds
        ]
        rows.append(
            {
                "variant": name,
                "us_per_message": median([cost(r) for r in mine]),
                "delivered_per_second": median([r["delivered"] / r["wall_seconds"] for r in mine]),
                "datagrams_per_message": median([r["datagrams_per_message"] for r in mine]),
                "round_ratio_median": median(per_round),
                "round_ratio_range": [min(per_round), max(per_round)],
            }
        )
    for row in rows:
        row["ratio"] = row["us_per_message"] / rows[0]["us_per_message"]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peers", type=int, default=5)
    parser.add_argument("--rate", type=float, default=40.0, help="messages per second from each peer to each other")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one window")
    parser.add_argument("--windows", type=int, default=8, help="windows per variant")
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop", help="event loop (peers run uvloop)")
    parser.add_argument("--profile", action="store_true", help="also profile one extra window of each variant")
    parser.add_argument(
        "--perf",
        action="store_true",
        help="also sample one extra window of each variant with Linux perf: CPU by library",
    )
    parser.add_argument("--json", default=str(BENCH_DIR / "results" / "data_path.json"))
    args = parser.parse_args()
    if args.perf and (why := perf_shares.available()):
        parser.error(why)
    logging.basicConfig(level=logging.ERROR)
    if args.loop == "uvloop":
        import uvloop

        runs, profile = uvloop.run(measure(args))
    else:
        runs, profile = asyncio.run(measure(args))
    rows = summarise(runs)
    print_table(
        f"Receive paths in one process, {args.peers} peers fully meshed, {args.rate:g} msg/s per link each way, "
        f"{args.loop}, median of {args.windows} alternating {args.seconds:g} s windows (baseline: stock)",
        ["variant", "delivered/s", "us/message", "datagrams/message", "x baseline", "per round: median", "range"],
        [
            [
                r["variant"],
                r["delivered_per_second"],
                r["us_per_message"],
                r["datagrams_per_message"],
                r["ratio"],
                r["round_ratio_median"],
                "{:.2f}-{:.2f}".format(*r["round_ratio_range"]),
            ]
            for r in rows
        ],
    )
    if "calls_per_message" in profile:
        print_table(
            "Python calls per delivered message (cProfile, one window each)",
            ["variant", "calls/message"],
            [[name, count] for name, count in profile["calls_per_message"].items()],
        )
        for name in ("fast", "compiled"):
            print_table(
                f"{name} path under cProfile: top functions by own time (inflated by the profiler)",
                ["function", "calls/message", "own us/message"],
                [[p["function"], p["calls_per_message"], p["own_us_per_message"]] for p in profile[f"{name}_top"][:12]],
            )
    if "cpu_share_by_library" in profile:
        shares = profile["cpu_share_by_library"]
        groups = list(next(iter(shares.values())))
        print_table(
            "CPU by library, percent of perf samples (one window each)",
            ["variant", *groups],
            [[name, *(row[g] for g in groups)] for name, row in shares.items()],
        )
    parameters = {k: getattr(args, k) for k in ("peers", "rate", "seconds", "windows", "loop", "profile", "perf")}
    parameters["load_average_before"] = LOAD_AT_START  # also machine.load_average_at_start; kept for older readers
    write_json(args.json, "data_path", parameters, {"summary": rows, "runs": runs, "profile": profile})


if __name__ == "__main__":
    main()
