"""The end of a run's test: finishing it (or waiting for its owner to), the relay's last writes, the kept
files, and whether the run succeeded and, when not, why."""

from __future__ import annotations

from collections.abc import Callable

from peerperf.cluster.embedded_services import RunServices, relay_stats
from peerperf.cluster.run_records import keep_files
from peerperf.config import RunConfig
from peerperf.results.download import wait_finished
from peerperf.run_state import RunOutcome

#: After the finish, how long the InfluxDB relay may take to write what is pending before the summary.
RELAY_DRAIN_TIMEOUT = 10.0


async def finish(config: RunConfig, services: RunServices, outcome: RunOutcome, show: Callable[[str], None]) -> None:
    """Finish the test the run owns (or wait for its owner to), then settle `outcome.ok` and its reason."""
    if outcome.owned:
        show("finishing the test")
        await services.results.finish_test(outcome.test_id)
    else:
        finish_url = f"{outcome.results_url}/test/{outcome.test_id}/finish"
        show(f"waiting for test {outcome.test_id} to be finished: PUT {finish_url}")
        await wait_finished(services.results, outcome.test_id, 0 if outcome.interrupted else config.finish_wait)
    outcome.relay = await relay_stats(services, RELAY_DRAIN_TIMEOUT)
    await keep_files(config, outcome)
    settle(outcome, config.on_missing == "proceed")


def settle(outcome: RunOutcome, tolerated: bool) -> None:
    """`outcome.ok`: not interrupted, datapoints recorded, no peer missing or lost unless `tolerated`
    (`--on-missing proceed`); a failed run without a reason yet gets the first that applies."""
    outcome.ok = (
        not outcome.interrupted and outcome.datapoints > 0 and (tolerated or (not outcome.missing and not outcome.lost))
    )
    if not outcome.ok and not outcome.reason:
        if outcome.interrupted:
            outcome.reason = "interrupted"
        elif outcome.datapoints == 0:
            outcome.reason = "no datapoints were recorded"
        elif outcome.lost:
            outcome.reason = (
                f"{len(outcome.lost)} peers were lost when their host failed (use --on-missing proceed to accept)"
            )
        else:
            outcome.reason = "some peers were missing"
