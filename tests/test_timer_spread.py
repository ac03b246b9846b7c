"""No timers in lockstep, on the real stack: a room of 10 peers (local Ray, the embedded lighthouse, aiortc
on loopback) pinging as the original client, as `python -m peerperf.run` runs them by default: packed in
one peer host, and one peer per host (the default).

The start barrier joins every peer in the same instant; before the timers had phases, all ten ping
rounds of the room started together every ~7 s, and a 2 s window holding them received nearly
twice the packets of the others. Here the rounds are counted per window from the datapoints
(`pingRounds`), and the received packets per window are compared with their mean.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pandas as pd
import pytest

from peerperf.sim.phases import phase
from tests.runcli import results_document

#: 30 s: windows 1..15 are whole (each host's 16th is partial), so 13 windows after FORMING: the 10 the
#: steadiness test needs even if the two the fixture tolerates missing are among them; over 4 round periods.
PEERS, SEED, DURATION = 10, 22, 30
#: The original client's ping round: 9 ms between rounds, each collecting pongs for 7 s.
ROUND_PERIOD = 7.009
WINDOW = 2.0
#: Windows before the mesh has formed and every routine runs (start offsets of up to 3 s).
FORMING = 2
#: A run's datapoints (whole windows only) and its results document.
Run = tuple[pd.DataFrame, dict[str, Any]]


@pytest.fixture(scope="module", params=[PEERS, 1], ids=["packed", "actor-each"])
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """One default run of 10 peers, `request.param` per peer host; its datapoints (whole windows only)
    and document."""
    output = tmp_path_factory.mktemp("spread")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("RAY_ADDRESS", None)
    args = ["--peers", str(PEERS), "--peers-per-actor", str(request.param), "--duration", str(DURATION)]
    # What is checked here is when the timers fire, not whether this machine carries ten peers in one process
    # with a healthy harness (it read saturated on a busy CI machine, with the code before the timers' tests
    # too): an unhealthy verdict is accepted, a failed run (lost peers, errors) is not.
    args += ["--seed", str(SEED), "--output", str(output), "--plain", "--allow-unhealthy"]
    done = subprocess.run(
        [sys.executable, "-m", "peerperf.run", *args], env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    document = results_document(output)
    frame = pd.DataFrame([{"peerId": p["peerId"], **p["metrics"]} for p in document["dataPoints"]])
    frame = frame[frame["window"] < frame.groupby("hostId")["window"].transform("max")]  # not hosts' last, partial
    reports = frame.groupby("window")["peerId"].nunique()
    whole = reports[reports == PEERS].index  # windows every peer reported (hosts may end a window apart)
    assert len(whole) >= DURATION / WINDOW - 2, f"peers missing from windows: {reports.to_dict()}"
    frame = frame[frame["window"].isin(whole)]
    return frame, document


def test_ping_rounds_are_spread_over_the_round_period(run: Run) -> None:
    frame, document = run
    rounds = frame.groupby("window")["pingRounds"].sum()
    expected = PEERS * len(rounds) * WINDOW / ROUND_PERIOD
    assert rounds.sum() == pytest.approx(expected, abs=PEERS), "every peer pings every ~7 s"
    average = rounds.sum() / len(rounds)
    assert rounds.max() <= 2 * average, f"rounds bunched into one window: {rounds.to_dict()}"
    # The phases are the seeded rule's, recorded: the seed in the metadata, each peer's in its results.
    assert document["metadata"]["timerSeed"] == SEED
    for index, peer_id in enumerate(document["metadata"]["peerIds"]):
        recorded = document["results"][peer_id]["timerPhases"]
        assert recorded["ping"] == pytest.approx(phase(SEED, "ping", index)), peer_id
        assert {"heartbeat", "network_update", "housekeeping", "hint_request", "tick", "submit"} <= set(recorded)


def test_the_received_rate_of_the_room_is_steady_once_the_mesh_has_formed(run: Run) -> None:
    frame, _ = run
    received = frame[frame["window"] > FORMING].groupby("window")["received"].sum()
    assert len(received) >= 10
    deviation = (received - received.mean()).abs() / received.mean()
    assert deviation.max() < 0.25, f"received packets per window vary by up to {deviation.max():.0%}: {received}"
