"""Copies per unique packet by layer size, from the mesh simulation: a property of the protocol under test.

The original's relay rule processes and relays again every copy of the newest unreliable packet (a
copy has the same timestamp, so `lastTimestamp - timestamp > discardOlderThan(0)` is false: neither a
duplicate nor expired), and every processed ping copy is answered by a broadcast pong. How many copies
a layer makes is not a formula here: it is what the real `Mesh` code does, run by
`peerperf.sizing` in virtual time over a mesh formed by the real connection policy.

For each layer size: one position packet's flood through the formed mesh (`flood_probe`, the same for
any routine), and the whole layer at the run's defaults (default routine, pings on) when it fits the
simulation's budget. Ratios are against the smallest layer of the same run.

    python bench/mesh_copies.py [--layers 8,12,16,20,24,32,50,100] [--floods 3] [--budget 3000000]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from common import BENCH_DIR, print_table, write_json

from peerperf.config import RUN_PEER_DEFAULTS
from peerperf.peer.settings import PeerSettings
from peerperf.sizing.flood_probe import probe
from peerperf.sizing.mesh_simulation import SimulationSettings, simulate


def measure_layer(size: int, args: argparse.Namespace) -> dict[str, Any]:
    settings = SimulationSettings(
        size, peer=PeerSettings(**RUN_PEER_DEFAULTS), duration=args.duration, max_receives=args.budget
    )
    started = time.perf_counter()
    flood = probe(settings, args.floods, args.per_flood)
    flood_seconds = time.perf_counter() - started
    row: dict[str, Any] = {
        "layer": size,
        "flood_copies_per_receiver": flood.copies_per_receiver,
        "flood_lower_bound": flood.lower_bound,
        "flood_connections": flood.connections,
        "flood_frames": flood.receives,
        "flood_seconds": flood_seconds,
        "whole_complete": None,
    }
    if args.whole_up_to and size <= args.whole_up_to:
        started = time.perf_counter()
        whole = simulate(settings)
        rates = whole.rates
        row.update(
            whole_complete=whole.complete,
            whole_seconds=time.perf_counter() - started,
            whole_frames=whole.receives,
            received_per_peer=rates.received,
            unique_per_peer=rates.unique,
            originated_per_peer=rates.originated,
            copies_per_unique=rates.copies_per_unique,
            connections=whole.connections,
        )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", default="8,12,16,20,24,32,50,100", help="layer sizes, the first the baseline")
    parser.add_argument("--floods", type=int, default=3, help="single floods per layer")
    parser.add_argument("--per-flood", type=int, default=3_000_000, help="frames one flood may take")
    parser.add_argument("--budget", type=int, default=3_000_000, help="frames the whole layer may take")
    parser.add_argument("--whole-up-to", type=int, default=24, help="simulate whole layers up to this size")
    parser.add_argument("--duration", type=float, default=20.0, help="virtual seconds of a whole layer's test")
    parser.add_argument("--json", default=str(BENCH_DIR / "results" / "mesh_copies.json"))
    args = parser.parse_args()
    rows = [measure_layer(int(size), args) for size in args.layers.split(",")]
    base = rows[0]["flood_copies_per_receiver"]
    print_table(
        "copies of one position packet per peer reached, and the whole layer at the run's defaults (pings on), "
        f"simulated (baseline: the layer of {rows[0]['layer']})",
        [
            "layer",
            "copies/packet",
            "x baseline",
            "wall s",
            "whole: received/peer/s",
            "unique/peer/s",
            "copies/unique",
            "wall s",
        ],
        [
            [
                r["layer"],
                ("≥ " if r["flood_lower_bound"] else "") + f"{r['flood_copies_per_receiver']:,.1f}",
                round(r["flood_copies_per_receiver"] / base, 1),
                round(r["flood_seconds"], 1),
                _whole(r, "received_per_peer"),
                _whole(r, "unique_per_peer"),
                _whole(r, "copies_per_unique"),
                round(r["whole_seconds"], 1) if "whole_seconds" in r else "-",
            ]
            for r in rows
        ],
    )
    parameters = {k: getattr(args, k) for k in ("layers", "floods", "per_flood", "budget", "whole_up_to", "duration")}
    write_json(args.json, "mesh_copies", parameters, {"layers": rows})


def _whole(row: dict[str, Any], key: str) -> str:
    if row["whole_complete"] is None:
        return "-"
    if not row["whole_complete"]:
        return "over budget"
    return f"{row[key]:,.1f}"


if __name__ == "__main__":
    main()
