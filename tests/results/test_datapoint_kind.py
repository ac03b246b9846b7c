"""Every stored datapoint says which client made it: `python` for peerperf's peers, `browser` for a body of
the original client's page (only the original's keys), as reported when a client says; the column reaches
JSON and Parquet, so a mixed test summarises and groups by it."""

from __future__ import annotations

import pandas as pd

from peerperf.analysis.results_files import load_datapoints
from peerperf.analysis.summarise import summary
from peerperf.protocol.metrics import BROWSER, PYTHON, kind_of
from tests.results.conftest import Gateway, metrics_body


def test_kind_of_a_body() -> None:
    assert kind_of(metrics_body()) == BROWSER  # the original's keys only
    assert kind_of(metrics_body(window=3)) == PYTHON  # every peerperf host numbers its windows
    assert kind_of(metrics_body(kind="python")) == PYTHON  # as reported, window or not
    assert kind_of(metrics_body(window=3, kind="")) == PYTHON  # an empty report says nothing


async def test_the_service_stamps_each_datapoint_with_its_kind(gateway: Gateway) -> None:
    assert (await gateway.call("POST", "/test/mixed", json={"started": True}))[0] == 200
    for window in range(1, 6):
        for page in ("page-a", "page-b"):
            status, point = await gateway.call("PUT", f"/test/mixed/peer/{page}/metrics", json=metrics_body(window))
            assert status == 200 and point["metrics"]["kind"] == BROWSER, point
        body = metrics_body(window, window=window, hostId="h0", connectedPeers=["page-a"], kind=PYTHON)
        status, point = await gateway.call("PUT", "/test/mixed/peer/ours/metrics", json=body)
        assert status == 200 and point["metrics"]["kind"] == PYTHON
    status, document = await gateway.call("PUT", "/test/mixed/finish")
    assert status == 200
    assert {(p["peerId"], p["metrics"]["kind"]) for p in document["dataPoints"]} == {
        ("page-a", BROWSER),
        ("page-b", BROWSER),
        ("ours", PYTHON),
    }
    for name in ("mixed.parquet", "mixed.json"):
        frame = load_datapoints(gateway.folder / name).assign(testId="mixed")
        assert frame.groupby("kind")["peerId"].nunique().to_dict() == {BROWSER: 2, PYTHON: 1}, name
        result = summary(frame)  # a mixed test once crashed here (a categorical layer filled with '')
        assert (result["peers.browser"], result["datapoints.browser"]) == (2, 10), name
    assert pd.read_parquet(gateway.folder / "mixed.parquet")["kind"].notna().all()
