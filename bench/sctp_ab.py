"""Stock vs tuned SCTP, A/B in one process: the transport's own effect, with machine noise cancelled.

Builds a bare aiortc mesh of N peers on stock SCTP and one on the tuned transport in the same
process, then alternates short windows between them (ABBA order), each window sending R messages
per second on every link both ways with the same 60 Hz pacing as `message_cpu.py`. The idle mesh
costs both sides alike. Reports CPU per delivered message and SCTP datagrams per message.

    python bench/sctp_ab.py [--peers 5] [--rate 40] [--seconds 3] [--windows 8]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from common import BENCH_DIR, median, print_table, write_json
from message_cpu import bare_mesh, paced, sender, window

VARIANTS = ("stock", "tuned")


def count_datagrams() -> dict[str, int]:
    """Count the SCTP packets each variant hands to DTLS (class-level, so both meshes are seen)."""
    from aiortc.rtcdtlstransport import RTCDtlsTransport

    from peerperf.peer.sctp_tuning import TunedSctpTransport

    counts = {"stock": 0, "tuned": 0}
    send_data = RTCDtlsTransport._send_data

    async def counting(self: Any, data: bytes) -> None:
        counts["tuned" if isinstance(self._data_receiver, TunedSctpTransport) else "stock"] += 1
        await send_data(self, data)

    RTCDtlsTransport._send_data = counting  # type: ignore[method-assign]
    return counts


async def measure(peers: int, rate: float, seconds: float, windows: int) -> list[dict[str, Any]]:
    meshes = {name: await bare_mesh(peers, name == "tuned") for name in VARIANTS}
    datagrams = count_datagrams()
    runs = []
    for i in range(windows):
        for name in VARIANTS if i % 2 == 0 else reversed(VARIANTS):
            _connections, channels, delivered = meshes[name]
            sent_before, delivered_before = datagrams[name], delivered[0]
            result = await window(seconds, delivered, [paced(seconds + 1.2, rate, sender(m)) for m in channels])
            # Over the whole sending span (warm-up and tail included), not only the CPU window:
            result["datagrams_per_message"] = (datagrams[name] - sent_before) / (delivered[0] - delivered_before)
            runs.append({"variant": name, **result})
    for connections, _channels, _delivered in meshes.values():
        for pc in connections:
            await pc.close()
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peers", type=int, default=5)
    parser.add_argument("--rate", type=float, default=40.0, help="messages per second from each peer to each other")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one window")
    parser.add_argument("--windows", type=int, default=8, help="windows per variant")
    parser.add_argument("--json", default=str(BENCH_DIR / "results" / "sctp_ab.json"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    runs = asyncio.run(measure(args.peers, args.rate, args.seconds, args.windows))
    rows: list[dict[str, Any]] = []
    for name in VARIANTS:
        mine = [r for r in runs if r["variant"] == name]
        rows.append(
            {
                "variant": name,
                "us_per_message": median([r["cpu_seconds"] / r["delivered"] * 1e6 for r in mine]),
                "delivered_per_second": median([r["delivered"] / r["wall_seconds"] for r in mine]),
                "datagrams_per_message": median([r["datagrams_per_message"] for r in mine]),
            }
        )
    for row in rows:
        row["ratio"] = row["us_per_message"] / rows[0]["us_per_message"]
    print_table(
        f"Stock vs tuned SCTP in one process, {args.peers} peers fully meshed, {args.rate:g} msg/s per link each way, "
        f"median of {args.windows} alternating {args.seconds:g} s windows (baseline: stock)",
        ["variant", "delivered/s", "us/message", "datagrams/message", "x baseline"],
        [
            [r["variant"], r["delivered_per_second"], r["us_per_message"], r["datagrams_per_message"], r["ratio"]]
            for r in rows
        ],
    )
    parameters = {k: getattr(args, k) for k in ("peers", "rate", "seconds", "windows")}
    write_json(args.json, "sctp_ab", parameters, {"summary": rows, "runs": runs})


if __name__ == "__main__":
    main()
