"""The run summary counts datapoints that carried metric keys peerperf does not declare."""

from __future__ import annotations

import json

import pandas as pd

from analysis.summary import summarize


def test_the_summary_counts_unknown_keys() -> None:
    frame = pd.DataFrame(
        {
            "peerId": ["a", "a", "b"],
            "timestamp": [1, 2, 3],
            "connectedPeers": [["b"], ["b"], ["a"]],
            "extra": [json.dumps({"newCounter": 1}), None, json.dumps({"newCounter": 2, "flag": True})],
        }
    )
    figure = next(f for f in summarize(frame).figures if f.label == "datapoints with unknown metric keys")
    assert figure.value == 2 and figure.unit == "keys: flag, newCounter"
    plain = summarize(frame.assign(extra=None))
    assert all(f.label != "datapoints with unknown metric keys" for f in plain.figures)
