"""What the mesh over time costs the HTML report of a big run: time and size, with and without it.

Generates a test of P peers x W windows (`analysis_summary.generate`: every metric a real datapoint
has) and the lighthouse topology a run of it would have sampled: every 5 s, one sample per layer of
50, each peer listing 4 to 7 others of its layer. Then writes the report of the same datapoints
without the topology (the same-run baseline: the report as it was) and with it, interleaved round by
round. Prints a table and writes JSON.

    python bench/report_mesh.py [--peers 1000] [--windows 300] [--rounds 2]
"""

from __future__ import annotations

import argparse
import functools
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from analysis_summary import generate, timed
from common import BENCH_DIR, median, print_table, write_json

from peerperf.analysis.html_report import report
from peerperf.analysis.results_files import load_datapoints
from peerperf.analysis.summarise import summary

#: Peers per layer, as the original lighthouse's capacity makes them.
LAYER_SIZE = 50
#: How often a run samples the topology (`--topology-interval`), ms.
SAMPLE_EVERY_MS = 5000


def topology(peers: int, span_ms: int, seed: int = 0) -> list[tuple[int, Any]]:
    """`(timestamp, body)` as the run stores them: every pass, one `/layers/{l}/topology` body per layer."""
    rng = np.random.default_rng(seed)
    ids = [f"peer-{p:05d}" for p in range(peers)]
    samples = []
    for start in range(1_000_000, 1_000_000 + span_ms, SAMPLE_EVERY_MS):
        for layer, first in enumerate(range(0, peers, LAYER_SIZE)):
            members = ids[first : first + LAYER_SIZE]
            body = [
                {"id": peer, "layer": f"blue-{layer + 1}", "connectedPeerIds": links(members, rng)} for peer in members
            ]
            samples.append((start + layer * 5, body))
    return samples


def links(members: list[str], rng: np.random.Generator) -> list[str]:
    """4 to 7 peers of the layer (itself among them at times: the analysis drops those)."""
    count = min(len(members), int(rng.integers(4, 8)))
    return [str(m) for m in rng.choice(members, count, replace=False)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peers", type=int, default=1000)
    parser.add_argument("--windows", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved without / with rounds")
    parser.add_argument("--json", default=str(BENCH_DIR / "results" / "report_mesh.json"))
    args = parser.parse_args()
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.parquet"
        rows = generate(path, args.peers, args.windows)
        frame = load_datapoints(path).assign(testId="bench")
        result = summary(frame)
        samples = topology(args.peers, args.windows * 2000)
        for _ in range(args.rounds):
            without = Path(folder) / "without.html"
            with_mesh = Path(folder) / "with.html"
            baseline_s, _ = timed(functools.partial(report, frame, result, without))
            mesh_s, _ = timed(functools.partial(report, frame, result, with_mesh, topology=samples))
            runs.append(
                {
                    "without_s": baseline_s,
                    "with_s": mesh_s,
                    "without_mb": without.stat().st_size / 1e6,
                    "with_mb": with_mesh.stat().st_size / 1e6,
                }
            )
    baseline, measured = median([r["without_s"] for r in runs]), median([r["with_s"] for r in runs])
    results = {
        "datapoints": rows,
        "topology_samples": len(samples),
        "runs": runs,
        "without_s": baseline,
        "with_s": measured,
        "ratio": measured / baseline,
        "without_mb": runs[-1]["without_mb"],
        "with_mb": runs[-1]["with_mb"],
    }
    print_table(
        f"HTML report of {args.peers} peers x {args.windows} windows, {len(samples)} topology samples, "
        f"median of {args.rounds} rounds",
        ["figure", "seconds", "x baseline", "MB"],
        [
            ["report without topology (baseline)", baseline, 1.0, round(runs[-1]["without_mb"], 2)],
            ["report with the mesh over time", measured, measured / baseline, round(runs[-1]["with_mb"], 2)],
        ],
    )
    write_json(args.json, "report_mesh", vars(args), results)


if __name__ == "__main__":
    main()
