"""A finished run: its summary and verdict, the assertions' outcomes, the files written, the exit code.

`peerperf.run.run` returns a `RunResult`; the command (`peerperf.run.main`) prints it and exits with
its `exit_code`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peerperf.analysis.assertions import Outcome, write_json, write_junit
from peerperf.run_state import RunOutcome

if TYPE_CHECKING:  # pandas and the analysis load only once there are results: `--help` stays quick
    import pandas as pd

    from peerperf.analysis.summarise import Summary


#: Exit codes (documented in the README's "Exit codes").
OK, FAILED, BAD_ARGUMENTS, UNHEALTHY, INTERRUPTED = 0, 1, 2, 3, 130


@dataclass(frozen=True)
class RunPaths:
    """The files a run wrote (None: not written)."""

    #: The results document, and its datapoints as Parquet (what `peerperf.analysis.load` reads).
    json: Path | None = None
    parquet: Path | None = None
    report: Path | None = None
    summary_json: Path | None = None
    junit_xml: Path | None = None


@dataclass(frozen=True)
class RunResult:
    """What `run` found: how the test ended, its summary and verdict, the assertions, the files."""

    #: How the run ended: test id, `ok`, `reason`, lost and missing peers, the services' URLs.
    outcome: RunOutcome
    #: The analysis summary, `.verdict` included; None when the run produced no results (`no_summary` says why).
    summary: Summary | None
    outcomes: tuple[Outcome, ...]
    paths: RunPaths
    #: What `python -m peerperf.run` exits with (the module's docstring lists the codes).
    exit_code: int
    #: One summary per kind of peer when the test had two (python and browser), else empty.
    kinds: dict[str, Summary] = field(default_factory=dict)

    @property
    def no_summary(self) -> str:
        """Why there is no summary ("" when there is one)."""
        if self.summary is not None:
            return ""
        return self.outcome.reason or "the run wrote no datapoints file"


@dataclass(frozen=True)
class Finished:
    """The finished test's datapoints (read once) and their summary."""

    frame: pd.DataFrame
    summary: Summary
    #: What the run recorded about itself (the summary's metadata), for summaries by group.
    metadata: dict[str, Any] = field(default_factory=dict)

    def by(self, column: str) -> dict[str, Summary]:
        """One summary per value of a datapoint column (`--assert 'stage:2.delivery>=0.99'`)."""
        from peerperf.analysis.groups import summaries_by

        return summaries_by(self.frame, column, metadata=self.metadata)

    def kinds(self) -> dict[str, Summary]:
        """One summary per kind of peer when the test has two (python and browser), else none."""
        from peerperf.analysis.groups import mixed_kinds

        return self.by("kind") if mixed_kinds(self.frame) else {}


def run_summary(settings: dict[str, Any], outcome: RunOutcome) -> Finished | None:
    """The analysis summary of the finished test, with what the run knows about itself."""
    from peerperf.analysis.results_files import load_datapoints
    from peerperf.analysis.results_files import metadata as read_metadata
    from peerperf.analysis.summarise import summary

    if outcome.parquet_path is None or not outcome.parquet_path.exists():
        return None
    frame = load_datapoints(outcome.parquet_path).assign(testId=outcome.test_id)
    metadata = {"settings": settings, **read_metadata(outcome.parquet_path)}
    metadata.update(
        rejectedDatapoints=outcome.rejected,
        peerIds=metadata.get("peerIds") or outcome.peer_ids,
        lostPeers=outcome.lost,
    )
    return Finished(frame, summary(frame, metadata=metadata), metadata)


def write_files(
    finished: Finished,
    outcome: RunOutcome,
    outcomes: tuple[Outcome, ...],
    paths: RunPaths,
    report: Path | str | None,
    summary_json: Path | str | None,
    junit_xml: Path | str | None,
) -> RunPaths:
    """Write the files asked for; `paths` with them."""
    if junit_xml is not None:
        junit_xml = Path(junit_xml).expanduser()
        write_junit(junit_xml, list(outcomes), suite=f"peerperf.{outcome.test_id}")
    if summary_json is not None:
        summary_json = Path(summary_json).expanduser()
        write_json(summary_json, finished.summary, list(outcomes))
    if report is not None:
        from peerperf.analysis.html_report import report as write_report
        from peerperf.analysis.results_files import topology

        samples = topology(outcome.parquet_path) if outcome.parquet_path is not None else None
        report = write_report(finished.frame, finished.summary, report, topology=samples)
    return replace(paths, report=report, summary_json=summary_json, junit_xml=junit_xml)


def exit_code(outcome: RunOutcome, failed: bool, summary: Summary | None, allow_unhealthy: bool) -> int:
    """The CLI's exit code (the module's docstring lists them); `failed`: an assertion failed or went unchecked."""
    if outcome.bad_arguments:
        return BAD_ARGUMENTS
    if not outcome.ok:
        return INTERRUPTED if outcome.interrupted else FAILED
    if failed:
        return FAILED
    healthy = summary is not None and str(summary.verdict.status) == "healthy"
    return OK if healthy or allow_unhealthy else UNHEALTHY
