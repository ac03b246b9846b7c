"""The JSON text a flush writes for each datapoint is, byte for byte, what `{id}.json` held when it was
made from Parquet at finish (`reference_text`): the fast path changes where the text is made, not what."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peerperf.errors import ProtocolError
from peerperf.protocol.metrics import EXACT_FLOAT_INTEGER, FIELDS, Kind
from peerperf.results.datapoint_json import _fast_text, reference_text, stored_text
from peerperf.results.intake import normalise
from peerperf.results.model import DataPoint
from tests.results.conftest import metrics_body

#: Numbers at the edges: where msgspec and `json` format floats differently, where float64 stops holding integers.
EDGE_NUMBERS = [
    0.0, -0.0, 1.0, 20.0, -3.0, 0.5, 1e-4, 9.99e-5, 1e-5, 5e-324, 0.1, 1234.5678, 9999999999999998.0, 1e16,
    1.5e300, -1e22, EXACT_FLOAT_INTEGER, -EXACT_FLOAT_INTEGER, EXACT_FLOAT_INTEGER - 1, float(EXACT_FLOAT_INTEGER),
    float(EXACT_FLOAT_INTEGER + 2), 7, -12,
]  # fmt: skip
EDGE_TEXT = ["", "room-1", "é", "\x7f", "\u2028", "\x00\x1f", 'quote " and \\', "</script>", "日本"]


def _values(numbers: st.SearchStrategy[Any], texts: st.SearchStrategy[str]) -> dict[Kind, st.SearchStrategy[Any]]:
    return {
        Kind.NUMBER: numbers,
        Kind.INTEGER: st.integers(-(2**63), 2**63 - 1),
        Kind.TEXT: texts,
        Kind.TEXT_LIST: st.lists(texts, max_size=3),
        Kind.VECTOR: st.lists(numbers, min_size=2, max_size=3),
        Kind.HISTOGRAM: st.just([3, 7, 9, 1]),
        Kind.COUNTS: st.dictionaries(texts, st.integers(0, 2**40), max_size=3),
    }


def _bodies(values: dict[Kind, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"position": values[Kind.VECTOR]}, optional={f.name: values[f.kind] for f in FIELDS if f.name != "position"}
    )


#: Anything: floats of any size, any text, unknown keys (mostly the reference path).
wild_numbers = st.sampled_from(EDGE_NUMBERS) | st.floats(allow_nan=False, allow_infinity=False) | st.integers()
wild_texts = st.sampled_from(EDGE_TEXT) | st.text(max_size=12)
unknown = st.dictionaries(
    st.sampled_from(["someUnknownKey", "other"]),
    st.none() | wild_numbers | wild_texts | st.lists(wild_numbers, max_size=2),
    max_size=2,
)
wild = _bodies(_values(wild_numbers, wild_texts)).flatmap(lambda body: unknown.map(lambda more: {**body, **more}))
#: What peers send: counts, rates and integral floats, ASCII text (mostly the fast path).
usual_numbers = (
    st.integers(-(10**6), 10**6) | st.integers(-(10**9), 10**9).map(lambda n: n / 1000) | st.floats(1e-4, 1e15)
)
usual = _bodies(_values(usual_numbers, st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12)))
bodies = wild | usual


def _point(body: dict[str, Any], peer: str = "peer-1") -> DataPoint:
    return DataPoint(peer, 1_796_600_000_000, normalise(body))


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(body=bodies)
def test_the_text_written_at_flush_is_the_reference_text_byte_for_byte(body: dict[str, Any]) -> None:
    try:
        point = _point(body)
    except ProtocolError:
        return
    assert stored_text(point) == reference_text(point)


@pytest.mark.parametrize("value", EDGE_NUMBERS)
def test_edge_numbers_are_written_as_parquet_gives_them_back(value: float) -> None:
    point = _point(metrics_body(2, averageLatency=value, position=[value, 0.0, value]))
    assert stored_text(point) == reference_text(point)


@pytest.mark.parametrize("text", EDGE_TEXT)
def test_text_is_escaped_as_json_escapes_it(text: str) -> None:
    point = _point(metrics_body(2, routine=text, connectedPeers=[text], deliveredBySubtype={text: 1}))
    assert stored_text(point) == reference_text(point)


def test_the_usual_datapoints_take_the_fast_path() -> None:
    """Else the property above would prove nothing about the path a test's datapoints take."""
    original = _point(metrics_body(3))  # integral floats in `position` (0.0) come back as integers
    peerperf = _point(metrics_body(3, window=4, routine="default", tickLagMs=[3, 7, 9, 1], deliveredBySubtype={"a": 2}))
    for point in (original, peerperf):
        assert _fast_text(point) == reference_text(point)
    assert '"position":[1.5,0,-2]' in stored_text(original)
