"""The metrics intake's fast path: one compiled msgspec validator, derived from `peerperf.protocol.metrics`.

`validate_metrics` checks a body key by key in Python (about 0.2 ms per datapoint). Here the same
rules are a msgspec `Struct` built from `FIELDS`, so a valid body is checked and normalised in C.
Anything the fast path refuses (bad input, or valid input it is stricter about: nulls, integral
floats for integer metrics, numbers JSON parsers disagree on) goes to `validate_metrics`, so errors
and edge cases are answered exactly as before; the fast path only ever accepts what it accepts too
(tests/results/test_intake.py compares the two on generated bodies).
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from peerperf.protocol.histogram import check_encoding
from peerperf.protocol.metrics import (
    BY_NAME,
    EXACT_FLOAT_INTEGER,
    FIELDS,
    INT64_MAX,
    INT64_MIN,
    REQUIRED,
    Kind,
    MetricField,
    validate_metrics,
)

_Number = (
    Annotated[int, Meta(ge=-EXACT_FLOAT_INTEGER, le=EXACT_FLOAT_INTEGER)]
    | Annotated[float, Meta(ge=-sys.float_info.max, le=sys.float_info.max)]  # finite: refuses nan and inf
)
_Int64 = Annotated[int, Meta(ge=INT64_MIN, le=INT64_MAX)]
_TYPES: dict[Kind, Any] = {
    Kind.NUMBER: _Number,
    Kind.INTEGER: _Int64,
    Kind.TEXT: str,
    Kind.TEXT_LIST: list[str],
    Kind.VECTOR: Annotated[list[_Number], Meta(min_length=2, max_length=3)],
    Kind.HISTOGRAM: list[_Int64],  # the bucket rules are checked after (`check_encoding`)
    Kind.COUNTS: dict[str, Annotated[int, Meta(ge=0, le=INT64_MAX)]],
}
_HISTOGRAMS = tuple(f.name for f in FIELDS if f.kind is Kind.HISTOGRAM)
#: The declared metric names; any other key of a body is kept verbatim (and stored in `extra`).
KNOWN = frozenset(BY_NAME)


def _struct_field(field: MetricField) -> tuple[str, Any, Any]:
    """(name, type, default): required keys have none, original stats their default, the rest are left out."""
    if field.name in REQUIRED:
        return (field.name, _TYPES[field.kind], msgspec.NODEFAULT)
    if field.default is None:
        return (field.name, _TYPES[field.kind], msgspec.UNSET)
    if isinstance(field.default, tuple):
        return (field.name, _TYPES[field.kind], msgspec.field(default_factory=list))
    return (field.name, _TYPES[field.kind], field.default)


Metrics = msgspec.defstruct(
    "Metrics",
    [_struct_field(f) for f in FIELDS],
    kw_only=True,
)
_DECODER = msgspec.json.Decoder()


def normalise(body: Any) -> dict[str, Any]:
    """What `validate_metrics(body)` returns, or its `ProtocolError`; valid bodies never leave C for long."""
    if type(body) is not dict:
        return validate_metrics(body)
    try:
        metrics: dict[str, Any] = msgspec.to_builtins(msgspec.convert(body, Metrics))
    except msgspec.ValidationError:
        return validate_metrics(body)
    for name in _HISTOGRAMS:
        if name in metrics and check_encoding(metrics[name]) is not None:
            return validate_metrics(body)
    if not KNOWN.issuperset(body):
        metrics.update((key, value) for key, value in body.items() if key not in KNOWN)  # in the order sent
    return metrics


def parse_object(raw: bytes) -> dict[str, Any] | None:
    """A request body that is a JSON object, parsed by msgspec; None for anything else (malformed,
    not an object, or JSON msgspec refuses but `json` reads: NaN, numbers beyond float64), which
    callers hand to the ordinary parser so it answers as it always did."""
    try:
        body = _DECODER.decode(raw)
    except msgspec.MsgspecError:
        return None
    return body if type(body) is dict else None


def encode_json(value: Any) -> bytes:
    """Compact JSON of a response (msgspec: several times faster than `json.dumps` on a datapoint).

    Text `json` read but UTF-8 cannot hold (a lone surrogate, `"\\ud800"`) is written escaped by `json`."""
    try:
        return msgspec.json.encode(value)
    except UnicodeEncodeError:
        return json.dumps(value).encode()
