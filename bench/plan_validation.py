"""Does `peerperf plan` predict real layers? Predicted vs measured at every layer size this machine holds healthy.

Part 1, the run's defaults (default routine at full rate, pings on): for each size, real packed layers
(`peerperf.sizing.packed_run`, each in a fresh process, `--repeats` of them) against the plan's
prediction: packets received per peer from the mesh simulation (mean of `--seeds` simulated layers)
and CPU per peer from the calibration's cost model at the same peers per process. Goal: received
within 10 %, CPU within 20 %.

Part 2, copies per packet where they grow: bigger layers at `--copies-rate` of the default routine's
rates (pings off), so the machine holds them; received per peer, real vs simulated, within 10 %.

Part 3, the published predictions: `peerperf plan` for 1,000 peers in layers of `--predict` on nodes of
`--node-cpus`.

    python bench/plan_validation.py [--sizes 4,6,8,10] [--repeats 2] [--seeds 3] [--seconds 40]
        [--copies-sizes 12,16,20] [--copies-rate 0.04] [--calibration FILE] [--predict 50,100]
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path
from typing import Any

from common import BENCH_DIR, print_table, write_json

from peerperf.peer.settings import PeerSettings
from peerperf.sizing import calibration as calibration_file
from peerperf.sizing import peer_settings_json
from peerperf.sizing.calibrate import measure_in_child
from peerperf.sizing.calibration import Calibration
from peerperf.sizing.layer_measurement import LayerMeasurement
from peerperf.sizing.packed_run import PackedLayer
from peerperf.sizing.packet_prediction import predict
from peerperf.sizing.plan import PACKETS_RESOLUTION, PlanRequest, make_plan, render

#: The issue's goals: received per peer within 10 % (what a plan takes as the simulation's resolution), CPU 20 %.
RECEIVED_GOAL = PACKETS_RESOLUTION
CPU_GOAL = 0.20
#: The routine part 2 runs, from this folder (its rate is `PLAN_VALIDATION_RATE`).
SLOW_ROUTINE = "validation_routine:routine"


def real_layers(size: int, routine: str, peer: PeerSettings, args: argparse.Namespace) -> list[LayerMeasurement]:
    env = {"PYTHONPATH": os.pathsep.join([str(BENCH_DIR), os.environ.get("PYTHONPATH", "")])}
    env["PLAN_VALIDATION_RATE"] = os.environ["PLAN_VALIDATION_RATE"]
    return [
        measure_in_child(PackedLayer(size, routine, peer, None, args.seconds, 2.0, seed), env)
        for seed in range(1, args.repeats + 1)
    ]


def predicted_received(size: int, routine: str, peer: PeerSettings, seeds: int) -> list[float]:
    return [predict(size, routine, peer, seed=seed, duration=30.0).received for seed in range(1, seeds + 1)]


def compare(
    size: int, calibration: Calibration, routine: str, peer: PeerSettings, args: argparse.Namespace
) -> dict[str, Any]:
    real = real_layers(size, routine, peer, args)
    simulated = predicted_received(size, routine, peer, args.seeds)
    measured_received = statistics.mean(m.received for m in real)
    predicted = statistics.mean(simulated)
    model = calibration.fit.model
    predicted_cpu = model.cores_per_peer(size, predicted)  # the real layers run all their peers in one process
    measured_cpu = statistics.mean(m.cpu_per_peer for m in real)
    return {
        "layer": size,
        "routine": routine,
        "predicted_received": predicted,
        "predicted_received_by_seed": simulated,
        "measured_received": measured_received,
        "received_ratio": predicted / measured_received,
        "received_within_goal": abs(predicted / measured_received - 1) <= RECEIVED_GOAL,
        "predicted_cpu_per_peer": predicted_cpu,
        "measured_cpu_per_peer": measured_cpu,
        "cpu_ratio": predicted_cpu / measured_cpu,
        "cpu_within_goal": abs(predicted_cpu / measured_cpu - 1) <= CPU_GOAL,
        "healthy": all(m.healthy for m in real),
        "measured": [m.to_json() for m in real],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="4,6,8,10", help="layer sizes at full rate, the first the baseline")
    parser.add_argument("--repeats", type=int, default=2, help="real layers per size (fresh process each)")
    parser.add_argument("--seeds", type=int, default=3, help="simulated layers per size")
    parser.add_argument("--seconds", type=float, default=40.0, help="test length of each real layer")
    parser.add_argument("--copies-sizes", default="12,16,20", help="bigger layers at a low rate ('' for none)")
    parser.add_argument("--copies-rate", type=float, default=0.04, help="their share of the default routine's rates")
    parser.add_argument("--calibration", help="calibration file [default: the one peerperf ships]")
    parser.add_argument("--predict", default="50,100", help="layer sizes to plan 1,000 peers in ('' for none)")
    parser.add_argument("--plan-peers", type=int, default=1000)
    parser.add_argument("--node-cpus", type=int, default=16, help="vCPUs of a peer node (cluster.yaml's)")
    parser.add_argument("--json", default=str(BENCH_DIR / "results" / "plan_validation.json"))
    args = parser.parse_args()
    os.environ["PLAN_VALIDATION_RATE"] = str(args.copies_rate)  # before the simulation imports the routine
    calibration = calibration_file.load(Path(args.calibration)) if args.calibration else calibration_file.default()
    run_peer = peer_settings_json.from_json(calibration.peer_settings)
    full = [compare(int(s), calibration, calibration.routine, run_peer, args) for s in args.sizes.split(",")]
    quiet = PeerSettings()
    copies = [compare(int(s), calibration, SLOW_ROUTINE, quiet, args) for s in args.copies_sizes.split(",") if s]
    base = full[0]
    print_table(
        f"predicted vs measured per peer, {calibration.routine} routine at full rate, pings as the run "
        f"(calibration: {calibration.source}; baseline: the layer of {base['layer']})",
        [
            "layer",
            "received pred",
            "measured",
            "ratio",
            "<=10%",
            "x baseline",
            "cores pred",
            "measured",
            "ratio",
            "<=20%",
            "healthy",
        ],
        [
            [
                r["layer"],
                round(r["predicted_received"], 1),
                round(r["measured_received"], 1),
                round(r["received_ratio"], 3),
                r["received_within_goal"],
                round(r["measured_received"] / base["measured_received"], 2),
                round(r["predicted_cpu_per_peer"], 4),
                round(r["measured_cpu_per_peer"], 4),
                round(r["cpu_ratio"], 3),
                r["cpu_within_goal"],
                r["healthy"],
            ]
            for r in full
        ],
    )
    if copies:
        print_table(
            f"copies where they grow: the default routine at {args.copies_rate:g}x its rates, pings off",
            ["layer", "received pred", "measured", "ratio", "<=10%", "copies/unique measured", "healthy"],
            [
                [
                    r["layer"],
                    round(r["predicted_received"], 1),
                    round(r["measured_received"], 1),
                    round(r["received_ratio"], 3),
                    r["received_within_goal"],
                    round(statistics.mean(m["received"] / m["unique"] for m in r["measured"]), 2),
                    r["healthy"],
                ]
                for r in copies
            ],
        )
    plans = []
    for size in (int(s) for s in args.predict.split(",") if s):
        packets = predict(size, calibration.routine, run_peer)
        plan = make_plan(PlanRequest(args.plan_peers, size, args.node_cpus, 0.6), calibration, packets)
        print(f"\n$ peerperf plan --peers {args.plan_peers} --layer-size {size} --node-cpus {args.node_cpus}")
        print(render(plan))
        plans.append(plan.to_json())
    parameters = {
        k: getattr(args, k)
        for k in ("sizes", "repeats", "seeds", "seconds", "copies_sizes", "copies_rate", "predict", "node_cpus")
    }
    parameters["calibration"] = calibration.source
    write_json(args.json, "plan_validation", parameters, {"full_rate": full, "copies": copies, "plans": plans})


if __name__ == "__main__":
    main()
