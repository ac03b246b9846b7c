"""The public surface (docs/api.md) keeps its names: what users import must not move under them.

`peerperf.RunConfig`, `peerperf.run.run`, `peerperf.analysis.{load, summary, compare, report, check}`
and `peerperf.routines.RoutinePeer`; each package's `__all__` says exactly these, they load lazily
(importing them costs neither Ray nor pandas), and importing any analysis module never swaps a public
function for a module of the same name. The real run through `run` is tests/test_docs_snippets.py's.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import subprocess
import sys
import types

import pytest

import peerperf
import peerperf.analysis
import peerperf.routines
import peerperf.run
from peerperf.cluster.network_mode import ALWAYS_ENV
from peerperf.errors import ConfigError
from peerperf.run_result import BAD_ARGUMENTS, FAILED, INTERRUPTED, OK, UNHEALTHY, RunPaths, RunResult, exit_code
from peerperf.run_state import RunOutcome
from tests.analysis.fixtures import Scenario

ANALYSIS = {
    "load": "results_files",
    "metadata": "results_files",
    "summary": "summarise",
    "Summary": "summarise",
    "check": "assertions",
    "Outcome": "assertions",
    "compare": "comparison",
    "Comparison": "comparison",
    "report": "html_report",
    "compare_report": "html_report",
}


def test_each_package_exports_exactly_its_public_names() -> None:
    assert peerperf.__all__ == ["RunConfig", "__version__"]
    assert sorted(peerperf.analysis.__all__) == sorted(ANALYSIS)
    assert peerperf.routines.__all__ == ["Routine", "RoutinePeer"]
    assert set(peerperf.run.__all__) == {"RunConfig", "RunPaths", "RunResult", "main", "parse", "run"}
    for package in (peerperf, peerperf.analysis, peerperf.routines, peerperf.run):
        for name in package.__all__:
            assert getattr(package, name) is not None, f"{package.__name__}.{name}"


def test_the_public_names_are_the_objects_their_modules_define() -> None:
    from peerperf.config import RunConfig
    from peerperf.sim.api import RoutinePeer

    assert peerperf.RunConfig is RunConfig and peerperf.routines.RoutinePeer is RoutinePeer
    for name, home in ANALYSIS.items():
        assert getattr(peerperf.analysis, name) is getattr(importlib.import_module(f"peerperf.analysis.{home}"), name)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        peerperf.analysis.nothing  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        peerperf.nothing  # noqa: B018


def test_importing_every_analysis_module_leaves_the_public_functions_in_place() -> None:
    """A submodule named like a public function would replace it on the package once imported."""
    modules = [m.name for m in pkgutil.iter_modules(peerperf.analysis.__path__) if m.name != "__main__"]
    assert not set(modules) & set(ANALYSIS), "an analysis module shares a name with a public function"
    for name in modules:
        importlib.import_module(f"peerperf.analysis.{name}")
    for name in ANALYSIS:
        assert not isinstance(getattr(peerperf.analysis, name), types.ModuleType), name


def test_the_public_packages_load_without_ray_or_pandas_and_still_choose_rays_network() -> None:
    code = (
        "import os, sys\n"
        "import peerperf, peerperf.analysis, peerperf.routines\n"
        "from peerperf.cluster.network_mode import ALWAYS_ENV\n"
        "print(sorted(m for m in ('ray', 'pandas', 'matplotlib', 'peerperf.config') if m in sys.modules))\n"
        "print(all(os.environ.get(k) == v for k, v in ALWAYS_ENV.items()))\n"
        "from peerperf import RunConfig\n"
        "print(RunConfig.__module__)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ALWAYS_ENV}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:3] == ["[]", "True", "peerperf.config"], done.stdout


def test_run_takes_a_config_and_keyword_options_only() -> None:
    parameters = inspect.signature(peerperf.run.run).parameters
    assert next(iter(parameters)) == "config"
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in list(parameters.values())[1:])
    assert {"assertions", "report", "summary_json", "junit_xml", "allow_unhealthy", "progress"} <= set(parameters)


@pytest.mark.parametrize(
    ("config", "options", "message"),
    [
        ({"peers": 0}, {}, "--peers must be at least 1"),
        ({"routine": "no_such_routine"}, {}, "no_such_routine"),
        ({}, {"assertions": ["delivery about 1"]}, "expected [COLUMN:VALUE.]NAME OP VALUE"),
    ],
)
def test_bad_input_to_run_raises_the_clis_config_error_before_anything_starts(
    config: dict[str, object], options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace(".", r"\.")):
        peerperf.run.run(peerperf.RunConfig(**config), **options)  # type: ignore[arg-type]


def test_check_reads_assertion_text_against_datapoints_or_their_summary() -> None:
    from peerperf.analysis import check, summary

    frame = Scenario(lost={0: 0.1}).frame()
    outcomes = check(frame, ["delivery>=0.5", "delivery>=0.999", "stage:1.delivery>=0.5", "delivry>0"])
    assert [o.passed for o in outcomes] == [True, False, False, False]
    assert "did you mean delivery" in outcomes[3].message
    assert "no column 'stage'" in outcomes[2].message  # scoped: the datapoints were grouped, and have no stages
    assert [o.passed for o in check(summary(frame), ["delivery>=0.5", "delivery>=0.999"])] == [True, False]
    with pytest.raises(ConfigError, match="expected"):
        check(frame, ["delivery"])


def outcome(**fields: object) -> RunOutcome:
    return RunOutcome(test_id="t1", **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ended", "failed", "healthy", "allow", "code"),
    [
        (outcome(ok=True), False, True, False, OK),
        (outcome(ok=True), False, False, False, UNHEALTHY),
        (outcome(ok=True), False, False, True, OK),
        (outcome(ok=True), True, True, False, FAILED),
        (outcome(ok=False), False, True, False, FAILED),
        (outcome(ok=False, interrupted=True), False, True, False, INTERRUPTED),
        (outcome(ok=False, bad_arguments=True), True, True, False, BAD_ARGUMENTS),
    ],
)
def test_the_exit_code_is_the_clis(ended: RunOutcome, failed: bool, healthy: bool, allow: bool, code: int) -> None:
    from peerperf.analysis import summary

    result = summary(Scenario().frame() if healthy else Scenario().frame().iloc[:0])
    assert (str(result.verdict.status) == "healthy") is healthy
    assert exit_code(ended, failed, result, allow) == code


def test_a_result_without_a_summary_says_why() -> None:
    ended = outcome(reason="3 peers were not ready by the deadline")
    assert RunResult(ended, None, (), RunPaths(), FAILED).no_summary == "3 peers were not ready by the deadline"
    assert RunResult(outcome(ok=True), None, (), RunPaths(), UNHEALTHY).no_summary == "the run wrote no datapoints file"
