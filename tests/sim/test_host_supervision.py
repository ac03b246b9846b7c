"""A peer host's stats loop survives an unexpected exception: reported, counted in the next datapoints
(`hostHarnessErrors`) and the live view's progress, and every later window is still submitted."""

from __future__ import annotations

from typing import Any

from peerperf.peer import PeerSettings
from peerperf.results.client import HttpResultsClient
from peerperf.results.model import BatchResult, Submission
from peerperf.sim.host import PeerHost
from peerperf.sim.host_config import HostConfig, PeerSpec
from tests.lighthouse.conftest import StartLighthouse, start_lighthouse  # noqa: F401
from tests.results.conftest import Gateway, gateway  # noqa: F401


class FirstBatchFails(HttpResultsClient):
    """The results client with a fault injected: the first batch raises something nobody expects."""

    batches = 0

    async def submit_batch(self, test_id: str, submissions: list[Submission]) -> BatchResult:
        self.batches += 1
        if self.batches == 1:
            raise RuntimeError("injected: the first batch blows up")
        return await super().submit_batch(test_id, submissions)


async def test_the_stats_loop_goes_on_after_an_unexpected_error(
    start_lighthouse: StartLighthouse,  # noqa: F811
    gateway: Gateway,  # noqa: F811
) -> None:
    lighthouse = await start_lighthouse()
    config = HostConfig("host-x", lighthouse.base, PeerSettings(ping_interval=None), 0.3, 20.0, 0.0)
    specs = [PeerSpec(i, f"hp{i}", "idle", "blue", "room", (float(i), 0.0, 0.0)) for i in range(2)]
    host = PeerHost(config, specs)
    results = FirstBatchFails(gateway.base)
    try:
        assert (await host.setup()).ready == ["hp0", "hp1"]
        await results.create_test("hosted", started=True)
        submitted = await host.run(results, "hosted", duration=1.5, start_timeout=10.0)
        assert results.batches >= 3 and submitted == 2 * (results.batches - 1)
        assert host.supervisor.errors == 1 and host.progress().harness_errors == 1
        status, document = await gateway.call("PUT", "/test/hosted/finish")
        assert status == 200
        points: list[dict[str, Any]] = document["dataPoints"]
        assert len(points) == submitted
        counted = {(p["metrics"]["window"], p["metrics"]["hostHarnessErrors"]) for p in points}
        assert sum(errors for _, errors in counted) == 1  # once, in the first window after the failure
    finally:
        await host.shutdown()
        await results.close()
