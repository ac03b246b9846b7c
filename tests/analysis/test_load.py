"""Which files of a results folder are a test's datapoints."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from peerperf.analysis.results_files import ResultsFileError, load, results_files


def test_a_folder_reads_each_tests_datapoints_not_its_topology_or_results_siblings(tmp_path: Path) -> None:
    pd.DataFrame({"peerId": ["a"], "timestamp": [1], "sent": [3.0]}).to_parquet(tmp_path / "t-1.parquet")
    pd.DataFrame({"timestamp": [1], "topology": ["[]"]}).to_parquet(tmp_path / "t-1.topology.parquet")
    pd.DataFrame({"peerId": ["a"], "timestamp": [1], "results": ["{}"]}).to_parquet(tmp_path / "t-1.results.parquet")
    (tmp_path / "t-1.json").write_text('{"id": "t-1", "dataPoints": []}')
    assert results_files(tmp_path) == [tmp_path / "t-1.parquet"]
    assert load(tmp_path)[["peerId", "sent", "testId"]].to_dict("records") == [
        {"peerId": "a", "sent": 3.0, "testId": "t-1"}
    ]


def test_a_sibling_named_on_the_command_line_is_a_clear_error(tmp_path: Path) -> None:
    sibling = tmp_path / "t-1.topology.parquet"
    pd.DataFrame({"timestamp": [1], "topology": ["[]"]}).to_parquet(sibling)
    with pytest.raises(ResultsFileError, match="holds no datapoints"):
        load(sibling)
