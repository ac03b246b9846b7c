"""Each datapoint's JSON text exactly as `{id}.json` stores it, made when the datapoint arrives.

The document holds datapoints as they come back from Parquet (`datapoints.from_rows`, then
`json.dumps`): metrics in schema order with unknown keys after them, floats that hold an integer
written as integers, text escaped to ASCII. Producing that from Parquet when a test finished cost
0.1-0.2 ms per datapoint (seconds of GIL for a big test, while requests waited). Here msgspec
encodes the buffered datapoint directly (about 10 us) whenever its text is certain to be the same
bytes; any other datapoint (unknown keys, floats `json` writes with an exponent, text beyond
printable ASCII) takes the reference path. `tests/results/test_datapoint_json.py` compares the two
byte for byte on generated datapoints.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from peerperf.protocol.metrics import EXACT_FLOAT_INTEGER, FIELDS, Kind
from peerperf.results.datapoints import from_rows, to_table
from peerperf.results.model import DataPoint

#: Position of each declared metric in the schema (the order `from_rows` gives them back in).
_ORDER = {f.name: number for number, f in enumerate(FIELDS)}
#: Metrics stored as float64: their integral values come back as integers (`datapoints._integral`).
_NUMBERS = frozenset(f.name for f in FIELDS if f.kind is Kind.NUMBER)
_VECTORS = frozenset(f.name for f in FIELDS if f.kind is Kind.VECTOR)
#: msgspec and `json` write a float the same way (shortest round trip, no exponent) only in this range.
_POSITIONAL = (1e-4, 1e16)
_ENCODER = msgspec.json.Encoder()
#: Key sequences seen (see `_shape`), at most this many.
_MAX_SHAPES = 256
_SHAPES: dict[tuple[str, ...], tuple[tuple[str, ...], tuple[str, ...]] | None] = {}


def stored_text(point: DataPoint) -> str:
    """`point` as the document stores it (metrics as `intake.normalise` returns them)."""
    fast = _fast_text(point)
    return reference_text(point) if fast is None else fast


def reference_text(point: DataPoint) -> str:
    """The definition: through Arrow and back, then `json.dumps` (what `{id}.json` always held)."""
    (back,) = from_rows(to_table([point]).to_pylist())
    return json.dumps(back.to_json(), separators=(",", ":"))


def _fast_text(point: DataPoint) -> str | None:
    """msgspec's text of the stored values, or None when it might differ from the reference."""
    metrics = _stored_values(point.metrics)
    if metrics is None:
        return None
    try:
        text = _ENCODER.encode({"peerId": point.peer_id, "timestamp": point.timestamp, "metrics": metrics})
    except (UnicodeEncodeError, TypeError, OverflowError):
        return None
    if not text.isascii() or b"\x7f" in text:  # `json` escapes these, msgspec writes them as they are
        return None
    return text.decode("ascii")


def _stored_values(metrics: dict[str, Any]) -> dict[str, Any] | None:
    """`metrics` as Parquet gives them back, or None unless every key is declared, in schema order,
    no value is null, and every number is one both encoders write alike."""
    shape = _shape(tuple(metrics))
    if shape is None or None in metrics.values():
        return None
    numbers, vectors = shape
    changed: dict[str, Any] = {}
    low, high = _POSITIONAL
    for name in numbers:  # `_stored_number` inlined: this loop is most of the cost
        value = metrics[name]
        if type(value) is float and not value.is_integer() and low <= abs(value) < high:
            continue
        stored = _stored_number(value)
        if stored is None:
            return None
        if stored is not value:
            changed[name] = stored
    for name in vectors:
        values = metrics[name]
        stored_values = [_stored_number(v) for v in values]
        if None in stored_values:
            return None
        if any(s is not v for s, v in zip(stored_values, values, strict=True)):
            changed[name] = stored_values
    return {**metrics, **changed} if changed else metrics  # the keys keep their places


def _shape(keys: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The float64 metrics among `keys` (numbers, vectors), or None unless they are declared and in
    schema order; remembered, since a client sends the same keys every time."""
    try:
        return _SHAPES[keys]
    except KeyError:
        pass
    positions = [_ORDER.get(key, -1) for key in keys]
    in_order = -1 not in positions and positions == sorted(positions)
    shape = (tuple(k for k in keys if k in _NUMBERS), tuple(k for k in keys if k in _VECTORS)) if in_order else None
    if len(_SHAPES) >= _MAX_SHAPES:
        _SHAPES.clear()
    _SHAPES[keys] = shape
    return shape


def _stored_number(value: Any) -> Any:
    """A float64 metric's value as read back (integral floats below 2**53 as ints); None when the two
    encoders may write it differently (exponent notation) or Arrow would not give it back as it is."""
    if type(value) is float:
        if value.is_integer():
            return int(value) if -EXACT_FLOAT_INTEGER < value < EXACT_FLOAT_INTEGER else None
        return value if _POSITIONAL[0] <= abs(value) < _POSITIONAL[1] else None
    if type(value) is int:
        return value if -EXACT_FLOAT_INTEGER < value < EXACT_FLOAT_INTEGER else None
    return None
