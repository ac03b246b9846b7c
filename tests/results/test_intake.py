"""The msgspec fast path answers exactly as `validate_metrics` and `json` do, and is the path valid bodies take."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peerperf.errors import ProtocolError
from peerperf.httpserver import serving
from peerperf.protocol.metrics import FIELDS, REQUIRED, validate_metrics
from peerperf.results import ResultsService, ResultsSettings, create_app, intake
from peerperf.results.intake import normalise, parse_object
from tests.fuzz.test_codecs import json_values, metrics_bodies
from tests.results.conftest import Gateway, metrics_body

JSON = {"Content-Type": "application/json"}
EXAMPLES = settings(max_examples=800, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def _outcome(validate: Any, body: Any) -> tuple[str, Any]:
    try:
        out = validate(body)
    except ProtocolError as exc:
        return ("refused", str(exc))
    return ("stored", list(out.items()))  # key order too: the stored JSON keeps it


@EXAMPLES
@given(body=metrics_bodies | json_values | st.dictionaries(st.sampled_from([f.name for f in FIELDS]), json_values))
def test_the_fast_path_stores_and_refuses_exactly_what_validate_metrics_does(body: Any) -> None:
    assert _outcome(normalise, body) == _outcome(validate_metrics, body)


@EXAMPLES
@given(body=metrics_bodies | json_values)
def test_a_body_msgspec_parses_is_the_body_json_parses(body: Any) -> None:
    raw = json.dumps(body).encode()
    parsed = parse_object(raw)
    if parsed is not None:
        assert parsed == json.loads(raw)
    else:
        assert not isinstance(json.loads(raw), dict) or _not_standard_json(body)


def _not_standard_json(value: Any) -> bool:
    """NaN and infinities: `json` writes and reads them, msgspec (and the JSON standard) does not."""
    if isinstance(value, dict):
        return any(_not_standard_json(v) for v in value.values())
    if isinstance(value, list):
        return any(_not_standard_json(v) for v in value)
    return isinstance(value, float) and not math.isfinite(value)


def _valid_body() -> dict[str, Any]:
    return {
        "position": [1.5, 0, -2],
        "sent": 3,
        "sentPerSecond": 1.25,
        "connectedPeers": ["a", "b"],
        "knownPeersCount": 4,
        "latencyChatMs": [3, 1, 7, 2],
        "deliveredBySubtype": {"chat": 3},
        "routine": "default",
        "somethingNew": {"kept": [1]},
    }


def test_a_valid_body_never_reaches_the_python_validator(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(body: Any) -> dict[str, Any]:
        raise AssertionError("validate_metrics was called for a valid body")

    expected = validate_metrics(_valid_body())
    monkeypatch.setattr(intake, "validate_metrics", refuse)
    assert list(normalise(_valid_body()).items()) == list(expected.items())


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"sent": math.nan}, "sent: expected a finite number"),
        ({"sent": 2**53 + 1}, "sent: expected a finite number"),
        ({"sent": True}, "sent: expected a finite number"),
        ({"knownPeersCount": 2**63}, "knownPeersCount: expected an integer"),
        ({"position": [1]}, "position: expected [x, y, z]"),
        ({"latencyChatMs": [5, 1, 2, 1]}, "latencyChatMs: bucket indexes must be strictly increasing"),
        ({"deliveredBySubtype": {"chat": -1}}, "deliveredBySubtype: expected an object of non-negative"),
        ({"routine": 3}, "routine: expected text"),
    ],
)
def test_bad_values_are_refused_with_validate_metrics_words(change: dict[str, Any], problem: str) -> None:
    with pytest.raises(ProtocolError, match=problem.replace("[", r"\[")):
        normalise({**_valid_body(), **change})


def test_what_the_fast_path_is_stricter_about_is_still_accepted_as_before() -> None:
    """Nulls mean "missing" and integral floats count as integers: `validate_metrics` answers those."""
    body = {**_valid_body(), "sent": None, "knownPeersCount": 4.0}
    out = normalise(body)
    assert out["sent"] == 0 and out["knownPeersCount"] == 4 and isinstance(out["knownPeersCount"], int)
    assert out.keys() >= REQUIRED


def test_nan_and_huge_numbers_are_left_to_the_ordinary_parser() -> None:
    assert parse_object(b'{"position": [0, 0, 0], "sent": NaN}') is None
    assert parse_object(b'{"position": [0, 0, 0], "sent": 1e400}') is None
    assert parse_object(b"[1, 2]") is None
    assert parse_object(b'{"position": [0, 0, 0]}') == {"position": [0, 0, 0]}


async def test_the_gateway_answers_fast_and_slow_bodies_alike(gateway: Gateway) -> None:
    _, created = await gateway.call("POST", "/test", json={"started": True})
    url = f"/test/{created['id']}/peer/alice/metrics"
    fast = json.dumps(metrics_body(2, somethingNew=[1, {"a": None}]))
    slow = fast.replace('"sentTotal": 2', '"sentTotal": 2.0')  # an integral float: validate_metrics's case
    answers = [await gateway.call("PUT", url, data=body, headers=JSON) for body in (fast, slow)]
    assert [status for status, _ in answers] == [200, 200]
    expected = {**validate_metrics(json.loads(fast)), "kind": "browser"}  # stamped by the service
    assert answers[0][1]["metrics"] == answers[1][1]["metrics"] == expected
    assert await gateway.call("PUT", url, data=fast.replace('"sent": 2', '"sent": NaN'), headers=JSON) == (
        400,
        {
            "status": "invalid-metrics",
            "message": "invalid metrics: sent: expected a finite number (integers within ±2^53), got nan",
        },
    )
    status, echoed = await gateway.call("PUT", url, data=fast.replace('"sent": 2', '"odd": "\\ud800"'), headers=JSON)
    assert status == 200 and echoed["metrics"]["odd"] == "\ud800"  # json reads a lone surrogate; so does the answer
    assert await gateway.call("PUT", url, data="[1]", headers=JSON) == (
        400,
        {"status": "bad-request", "message": "body must be a JSON object"},
    )


@pytest.mark.parametrize("access_log", [False, True])
async def test_requests_are_logged_one_by_one_only_when_asked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, access_log: bool
) -> None:
    service = ResultsService(ResultsSettings(location=str(tmp_path), access_log=access_log))
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    async with (
        serving(create_app(service), "127.0.0.1", 0) as port,
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/status") as response,
    ):
        assert response.status == 200
    assert any(r.name == "aiohttp.access" and r.levelno >= logging.INFO for r in caplog.records) == access_log


async def test_keys_the_schema_lacks_are_warned_about_once_per_test_and_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    service = ResultsService(ResultsSettings(location=str(tmp_path)))
    caplog.set_level(logging.WARNING, logger="peerperf.results.submissions")
    for test_id in ("a", "b"):
        await service.create_test(test_id, started=True)
    bodies = [
        metrics_body(),
        metrics_body(newCounter=1),
        metrics_body(newCounter=2),
        metrics_body(other=[1], newCounter=3),
    ]
    for body in bodies:
        point = await service.submit_one("a", "p", body)
        assert point.metrics == {**body, "kind": "browser"}  # kept, whatever the warnings
    await service.submit_one("b", "p", metrics_body(newCounter=4))
    warnings = [r.getMessage() for r in caplog.records if "does not know" in r.getMessage()]
    assert warnings == [
        "test a: peer p sent metric keys peerperf does not know, kept: ['newCounter']",
        "test a: peer p sent metric keys peerperf does not know, kept: ['other']",
        "test b: peer p sent metric keys peerperf does not know, kept: ['newCounter']",
    ]
