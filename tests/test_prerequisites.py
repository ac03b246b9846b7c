"""On a machine without the tools some tests drive, those tests are skipped by name, never errored or passed.

A pytest session in a subprocess plays the bare machine: an empty PATH (no chromium, influxd, node, wrk,
ip...) and no `shared/` folder beside the checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.prerequisites import MARKERS, TOOLS, missing, packages, summary_line

#: One test per marker (what it needs), run where nothing is installed.
MARKED = {
    "tests/analysis/test_report_in_browser.py::test_the_report_renders_its_plots_without_console_errors": "chromium",
    "tests/results/influx/test_relay.py::test_the_v2_write_api_path_reaches_a_server_that_speaks_it": "influxd",
    "tests/bench/test_gateway_vs_original.py::"
    "test_gateway_bare_handler_and_original_server_echo_the_body_under_wrk": "node",
    "tests/results/test_results_storage.py::test_a_full_results_folder_is_refused_at_start": "ip",
}
GOLDEN = "tests/protocol/test_golden_vectors.py"
#: Needs nothing but Python: the loopback watch reads the kernel's tables, not `ss`.
UNMARKED = "tests/test_netwatch.py::test_loopback_traffic_passes"


@dataclass(frozen=True)
class Session:
    returncode: int
    output: str
    #: test id -> ("passed" | "skipped" | "failure" | "error", message)
    outcomes: dict[str, tuple[str, str]]


def _outcomes(report: Path) -> dict[str, tuple[str, str]]:
    outcomes = {}
    for case in ElementTree.parse(report).iter("testcase"):
        node = f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}"  # module-level tests only
        found = [(c.tag, c.get("message", "")) for c in case if c.tag in ("skipped", "failure", "error")]
        outcomes[node] = found[0] if found else ("passed", "")
    return outcomes


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Session:
    """The selected tests run with an empty PATH and nothing beside the checkout."""
    folder = tmp_path_factory.mktemp("bare")
    (folder / "bin").mkdir()
    (folder / "shared").mkdir()
    env = {**os.environ, "PATH": str(folder / "bin"), "PEERPERF_SHARED_DIR": str(folder / "shared")}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={folder / 'report.xml'}"]
    done = subprocess.run(
        [*command, *MARKED, GOLDEN, UNMARKED], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    return Session(done.returncode, done.stdout + done.stderr, _outcomes(folder / "report.xml"))


def test_the_session_says_up_front_what_is_missing_and_how_to_deselect_it(bare: Session) -> None:
    header = next(line for line in bare.output.splitlines() if line.startswith("prerequisites:"))
    assert header == summary_line(missing(path=""))
    for program in ("chromium", "influxd", "victoria-metrics", "curl", "node", "wrk", "ip", "unshare", "mount"):
        assert f" {program}," in header or f" {program}:" in header, program
    assert "-m 'not browser and not influx and not nodejs and not wrk and not root'" in header


def test_a_marked_test_is_skipped_naming_its_tool(bare: Session) -> None:
    assert bare.returncode == 0, bare.output[-3000:]
    for test, tool in MARKED.items():
        outcome, message = bare.outcomes[test]
        assert outcome == "skipped" and tool in message and "scripts/test installs" in message, (test, message)
    assert "SKIPPED" in bare.output  # -ra: the reasons are in the summary, visible


def test_the_golden_vectors_pass_with_nothing_beside_the_checkout(bare: Session) -> None:
    golden = {test: outcome for test, outcome in bare.outcomes.items() if test.startswith(GOLDEN)}
    passed = [test for test, (outcome, _) in golden.items() if outcome == "passed"]
    assert len(passed) >= 6 and [o for o, _ in golden.values()].count("skipped") <= 1, golden


def test_a_test_without_a_marker_still_runs(bare: Session) -> None:
    assert bare.outcomes[UNMARKED] == ("passed", "")


def test_each_marker_is_declared_and_each_tool_installable_or_a_privilege() -> None:
    assert {tool.marker for tool in TOOLS} == set(MARKERS)
    assert all(tool.packages or tool.name == "root privileges" for tool in TOOLS)
    expected = {"chromium", "influxdb", "victoria-metrics", "curl", "nodejs", "wrk", "iproute2"}
    assert expected <= set(packages(missing(path="")))


def test_a_test_using_a_tool_fixture_without_its_marker_is_refused(tmp_path: Path) -> None:
    (tmp_path / "test_planted.py").write_text("def test_uses_influx(influx):\n    pass\n")
    plugin = ["-p", "tests.conftest", "-p", "no:cacheprovider", f"--rootdir={tmp_path}", "-c", os.devnull]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *plugin, "--collect-only", str(tmp_path / "test_planted.py")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    assert "test_planted.py::test_uses_influx uses `influx` without @pytest.mark.influx" in done.stdout + done.stderr
