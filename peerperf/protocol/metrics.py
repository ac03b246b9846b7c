"""The datapoint schema: what one peer reports every stats interval, and what a valid metrics body is.

A datapoint is what one peer reports every stats interval (reference section 3 "Submission"). Its
metrics are declared in `peerperf.protocol.metric_fields`; here a JSON body is checked against them
(`validate_metrics`) and told apart by the client that sent it (`kind_of`).
"""

from __future__ import annotations

import math
from typing import Any

from peerperf.errors import ProtocolError
from peerperf.protocol.histogram import check_encoding
from peerperf.protocol.metric_fields import BY_NAME, CATEGORIES, FIELDS, SUFFIXES, Kind, MetricField

__all__ = [
    "ARRIVAL_GRACE_S",
    "BROWSER",
    "BY_NAME",
    "CATEGORIES",
    "EXACT_FLOAT_INTEGER",
    "FIELDS",
    "PYTHON",
    "REQUIRED",
    "SILENT_LINK_S",
    "SUFFIXES",
    "Kind",
    "MetricField",
    "kind_of",
    "unknown_metrics",
    "validate_metrics",
]

#: Seconds a sequence gap may stay open before its packet counts as missing; arrivals of the packets
#: created in a window count for that window up to this long after it ends.
ARRIVAL_GRACE_S = 2.0
#: A link open this long with no frame arriving on it is silent (`silentLinks`). Every peer sends on each
#: of its links several times a second (its positions, relays), so this means one direction of the link
#: stopped while it stays listed as connected: a harness fault no delivery count shows, since a sequence
#: gap is only seen once a later packet of the source arrives.
SILENT_LINK_S = 5.0
#: What the Parquet columns hold exactly: int64, and integers in float64 up to 2^53. Larger values are
#: refused at submission (a 400), not discovered when the buffer is written.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
EXACT_FLOAT_INTEGER = 2**53
#: `kind` of peerperf's peers, and of a datapoint without peerperf's fields (the original client's page).
PYTHON, BROWSER = "python", "browser"
#: Keys that must be present: the original crashed without `position`.
REQUIRED = frozenset({"position"})


def validate_metrics(body: Any) -> dict[str, Any]:
    """A normalised copy of a metrics body, or `ProtocolError` naming every problem.

    Missing original stats become 0 (as the original client sent them). Keys peerperf does not know
    are kept verbatim after the known ones: the original stored any body and its client never read
    the status, so refusing a body for a new key would silently lose every datapoint of that client.
    Numbers keep their JSON type (an integer stays an integer).
    """
    if not isinstance(body, dict):
        raise ProtocolError("metrics must be a JSON object")
    problems = [f"missing key {key!r}" for key in sorted(REQUIRED) if key not in body]
    out: dict[str, Any] = {}
    for field in FIELDS:
        if field.name not in body or body[field.name] is None:
            if field.default is not None:
                out[field.name] = list(field.default) if isinstance(field.default, tuple) else field.default
            continue
        value = body[field.name]
        problem = _check(field.kind, value)
        if problem:
            problems.append(f"{field.name}: {problem}")
        elif field.kind is Kind.INTEGER:
            out[field.name] = int(value)
        elif field.kind is Kind.COUNTS:
            out[field.name] = dict(value)
        else:
            out[field.name] = list(value) if isinstance(value, list) else value
    if problems:
        raise ProtocolError("invalid metrics: " + "; ".join(problems))
    out.update(unknown_metrics(body))
    return out


def unknown_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """The keys of a metrics body that are not declared in `FIELDS`, with their values."""
    return {key: value for key, value in metrics.items() if key not in BY_NAME}


def _is_number(value: Any) -> bool:
    """A finite float, or an integer a float64 column holds exactly (JSON allows any size)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) <= EXACT_FLOAT_INTEGER
    return isinstance(value, float) and math.isfinite(value)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_int64(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, float) and not value.is_integer():
        return False  # also refuses inf and nan
    return INT64_MIN <= value <= INT64_MAX


def _check(kind: Kind, value: Any) -> str | None:
    if kind is Kind.NUMBER and not _is_number(value):
        return f"expected a finite number (integers within ±2^53), got {_shown(value)}"
    if kind is Kind.INTEGER and not _is_int64(value):
        return f"expected an integer (64-bit), got {_shown(value)}"
    if kind is Kind.TEXT and not isinstance(value, str):
        return f"expected text, got {value!r}"
    if kind is Kind.TEXT_LIST and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return "expected a list of ids"
    if kind is Kind.HISTOGRAM:
        return check_encoding(value)
    if kind is Kind.COUNTS and not (
        isinstance(value, dict)
        and all(
            isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= INT64_MAX
            for k, v in value.items()
        )
    ):
        return "expected an object of non-negative 64-bit integer counts"
    if kind is Kind.VECTOR and not (isinstance(value, list) and len(value) in (2, 3) and all(map(_is_number, value))):
        return f"expected [x, y, z] numbers, got {value!r}"
    return None


def kind_of(metrics: dict[str, Any]) -> str:
    """Which client produced a validated body: its `kind` as reported, else `python` when it carries a
    stats `window` (every peerperf host numbers each window it reports), else `browser`.

    The original client's page cannot be changed to say what it is (it is the code under test), and its
    body has only the original's keys, so the absence of peerperf's one always-present field tells."""
    reported = metrics.get("kind")
    if isinstance(reported, str) and reported:
        return reported
    return PYTHON if "window" in metrics else BROWSER
