"""The run's test in the results service: create or join it, keep what the run knows with it, find its files."""

from __future__ import annotations

import logging
from typing import Any

from peerperf.config import RunConfig
from peerperf.errors import PeerperfError, RunAborted
from peerperf.results.client import ResultsClient
from peerperf.results.download import download_test
from peerperf.run_state import RunOutcome
from peerperf.sim.host_config import PeerSpec
from peerperf.sim.stages import StagePlan, departed_ids

log = logging.getLogger(__name__)


async def prepare_test(results: ResultsClient, test_id: str | None, outcome: RunOutcome) -> None:
    """Create the test, or join an existing one whose start someone else controls."""
    if test_id is not None:
        try:
            info = await results.get_test(test_id)
        except PeerperfError as exc:
            if getattr(exc, "http_status", None) != 404:
                raise RunAborted(f"cannot look up test {test_id}: {exc}") from exc
        else:
            if info.finished is not None:
                raise RunAborted(f"test {test_id} has already finished")
            outcome.test_id, outcome.owned = test_id, False
            return
    try:
        info = await results.create_test(test_id)
    except PeerperfError as exc:
        raise RunAborted(f"cannot create the test: {exc}") from exc
    outcome.test_id, outcome.owned = info.id, True


async def record(results: ResultsClient, outcome: RunOutcome, metadata: dict[str, Any]) -> None:
    """Keep what the run knows about itself with the test (its settings, who took part, what went wrong)."""
    if not outcome.owned:
        return  # someone else's test: its metadata is theirs
    try:
        await results.set_metadata(outcome.test_id, metadata)
    except PeerperfError as exc:  # e.g. the original results server, which has no metadata route
        log.warning("the results service did not keep the run's metadata: %s", exc)


async def keep_files(config: RunConfig, outcome: RunOutcome) -> None:
    """Point the outcome at the test's files; a test kept by an external server is downloaded first."""
    folder = config.output_folder
    if config.results_url:
        try:
            downloaded = await download_test(config.results_url, outcome.test_id, folder, config.results_token)
            outcome.json_path, outcome.parquet_path = downloaded.json_path, downloaded.parquet_path
            outcome.download_skipped = downloaded.skipped
        except PeerperfError as exc:
            log.error("the test's results could not be saved locally: %s", exc)
    elif (folder / f"{outcome.test_id}.json").exists():
        outcome.json_path = folder / f"{outcome.test_id}.json"
        outcome.parquet_path = folder / f"{outcome.test_id}.parquet"


def staged(plan: StagePlan | None, specs: list[PeerSpec]) -> dict[str, Any]:
    """What the test's metadata records of `--stages`: the plan, and the instances that leave on purpose."""
    if plan is None:
        return {}
    return {**({"stagePlan": plan.to_json()} if plan.explicit else {}), "departedPeers": departed_ids(plan, specs)}
