"""The run's parameters, declared once: `python -m peerperf.run --help` is generated from this."""

from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from peerperf.errors import ConfigError
from peerperf.lighthouse.settings import LighthouseSettings
from peerperf.peer.settings import PeerSettings
from peerperf.results.influx.relay_settings import InfluxSettings
from peerperf.results.settings import ResultsSettings
from peerperf.settings import setting, setting_like
from peerperf.sim.churn import parse_churn, steady_plan, with_churn
from peerperf.sim.sessions import parse_session_length, with_session_lengths
from peerperf.sim.stages import StagePlan, check_peers, parse_stages

#: Where a run's peers differ from the library's defaults: they ping as the original performance-test
#: client did (pingInterval 9 ms, so a round every ~7.009 s with the 7 s ping timeout); `--ping-interval off`.
RUN_PEER_DEFAULTS: dict[str, Any] = {"ping_interval": 0.009}
#: Peer settings the run manages itself (hosts close every peer's stats window together; each node
#: offers its own address as ICE host candidate), so they are not run flags.
RUN_MANAGED_PEER_SETTINGS = ("stats_update_interval", "host_addresses")


@dataclass(frozen=True)
class RunConfig:
    """One performance test. Env vars named after the original's (PEERS_COUNT, TEST_ID, ...) also work."""

    peers: int = setting(8, "simulated peers (with --stages: the largest target)", env="PEERS_COUNT")
    duration: float = setting(
        180.0, "test length after the start signal (with --stages: their sum)", env="TEST_DURATION", unit="s"
    )
    stages: str | None = setting(
        None,
        "load over time, k6's form: each duration:target moves the active peers linearly to target, e.g. "
        "30s:100,2m:100,30s:0 (peers join and leave through the lighthouse during the test)",
    )
    churn: str | None = setting(
        None,
        "replace this share of the active peers every minute, e.g. 10%/min (at most 100%/min): the oldest "
        "instance leaves and a new instance, with a new id, joins its place",
    )
    session_length: str | None = setting(
        None,
        "how long each peer instance stays, drawn per instance: exp:5m (mean), fixed:2m or uniform:1m-3m; it then "
        "leaves and a new instance, with a new id, joins its place",
    )
    routine: str = setting("default", "routine name, module:function, or a weighted mix such as default:0.8,idle:0.2")
    peers_per_actor: int = setting(1, "simulated peers per Ray actor (1: every peer is its own process)")
    browser_peers: int = setting(0, "browser peers: pages of --browser-client, one peer each, in headless Chromium")
    browser_client: str | None = setting(
        None, "the browser client: a folder the run serves over HTTP (the original's client/), or its URL"
    )
    pages_per_browser: int = setting(10, "pages per headless Chromium (the original's containers ran 10)")
    stats_interval: int = setting(2000, "datapoint period per peer", unit="ms")
    lighthouse_url: str | None = setting(
        None, "an external lighthouse; default: start the embedded one", env="LIGHTHOUSE_URL"
    )
    results_url: str | None = setting(
        None,
        "an external results server (peers submit over HTTP); default: start the embedded one",
        env="RESULTS_SERVER_URL",
    )
    lighthouse_port: int = setting(0, "embedded lighthouse port (0: a free one)")
    results_port: int = setting(0, "embedded results gateway port (0: a free one)")
    #: The embedded lighthouse's capacity: the original's, declared once in `LighthouseSettings` (the env
    #: var stays the run's own, so a shell set up for a standalone lighthouse does not resize the run's).
    max_per_layer: int = setting(
        LighthouseSettings.max_per_layer, "peers one layer of the embedded lighthouse holds (its capacity)"
    )
    results_token: str | None = setting(
        None, "bearer token of the results API (the embedded one then requires it too)", env="RESULTS_TOKEN"
    )
    test_id: str | None = setting(
        None,
        "test to create, or to join when it exists (peers then wait for its start through the results API)",
        env="TEST_ID",
    )
    address: str | None = setting(
        None, "Ray address; default: a running cluster if there is one, else a local Ray", env="RAY_ADDRESS"
    )
    output: str = setting_like(ResultsSettings, "location", "results folder of the embedded results service")
    layer: str = setting("blue", "layer every peer joins")
    room: str = setting("room", "room peers join (a prefix with --room-size)")
    room_size: int | None = setting(None, "spread peers over rooms of this many: room-1, room-2, ...")
    layer_size: int | None = setting(
        None,
        "peers per layer: a run with more peers spreads them over blue-1, blue-2, ... as the network sends users "
        "to other layers (every packet floods its whole layer, so layer size sets each peer's load); "
        "default: the lighthouse's layer capacity",
    )
    ready_timeout: float = setting(120.0, "how long peers may take to connect and join", unit="s")
    on_missing: str = setting("abort", "when peers are not ready by the deadline: abort or proceed")
    restart_hosts: int = setting(
        0, "replace a peer host that fails mid-test up to this many times; its peers rejoin as new instances (0: off)"
    )
    start_timeout: float = setting(600.0, "how long peers wait for the start signal", unit="s")
    peer_id_length: int = setting(42, "length of random peer ids (42 mimics an ETH address)", env="PEER_ID_LENGTH")
    topology_interval: float = setting(
        5.0, "sample the lighthouse's topology into the test this often; 0: never", unit="s"
    )
    finish_wait: float = setting(
        60.0, "after joining someone else's test, wait this long for its finish before saving what is there", unit="s"
    )
    seed: int | None = setting(None, "random seed for ids, positions and start offsets")
    plain: bool = setting(False, "plain progress lines instead of the live view")
    #: Every peer's library settings (their flags and env vars come from `PeerSettings` itself).
    peer: PeerSettings = field(default_factory=lambda: PeerSettings(**RUN_PEER_DEFAULTS))
    #: Where the embedded results service relays datapoints (flags and env vars from `InfluxSettings`).
    influx: InfluxSettings = field(default_factory=InfluxSettings)

    def __post_init__(self) -> None:
        problems = []
        if self.peers < 1:
            problems.append("--peers must be at least 1")
        if self.duration <= 0:
            problems.append("--duration must be positive")
        if self.peers_per_actor < 1:
            problems.append("--peers-per-actor must be at least 1")
        if self.stats_interval < 100:
            problems.append("--stats-interval must be at least 100 ms")
        if self.room_size is not None and self.room_size < 1:
            problems.append("--room-size must be at least 1")
        if self.layer_size is not None and self.layer_size < 1:
            problems.append("--layer-size must be at least 1")
        if self.max_per_layer < 1:
            problems.append("--max-per-layer must be at least 1")
        elif self.lighthouse_url is None and self.layer_size is not None and self.layer_size > self.max_per_layer:
            problems.append(
                f"--layer-size {self.layer_size} is above the embedded lighthouse's layer capacity "
                f"{self.max_per_layer}: it would refuse peer {self.max_per_layer + 1} of every layer; use "
                f"--layer-size {self.max_per_layer} or less, or raise --max-per-layer"
            )
        problems += self._browser_problems()
        if self.restart_hosts < 0:
            problems.append("--restart-hosts must not be negative")
        if self.on_missing not in ("abort", "proceed"):
            problems.append("--on-missing must be abort or proceed")
        if self.stages is not None:
            parse_stages(self.stages)  # a stage list that does not parse is refused before anything starts
        if self.churn is not None:
            parse_churn(self.churn)
        if self.session_length is not None:
            parse_session_length(self.session_length)
        if problems:
            raise ConfigError("; ".join(problems))

    def _browser_problems(self) -> list[str]:
        """The original page joins layer `blue`, room `room` and sends no token: a run it cannot join is refused."""
        if self.browser_peers < 0:
            return ["--browser-peers must not be negative"]
        if self.pages_per_browser < 1:
            return ["--pages-per-browser must be at least 1"]
        if not self.browser_peers:
            return []
        if not self.browser_client:
            return ["--browser-peers needs --browser-client (a client folder, or its URL)"]
        if (self.layer, self.room, self.room_size) != ("blue", "room", None):
            return ["browser peers join layer blue, room room (the original page's): keep --layer and --room"]
        if self.results_token:
            return ["browser pages send no results token: --browser-peers cannot be used with --results-token"]
        if self.stages is not None or self.churn is not None or self.session_length is not None:
            return [
                "browser pages join once and stay: --browser-peers cannot be used with --stages, --churn or "
                "--session-length"
            ]
        return []

    @property
    def output_folder(self) -> Path:
        """`output`, absolute: resolved by the driver, since the results actor's working folder is the
        driver's only when this process started Ray."""
        return Path(os.path.abspath(os.path.expanduser(self.output)))

    @cached_property
    def stage_plan(self) -> StagePlan | None:
        """Who is active when (`--stages`, `--churn`, `--session-length`); None: every peer for the whole test.
        Computed once: without `--seed`, session lengths are drawn from a seed drawn here."""
        if self.churn is None and self.session_length is None:
            return None if self.stages is None else parse_stages(self.stages)
        plan = steady_plan(self.peers, self.duration) if self.stages is None else parse_stages(self.stages)
        if self.session_length is not None:
            seed = self.seed if self.seed is not None else random.randrange(2**32)
            plan = with_session_lengths(plan, parse_session_length(self.session_length), seed)
        return plan if self.churn is None else with_churn(plan, parse_churn(self.churn))


def with_stages(config: RunConfig, peers_given: bool, duration_given: bool) -> RunConfig:
    """`config` with `--peers` (unless given) and `--duration` taken from `--stages`: an explicit `--peers` must
    hold the largest target, and an explicit `--duration` must be the stages' sum."""
    if config.stages is None:
        return config
    plan = parse_stages(config.stages)
    peers = check_peers(plan, config.peers if peers_given else None)
    if duration_given and not math.isclose(plan.duration, config.duration):
        raise ConfigError(
            f"--duration {config.duration:g} s differs from the stages' sum {plan.duration:g} s: leave it out"
        )
    return replace(config, peers=peers, duration=plan.duration)


#: Settings never written to results: credentials.
SECRET_SETTINGS = frozenset({"ice_username", "ice_credential", "auth_secret", "results_token", "influx_token"})


def recorded_settings(config: RunConfig, *more: Any) -> dict[str, Any]:
    """Every run and peer setting of `config` (and of the settings objects `more`) as plain JSON values,
    secrets left out, for the test's metadata; `data_path_ran` says which data path the peers ran (the
    requested one, or the next one down when this installation cannot run it: peerperf/peer/data_path.py)."""
    from peerperf.peer.data_path import in_effect

    out: dict[str, Any] = {}
    for source in (config, config.peer, config.influx, *more):
        for f in fields(source):
            if f.name in ("peer", "influx") or f.name in SECRET_SETTINGS:
                continue
            value = getattr(source, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
    out["data_path_ran"] = in_effect(config.peer.data_path)
    return out
