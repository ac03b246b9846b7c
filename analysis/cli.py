"""The analysis commands: `peerperf summary | assert | compare | report` (also `python -m peerperf.analysis`).

Each reads results files (`{id}.parquet`, the original's `{id}.json`, or a results folder).
Exit codes: 0 done, 1 an assertion failed, 2 bad arguments or unreadable results.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from peerperf.analysis.assertions import check, write_json, write_junit
from peerperf.analysis.assertions import parse as parse_threshold
from peerperf.analysis.comparison import Comparison, compare_groups, compare_sides
from peerperf.analysis.groups import mixed_kinds, summaries_by
from peerperf.analysis.html_report import compare_report, report
from peerperf.analysis.results_files import id_of, load_datapoints, metadata, results_files, topology
from peerperf.analysis.summarise import COLUMNS, Summary, summary
from peerperf.analysis.text import kinds_table, print_summary
from peerperf.errors import PeerperfError


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the analysis subcommands to a `peerperf` parser."""
    for name, help_text in (
        ("summary", "summarise tests: delivery, loss, latency, throughput, harness verdict"),
        ("analyze", "the same as summary"),
    ):
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _sources(sub)
        _steady(sub)
        sub.add_argument("--all", action="store_true", help="show every figure, not only the headline ones")
        sub.add_argument(
            "--by", metavar="COLUMN", help="one summary per value of a datapoint column, e.g. stage, impairment, room"
        )
        sub.add_argument("--json", type=Path, help="also write the summary as JSON here")
        sub.set_defaults(handler=_summary)
    sub = commands.add_parser("assert", help="check thresholds on a test's summary (exit 1 when one fails)")
    _sources(sub)
    _steady(sub)
    sub.add_argument("--assert", dest="assertions", action="append", required=True, metavar="EXPR")
    sub.add_argument("--junit-xml", type=Path, help="write a JUnit XML report here")
    sub.add_argument("--summary-json", type=Path, help="write the summary and the assertions as JSON here")
    sub.add_argument(
        "--allow-unhealthy",
        action="store_true",
        help="exit 0 even when a test's harness was not healthy (by default such a test exits 3, as the run does)",
    )
    sub.set_defaults(handler=_assert)
    sub = commands.add_parser(
        "compare",
        help="compare runs: deltas with bootstrap confidence intervals",
        description="compare runs (each file one side, the first the baseline), or sides of several runs each: "
        "--baseline A1.parquet A2.parquet --candidate B1.parquet B2.parquet (runs drawn, then peers within runs)",
    )
    sub.add_argument("sources", nargs="*", type=Path, help="two or more test files, one run per side")
    sub.add_argument("--baseline", nargs="+", type=Path, metavar="RUN", help="the baseline's runs (repeats)")
    sub.add_argument(
        "--candidate",
        nargs="+",
        type=Path,
        action="append",
        metavar="RUN",
        help="a candidate's runs (repeats); repeat the flag for more candidates",
    )
    sub.add_argument("--by", metavar="COLUMN", help="compare the groups of one test's peers instead, e.g. impairment")
    sub.add_argument("--report", type=Path, help="write an HTML comparison here")
    sub.add_argument("--json", type=Path, help="write the comparison as JSON here")
    sub.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples [default 2000]")
    sub.set_defaults(handler=_compare)
    sub = commands.add_parser("report", help="write a self-contained HTML report of a test")
    sub.add_argument("source", type=Path, help="a test's .parquet or .json file")
    sub.add_argument("-o", "--output", type=Path, help="where to write it [default: beside the source, .html]")
    _steady(sub)
    sub.set_defaults(handler=_report)


def _sources(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sources", nargs="+", type=Path, help="test files (.parquet, .json) or results folders")


def _steady(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--warmup-windows", type=int, help="windows to skip at the start [default: the first 4 s]")
    parser.add_argument("--keep-last", action="store_true", help="keep each host's last, partial window")


def _summaries(args: argparse.Namespace) -> list[tuple[Path, pd.DataFrame, Summary]]:
    out = []
    for path in results_files(args.sources):
        frame = load_datapoints(path).assign(testId=id_of(path))
        result = summary(frame, warmup_windows=args.warmup_windows, keep_last=args.keep_last, metadata=metadata(path))
        out.append((path, frame, result))
    return out


def _summary(args: argparse.Namespace, console: Console) -> int:
    if args.by:
        for path in results_files(args.sources):
            frame = load_datapoints(path, (*COLUMNS, args.by)).assign(testId=id_of(path))
            options = {"warmup_windows": args.warmup_windows, "keep_last": args.keep_last, "metadata": metadata(path)}
            try:
                groups = summaries_by(frame, args.by, **options)
            except KeyError as exc:
                raise PeerperfError(str(exc)) from None
            for value, result in groups.items():
                print_summary(console, result, f"{id_of(path)}: {args.by} = {value or '(none)'}", every=args.all)
        return 0
    results = _summaries(args)
    for path, frame, result in results:
        print_summary(console, result, f"{id_of(path)} ({path})", every=args.all)
        if mixed_kinds(frame):
            console.print(kinds_table(_by(frame, path, args, "kind"), f"{id_of(path)} by kind"))
    if args.json is not None:
        documents = [result.to_dict() for _, _, result in results]
        args.json.write_text(json.dumps(documents[0] if len(documents) == 1 else documents, indent=2, default=str))
    return 0


def _by(frame: pd.DataFrame, path: Path, args: argparse.Namespace, column: str) -> dict[str, Summary]:
    """The summaries of `frame` by `column` (a scoped assertion's groups)."""
    options = {"warmup_windows": args.warmup_windows, "keep_last": args.keep_last}
    return summaries_by(frame, column, metadata=metadata(path), **options)


def _assert(args: argparse.Namespace, console: Console) -> int:
    """1 when an assertion failed; else 3 when a test's harness was not healthy (its figures measure the load
    generator too, so passing thresholds prove nothing), unless --allow-unhealthy; else 0."""
    thresholds = [parse_threshold(text) for text in args.assertions]
    failed = False
    unhealthy: list[str] = []
    for path, frame, result in _summaries(args):
        status = str(result.verdict.status)
        if status != "healthy":
            unhealthy.append(f"{id_of(path)} ({status})")
        outcomes = check(result, thresholds, functools.partial(_by, frame, path, args))
        for outcome in outcomes:
            mark = "[green]ok[/]" if outcome.passed else "[bold red]FAILED[/]"
            console.print(f"{id_of(path)}: assert {mark}: {outcome.message}", highlight=False)
        failed = failed or any(not o.passed for o in outcomes)
        if args.junit_xml is not None:
            write_junit(args.junit_xml, outcomes, suite=f"peerperf.{id_of(path)}")
        if args.summary_json is not None:
            write_json(args.summary_json, result, outcomes)
    if failed:
        return 1
    if unhealthy and not args.allow_unhealthy:
        console.print(
            f"[bold red]exit code 3[/]: the harness was not healthy in {', '.join(unhealthy)}: these figures measure "
            "the load generator too (--allow-unhealthy accepts it)",
            highlight=False,
        )
        return 3
    return 0


def _compare(args: argparse.Namespace, console: Console) -> int:
    if args.by:
        return _compare_groups(args, console)
    sides = _sides(args)
    frames = [[load_datapoints(p).assign(testId=id_of(p)) for p in side] for side in sides]
    names = _side_names(args, sides)
    result = compare_sides(frames, names, [[metadata(p) for p in side] for side in sides], resamples=args.resamples)
    print_comparison(console, result)
    if args.json is not None:
        args.json.write_text(json.dumps(result.to_dict(), indent=2, default=str))
    if args.report is not None:
        pooled = [pd.concat(side, ignore_index=True) if len(side) > 1 else side[0] for side in frames]
        compare_report(pooled, result, args.report)
        console.print(f"HTML report: {args.report}", highlight=False)
    return 0


def _sides(args: argparse.Namespace) -> list[list[Path]]:
    """The runs of each side: `--baseline ... --candidate ...`, or each positional file a side of its own."""
    if args.baseline or args.candidate:
        if args.sources or not args.baseline or not args.candidate:
            raise PeerperfError("compare takes --baseline RUN... with --candidate RUN..., or two or more files")
        return [results_files(args.baseline), *(results_files(c) for c in args.candidate)]
    paths = results_files(args.sources)
    if len(paths) < 2:
        raise PeerperfError("compare needs at least two tests (or --baseline RUN... --candidate RUN...)")
    return [[p] for p in paths]


def _side_names(args: argparse.Namespace, sides: list[list[Path]]) -> list[str]:
    if not args.baseline:
        return [id_of(side[0]) for side in sides]
    candidates = len(sides) - 1
    return ["baseline", *(("candidate" if candidates == 1 else f"candidate {i + 1}") for i in range(candidates))]


def _compare_groups(args: argparse.Namespace, console: Console) -> int:
    paths = results_files(args.sources)
    if len(paths) != 1 or args.baseline or args.candidate:
        raise PeerperfError("compare --by takes one test")
    frame = load_datapoints(paths[0], (*COLUMNS, args.by)).assign(testId=id_of(paths[0]))
    try:
        result = compare_groups(frame, args.by, resamples=args.resamples)
    except (KeyError, ValueError) as exc:
        raise PeerperfError(str(exc)) from None
    print_comparison(console, result)
    return 0


def print_comparison(console: Console, result: Comparison) -> None:
    table = Table(title="comparison (first run is the baseline; * significant, 95% bootstrap interval)")
    table.add_column("figure")
    for name in result.names:
        table.add_column(name, justify="right")
    for name in result.names[1:]:
        table.add_column(f"{name} - {result.names[0]}", justify="right")
    for d in result.differences:
        cells = [f"{v:.4g}" for v in d.values]
        cells += [
            f"{'*' if sig else ''}{delta:+.4g} [{lo:.3g}, {hi:.3g}]"
            for delta, (lo, hi), sig in zip(d.deltas, d.intervals, d.significant, strict=True)
        ]
        table.add_row(f"{d.label} {d.unit}".strip(), *cells)
    console.print(table)
    for key, values in result.settings.items():
        console.print(f"setting {key}: " + " vs ".join(map(str, values)), highlight=False)
    for i, name in enumerate(result.names):
        runs = result.runs[i] if i < len(result.runs) else []
        statuses = result.harness[i] if i < len(result.harness) else [str(result.summaries[i].verdict.status)]
        shown = ", ".join(f"{run}: {status}" for run, status in zip(runs, statuses, strict=False)) or statuses[0]
        console.print(f"harness {name}: {shown}", highlight=False)
    for note in result.notes:
        console.print(f"[yellow]note[/]: {note}", highlight=False)


def _report(args: argparse.Namespace, console: Console) -> int:
    frame = load_datapoints(args.source).assign(testId=id_of(args.source))
    result = summary(
        frame, warmup_windows=args.warmup_windows, keep_last=args.keep_last, metadata=metadata(args.source)
    )
    output = args.output or args.source.with_suffix(".html")
    report(frame, result, output, topology=topology(args.source))
    console.print(f"HTML report: {output}", highlight=False)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m peerperf.analysis", description=__doc__)
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return run(args)


def run(args: argparse.Namespace) -> int:
    console = Console(soft_wrap=True)
    try:
        code: int = args.handler(args, console)
    except PeerperfError as exc:
        print(f"peerperf {args.command}: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
