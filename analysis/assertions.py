"""Pass/fail thresholds on a summary, for CI: `delivery>=0.99`, `latency.position.p99<250ms`, `harness==healthy`.

A threshold names a figure of the summary, an operator and a value. Values may carry a unit: `ms`
or `s` for times (figures are in ms), `%` for ratios (`loss<0.1%`). A figure that is missing or has
no value fails the assertion: a threshold that cannot be checked is not met. A scope `COLUMN:VALUE.`
checks the figure of one group of datapoints (`summary --by COLUMN`): `stage:2.delivery>=0.99`.
"""

from __future__ import annotations

import difflib
import json
import math
import operator
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peerperf.errors import ConfigError

if TYPE_CHECKING:  # parsing thresholds (the run CLI's arguments) needs no pandas
    import pandas as pd

    from peerperf.analysis.summarise import Summary

OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}
_PATTERN = re.compile(r"^\s*(?:([A-Za-z_]\w*):([^.\s:]+)\.)?([A-Za-z_][\w.]*)\s*(>=|<=|==|!=|>|<)\s*(\S+)\s*$")
_NUMBER = re.compile(r"^([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(ms|s|%)?$")


@dataclass(frozen=True)
class Threshold:
    """One parsed assertion."""

    text: str
    metric: str
    op: str
    value: float | str
    #: (column, value) of the group of datapoints the figure is read from; None: the whole run.
    scope: tuple[str, str] | None = None


#: The summaries of each value of a datapoint column (`groups.summaries_by`), for scoped thresholds.
Groups = Callable[[str], "dict[str, Summary]"]


@dataclass(frozen=True)
class Outcome:
    """One assertion checked against a summary."""

    text: str
    metric: str
    passed: bool
    actual: float | int | str | None
    message: str


def parse(text: str) -> Threshold:
    """`name OP value`; `ConfigError` with the expected form when it is not."""
    match = _PATTERN.match(text)
    if match is None:
        raise ConfigError(
            f"--assert {text!r}: expected [COLUMN:VALUE.]NAME OP VALUE, e.g. delivery>=0.99, "
            "latency.position.p99<250ms or stage:2.delivery>=0.99"
        )
    column, group, metric, op, raw = match.groups()
    scope = (column, group) if column else None
    number = _NUMBER.match(raw)
    if number is None:
        return Threshold(text, metric, op, raw, scope)
    value, unit = float(number.group(1)), number.group(2)
    if unit == "s":
        value *= 1000
    elif unit == "%":
        value /= 100
    return Threshold(text, metric, op, value, scope)


def check(
    source: Summary | pd.DataFrame, assertions: Iterable[str | Threshold], groups: Groups | None = None
) -> list[Outcome]:
    """Each assertion (text such as `delivery>=0.99`, or parsed) against a summary, or a scoped one against
    its group's summary from `groups`. `source` is a `Summary`, or datapoints (`load`): then they are
    summarised here and scoped assertions group them. `ConfigError` for an assertion that does not parse."""
    thresholds = [parse(a) if isinstance(a, str) else a for a in assertions]
    summary = _summary_of(source)
    if groups is None and summary is not source:
        from peerperf.analysis.groups import summaries_by

        frame = source

        def groups(column: str) -> dict[str, Summary]:
            return summaries_by(frame, column)

    cache: dict[str, dict[str, Summary] | str] = {}
    out = []
    for threshold in thresholds:
        if threshold.scope is None:
            out.append(_check_one(summary, threshold))
            continue
        column, value = threshold.scope
        if column not in cache:
            cache[column] = _groups(groups, column)
        found = cache[column]
        if isinstance(found, str):
            out.append(Outcome(threshold.text, threshold.metric, False, None, f"{threshold.text}: {found}"))
        elif value not in found:
            known = ", ".join(found) or "none"
            message = f"{threshold.text}: no {column} {value} in this run ({column} values: {known})"
            out.append(Outcome(threshold.text, threshold.metric, False, None, message))
        else:
            out.append(_check_one(found[value], threshold))
    return out


def _summary_of(source: Summary | pd.DataFrame) -> Summary:
    """`source` itself, or the summary of the datapoints it is."""
    from peerperf.analysis.summarise import Summary, summary

    return source if isinstance(source, Summary) else summary(source)


def _groups(groups: Groups | None, column: str) -> dict[str, Summary] | str:
    """The summaries by `column`, or why there are none."""
    if groups is None:
        return "scoped assertions need the datapoints"
    try:
        return groups(column)
    except KeyError as exc:
        return str(exc.args[0]) if exc.args else f"no column {column!r}"


def _check_one(summary: Summary, threshold: Threshold) -> Outcome:
    metric = summary.metrics.get(threshold.metric)
    if metric is None:
        near = difflib.get_close_matches(threshold.metric, list(summary.metrics), n=3)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        return Outcome(threshold.text, threshold.metric, False, None, f"no figure named {threshold.metric!r}{hint}")
    actual = metric.value
    if isinstance(actual, float) and math.isnan(actual):
        return Outcome(threshold.text, threshold.metric, False, None, f"{threshold.metric} has no value in this run")
    expected = threshold.value
    if isinstance(actual, str) != isinstance(expected, str):
        return Outcome(
            threshold.text,
            threshold.metric,
            False,
            actual,
            f"cannot compare {threshold.metric}={actual!r} with {expected!r}",
        )
    passed = bool(OPERATORS[threshold.op](actual, expected))
    shown = f"{actual:.6g}" if isinstance(actual, float) else str(actual)
    verb = "holds" if passed else "FAILED"
    return Outcome(
        threshold.text, threshold.metric, passed, actual, f"{threshold.text} {verb}: {threshold.metric} = {shown}"
    )


def write_junit(path: Path, outcomes: list[Outcome], suite: str = "peerperf") -> None:
    """A JUnit XML report: one test case per assertion, a failure element for each that failed."""
    failures = sum(not o.passed for o in outcomes)
    root = ET.Element("testsuite", name=suite, tests=str(len(outcomes)), failures=str(failures), errors="0")
    for outcome in outcomes:
        case = ET.SubElement(root, "testcase", classname=suite, name=outcome.text)
        if not outcome.passed:
            ET.SubElement(case, "failure", message=outcome.message).text = outcome.message
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def write_json(path: Path, summary: Summary, outcomes: list[Outcome]) -> None:
    """The summary and the assertions' outcomes as one JSON document."""
    document = {**summary.to_dict(), "assertions": [asdict(o) for o in outcomes]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, default=str))
