"""Smoke test of bench/sctp_ab.py: both meshes deliver, and the tuned one sends fewer datagrams."""

from __future__ import annotations

from pathlib import Path

from tests.bench.conftest import run_bench


def test_stock_and_tuned_meshes_are_measured_in_one_process(tmp_path: Path) -> None:
    document = run_bench("sctp_ab.py", tmp_path, "--peers", "2", "--rate", "30", "--seconds", "0.5", "--windows", "1")
    stock, tuned = document["results"]["summary"]
    assert (stock["variant"], tuned["variant"], stock["ratio"]) == ("stock", "tuned", 1.0)
    assert all(run["delivered"] > 0 for run in document["results"]["runs"])
    # Stock sends a DATA packet and a SACK packet per message; the tuned SACK rides in the DATA packet.
    assert stock["datagrams_per_message"] > 1.8 and tuned["datagrams_per_message"] < stock["datagrams_per_message"]
