"""`python -m peerperf.run --routine roam` on the real stack: peers move between rooms through the embedded
lighthouse (local Ray, aiortc on loopback), their datapoints say where they were, and delivery to rooms
follows them; with `--session-length`, instances end and new ones take their place.

One run serves every test of the module: 4 peers in 2 rooms of 2, each moving to the other room every
5-8 s of its routine time (the roam period shortened by its parameter), for 20 s; every instance stays
13 s (`fixed:13s`, 1 s from a window's edge), so at 13 s all four leave and four new instances join.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from peerperf.analysis.delivery import origin_delivery
from peerperf.analysis.results_files import load
from peerperf.analysis.windows import with_windows
from peerperf.routines.roam import moves, parse_period
from tests.runcli import results_document

PERIOD = "5-8"
ROOMS = ("room-1", "room-2")


@dataclass(frozen=True)
class RoamRun:
    frame: pd.DataFrame
    summary: dict[str, Any]
    output: str
    metadata: dict[str, Any]


@pytest.fixture(scope="module")
def roamed(tmp_path_factory: pytest.TempPathFactory) -> RoamRun:
    folder = tmp_path_factory.mktemp("roam")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("RAY_ADDRESS", None)
    args = ["--peers", "4", "--room-size", "2", "--routine", f"roam?period={PERIOD}", "--duration", "20"]
    args += ["--session-length", "fixed:13s"]
    args += ["--peers-per-actor", "2", "--ping-interval", "off", "--seed", "24", "--plain", "--allow-unhealthy"]
    args += ["--output", str(folder / "out"), "--summary-json", str(folder / "summary.json")]
    done = subprocess.run(
        [sys.executable, "-m", "peerperf.run", *args], env=env, capture_output=True, text=True, timeout=240
    )
    output = done.stdout + done.stderr + f"\nexit code {done.returncode}"
    assert done.returncode == 0, output[-3000:]
    parquet = [p for p in Path(folder / "out").glob("*.parquet") if p.name.count(".") == 1]
    frame = with_windows(load(parquet[0])).sort_values(["peerId", "window"]).reset_index(drop=True)
    summary = json.loads((folder / "summary.json").read_text())
    return RoamRun(frame, summary, output, results_document(folder / "out")["metadata"])


def test_each_peer_reports_the_rooms_its_seeded_schedule_moves_it_to(roamed: RoamRun) -> None:
    frame = roamed.frame
    assert isinstance(frame["rooms"].iloc[0], list | np.ndarray), "a list column in Parquet"
    assert all(list(rooms) == [room] for rooms, room in zip(frame["rooms"], frame["room"], strict=True))
    first = roamed.metadata["peerIds"][:4]
    for peer, rows in frame.groupby("peerId", observed=True):
        visited = [room for room, _ in itertools.groupby(rows["room"])]
        planned = [m.room for m in itertools.islice(moves(str(peer), ROOMS, visited[0], parse_period(PERIOD)), 4)]
        if peer in first:
            assert len(visited) >= 2, f"{peer} moved at least once in its 13 s: {visited}"
        assert visited[1:] == planned[: len(visited) - 1], peer
        assert rows["roomMoves"].sum() == 2 * (len(visited) - 1), "a leave and a join per move"
        changed = rows["room"].ne(rows["room"].shift()).to_numpy()[1:]
        assert (rows["roomMoves"].to_numpy()[1:][changed] == 2).all(), "in the window the room changed"


def test_delivery_to_rooms_counts_a_receiver_only_while_it_is_a_member(roamed: RoamRun) -> None:
    metrics, frame = roamed.summary["metrics"], roamed.frame
    assert frame["routineErrors"].sum() == 0, "no move was refused"
    assert 0.95 <= metrics["delivery.position"] <= 1.0 and metrics["delivery"] >= 0.95, metrics
    exact = origin_delivery(frame, first=2, grace=1).per_peer.loc[frame["testId"].iloc[0]]
    first = roamed.metadata["peerIds"][:4]
    assert (exact.loc[first, "expected.position"] > 0).all(), "every first instance counted as a receiver"
    # A receiver that stayed in one room from the window before to the one after got no position message of
    # that window from the other room: at most what the peers sending to its room then made.
    rows = frame.set_index(["peerId", "window"])
    checked = 0
    for row in frame.itertuples():
        around = [(row.peerId, w) for w in (row.window - 1, row.window, row.window + 1)]
        if not all(key in rows.index for key in around) or rows.loc[around, "roomMoves"].sum() > 0:
            continue
        key = f"{row.window}/position"
        arrived = sum(dict(rows.loc[at, "arrivedByWindow"]).get(key, 0) for at in around[1:])
        senders = frame[(frame["window"] == row.window) & (frame["peerId"] != row.peerId)]
        to_its_room = senders[(senders["room"] == row.room) | (senders["roomMoves"] > 0)]
        assert arrived <= sum(dict(made).get(key, 0) for made in to_its_room["originatedByWindow"]), row
        checked += 1
    assert checked >= 4, "enough windows where a receiver stayed put"


def test_each_instance_leaves_after_its_session_and_a_new_one_takes_its_slot(roamed: RoamRun) -> None:
    ids, frame = roamed.metadata["peerIds"], roamed.frame
    assert len(ids) == 8 and ids[4:] == [f"{peer}-s2" for peer in ids[:4]], "joined in slot order"
    assert roamed.metadata["departedPeers"] == ids[:4]
    first, last = (
        frame.groupby("peerId", observed=True)["window"].min(),
        frame.groupby("peerId", observed=True)["window"].max(),
    )
    for old, new in zip(ids[:4], ids[4:], strict=True):
        assert last[old] == 7 and first[new] == 7, "left at 13 s: the old ends and the new begins in window 7"
    assert set(frame["peerId"].astype(str)) == set(ids)
