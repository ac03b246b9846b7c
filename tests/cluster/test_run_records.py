"""What a run keeps of its test: a test downloaded from another results server notes in the run's outcome
the datapoints its Parquet file lacks (issue 21, "nothing silent")."""

from __future__ import annotations

from pathlib import Path

from peerperf.cluster.run_records import keep_files
from peerperf.config import RunConfig
from peerperf.run_state import RunOutcome
from tests.results.conftest import MIXED_DOCUMENT, document_server


async def test_datapoints_left_out_of_a_downloaded_test_are_in_the_outcome(tmp_path: Path) -> None:
    outcome = RunOutcome(test_id="mixed")
    async with document_server(MIXED_DOCUMENT) as base:
        await keep_files(RunConfig(results_url=base, output=str(tmp_path)), outcome)
    assert outcome.json_path == tmp_path / "mixed.json" and outcome.parquet_path == tmp_path / "mixed.parquet"
    assert outcome.download_skipped == 2
