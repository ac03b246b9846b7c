"""The summary counts datapoints that carried metric keys peerperf does not declare."""

from __future__ import annotations

import json

from peerperf.analysis.summarise import summary
from tests.analysis.fixtures import Scenario


def test_the_summary_counts_unknown_keys() -> None:
    frame = Scenario(windows=3).frame()
    frame["extra"] = None
    frame.loc[0, "extra"] = json.dumps({"newCounter": 1})
    frame.loc[5, "extra"] = json.dumps({"newCounter": 2, "flag": True})
    metric = summary(frame).metrics["datapoints.unknown_keys"]
    assert metric.value == 2 and "flag, newCounter" in metric.label
    assert "datapoints.unknown_keys" not in summary(frame.assign(extra=None)).metrics
