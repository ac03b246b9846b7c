"""`peerperf calibrate` and `peerperf plan`: parse, build the settings, call the sizing code, exit code.

Exit codes: 0 done, 1 the calibration found too few healthy layers, 2 bad arguments or an unreadable
calibration.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from peerperf.config import RUN_MANAGED_PEER_SETTINGS, RUN_PEER_DEFAULTS
from peerperf.errors import ConfigError
from peerperf.lighthouse.settings import LighthouseSettings
from peerperf.peer.settings import PeerSettings
from peerperf.settings import add_arguments, resolve
from peerperf.sizing import calibrate as calibrate_module
from peerperf.sizing import calibration as calibration_file
from peerperf.sizing import peer_settings_json
from peerperf.sizing import plan as plan_module
from peerperf.sizing.browser_plan import plan_browsers, render_browsers
from peerperf.sizing.calibrate import CalibrationPlan, calibrate
from peerperf.sizing.packet_prediction import predict
from peerperf.sizing.plan import PlanRequest, make_plan, render
from peerperf.sizing.sizing_settings import CalibrateSettings, PlanSettings


def calibrate_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="peerperf calibrate", description=calibrate_module.__doc__)
    add_arguments(parser, CalibrateSettings)
    add_arguments(
        parser.add_argument_group("peer library settings, as the runs to plan will use them"),
        PeerSettings,
        RUN_MANAGED_PEER_SETTINGS,
        RUN_PEER_DEFAULTS,
    )
    args = parser.parse_args(argv)
    try:
        settings = resolve(CalibrateSettings, args)
        peer = resolve(PeerSettings, args, defaults=RUN_PEER_DEFAULTS)
        plan = CalibrationPlan(
            _sizes(settings.sizes, "--sizes"),
            settings.routine,
            peer,
            settings.seconds,
            settings.stats_interval / 1000,
            settings.seed,
            settings.keep_going,
            tuple(_sizes(settings.layers_per_process, "--layers-per-process")),
        )
    except ConfigError as exc:
        print(f"peerperf calibrate: {exc}", file=sys.stderr)
        return 2
    try:
        result = calibrate(plan, lambda line: print(line, flush=True))
    except ConfigError as exc:
        print(f"peerperf calibrate: {exc}", file=sys.stderr)
        return 1
    output = Path(settings.output)
    result.save(output)
    print(f"calibration written to {output} (largest healthy layer: {result.largest_healthy})")
    return 0


def plan_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="peerperf plan", description=plan_module.__doc__)
    add_arguments(parser, PlanSettings)
    args = parser.parse_args(argv)
    try:
        settings = resolve(PlanSettings, args)
        layer_size = settings.layer_size or _lighthouse_capacity()
        _check(PlanRequest(settings.peers, layer_size, settings.node_cpus or 1, settings.utilisation))
        _check_browsers(settings)
        if settings.calibration is None:
            cal = calibration_file.default()
        else:
            cal = calibration_file.load(Path(settings.calibration).expanduser())
        request = PlanRequest(settings.peers, layer_size, settings.node_cpus or cal.machine.cores, settings.utilisation)
    except ConfigError as exc:
        print(f"peerperf plan: {exc}", file=sys.stderr)
        return 2
    if settings.calibration is None and not settings.json:
        print(f"no --calibration given: using {cal.source}, made {cal.created_utc} on {cal.machine.cpu_model}")
    packets = predict(
        layer_size, cal.routine, peer_settings_json.from_json(cal.peer_settings), seed=settings.simulation_seed
    )
    result = make_plan(request, cal, packets)
    if not settings.browser_peers:
        print(json.dumps(result.to_json(), indent=2) if settings.json else render(result))
        return 0
    browsers = plan_browsers(result, settings.browser_peers, settings.pages_per_browser)
    if settings.json:
        print(json.dumps({**result.to_json(), "browser": browsers.to_json()}, indent=2))
    else:
        print(f"{render(result)}\n{render_browsers(browsers)}")
    return 0


def _sizes(text: str, flag: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"{flag}: expected comma-separated integers, got {text!r}") from None


def _check(request: PlanRequest) -> None:
    problems = []
    if request.peers < 1:
        problems.append("--peers must be at least 1")
    if request.layer_size < 2:
        problems.append("--layer-size must be at least 2")
    if request.node_cpus < 1:  # a calibration's own cores are at least 1
        problems.append("--node-cpus must be at least 1")
    if not 0 < request.utilisation <= 1:
        problems.append("--utilisation must be in (0, 1]")
    if problems:
        raise ConfigError("; ".join(problems))


def _check_browsers(settings: PlanSettings) -> None:
    problems = []
    if settings.browser_peers < 0:
        problems.append("--browser-peers must not be negative")
    if settings.pages_per_browser < 1:
        problems.append("--pages-per-browser must be at least 1")
    if problems:
        raise ConfigError("; ".join(problems))


def _lighthouse_capacity() -> int:
    """The lighthouse's default layer capacity (a run's default layer size), as `LighthouseSettings` declares it."""
    capacity = {f.name: f.default for f in dataclasses.fields(LighthouseSettings)}["max_per_layer"]
    assert isinstance(capacity, int)
    return capacity
