"""What a run shows while it goes (`RunSnapshot`) and how it ended (`RunOutcome`): shared by the orchestrator
and the view, so the view needs nothing of Ray."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peerperf.results.influx.relay_stats import RelayStats


@dataclass(frozen=True)
class RunSnapshot:
    """What the live view shows, refreshed about once a second."""

    phase: str
    peers: int
    ready: int
    failed: int
    nodes: int
    elapsed: float
    duration: float
    originated_per_second: float = 0.0
    received_per_second: float = 0.0
    connections_mean: float = 0.0
    connections_min: int = 0
    tick_lag_p99_ms: float = 0.0
    cpu_max: float = 0.0
    datapoints: int = 0
    #: Routine calls that raised (the peer goes on, but its traffic is not what the routine meant).
    routine_errors: int = 0
    #: Datapoints the results service refused.
    rejected: int = 0
    #: Peers whose host failed during the test.
    lost: int = 0
    #: Where the peer hosts log (routine errors and failures are there).
    log_dir: str = ""
    #: Unexpected exceptions in the peers' and hosts' background work (the loops went on; see the logs).
    harness_errors: int = 0
    #: The results gateway's live page, and how to reach it from elsewhere (a cluster's port-forward).
    live_url: str = ""
    live_hint: str = ""
    #: What the InfluxDB relay of the embedded results service did so far (None: no relay).
    relay: RelayStats | None = None
    #: How the peers are spread over layers: "20 layers of 50".
    layers: str = ""
    #: Each peer host's last closed window (its fields of the datapoint schema), for the harness verdict so far.
    host_windows: tuple[dict[str, Any], ...] = ()
    #: With `--stages`: the number of active peers the stages ask for now (`ready` is how many are active).
    target: float | None = None


@dataclass
class RunOutcome:
    """How the run ended and where its results are."""

    test_id: str = ""
    ok: bool = False
    reason: str = ""
    #: The run did not start because of its arguments (exit code 2), found only once it asked the lighthouse.
    bad_arguments: bool = False
    interrupted: bool = False
    owned: bool = False
    missing: dict[str, str] = field(default_factory=dict)
    #: Peers whose host failed (exception, killed actor) during the test, and why.
    lost: dict[str, str] = field(default_factory=dict)
    #: Every peer the run planned, ready or not.
    peer_ids: list[str] = field(default_factory=list)
    #: Datapoints the results service refused.
    rejected: int = 0
    #: Where the peer hosts' logs are (local Ray's session folder), when known.
    log_dir: str | None = None
    datapoints: int = 0
    json_path: Path | None = None
    parquet_path: Path | None = None
    results_url: str | None = None
    lighthouse_url: str | None = None
    #: The InfluxDB relay's final counts (None: no relay); `not_relayed` points never reached InfluxDB.
    relay: RelayStats | None = None
    #: Topology snapshots stored, not taken (lighthouse or results service unreachable), and failed
    #: unexpectedly (harness errors, in the driver's log); also `topologySamples`, `topologySkipped` and
    #: `topologyErrors` in the test's metadata.
    topology_samples: int = 0
    topology_skipped: int = 0
    topology_errors: int = 0
    #: Datapoints of a test downloaded from another results server that do not fit peerperf's schema:
    #: in `{id}.json` only (`parquetSkippedDatapoints` in the Parquet file's metadata says so too).
    download_skipped: int = 0
