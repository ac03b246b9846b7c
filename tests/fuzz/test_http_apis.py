"""Schema-driven fuzzing of both HTTP APIs against running services (`python -m peerperf.<service>` on
127.0.0.1): valid and invalid requests generated from each service's own `/openapi.json` by
schemathesis. Never a 5xx, every error a 4xx JSON body, the service stays up, and the results service
writes nothing outside its results folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.fuzz.checks import BUDGET, assert_clean_answer, record
from tests.fuzz.servers import Server, running

#: A test the fuzzer's fixed-id requests act on, created and started before fuzzing.
LIVE_TEST = "fuzz-live"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-sandbox")


@pytest.fixture(scope="module")
def results_server(sandbox: Path) -> Iterator[Server]:
    env = {"RESULTS_PORT": "0", "TEST_RESULTS_LOCATION": str(sandbox / "results"), "FLUSH_INTERVAL": "0.2"}
    with running("peerperf.results", env, sandbox) as server:
        yield server


@pytest.fixture(scope="module")
def lighthouse_server(sandbox: Path) -> Iterator[Server]:
    with running("peerperf.lighthouse", {"LIGHTHOUSE_PORT": "0", "NO_AUTH": "true"}, sandbox) as server:
        yield server


def fuzz(server: Server, strategy: st.SearchStrategy[Any], examples: int) -> int:
    """Send `examples` generated requests to `server`, checking each answer; returns how many were sent."""
    sent = 0

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def one(case: schemathesis.Case) -> None:
        nonlocal sent
        response = case.call(base_url=server.base, session=server.session, timeout=30)
        sent += 1
        content_type = response.headers.get("content-type", [""])[0].split(";")[0]
        body = response.json() if content_type == "application/json" and response.content else response.text
        assert_clean_answer(response.status_code, content_type, body, f"{case.method} {case.formatted_path}")

    one()
    return sent


def strategies(document: dict[str, Any], **fixed: Any) -> st.SearchStrategy[Any]:
    schema = schemathesis.openapi.from_dict(document)
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    generated = [schema.as_strategy(mode) for mode in modes]
    pinned = [schema.as_strategy(mode, path_parameters=fixed) for mode in modes] if fixed else []
    return st.one_of(*generated, *pinned)


def test_results_api_fuzzed(results_server: Server, sandbox: Path) -> None:
    http = results_server.session
    assert http.post(f"{results_server.base}/test/{LIVE_TEST}", json={"started": True}).status_code == 200
    document = http.get(f"{results_server.base}/openapi.json").json()
    examples = BUDGET["results API"]
    record("results API", fuzz(results_server, strategies(document, test_id=LIVE_TEST), examples), examples)
    assert results_server.alive()
    outside = [p for p in sandbox.rglob("*") if p.is_file() and not p.is_relative_to(sandbox / "results")]
    assert outside == [], "files written outside the results folder"
    assert sorted(p.name for p in sandbox.iterdir()) == ["results"]


def test_lighthouse_api_fuzzed(lighthouse_server: Server) -> None:
    document = lighthouse_server.session.get(f"{lighthouse_server.base}/openapi.json").json()
    examples = BUDGET["lighthouse API"]
    record("lighthouse API", fuzz(lighthouse_server, strategies(document, layer="blue"), examples), examples)
    assert lighthouse_server.alive()
