"""The results API's optional bearer token: refused without it, constant-time checked, never logged or recorded."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from peerperf.config import RunConfig, recorded_settings
from peerperf.errors import RequestError
from peerperf.httpserver import serving
from peerperf.results import ResultsService, ResultsSettings, create_app
from peerperf.results.client import HttpResultsClient
from peerperf.settings import resolve

TOKEN = "s3cret-token-for-the-test"


@pytest.fixture
async def guarded(tmp_path: Path) -> AsyncIterator[str]:
    settings = resolve(ResultsSettings, environ={"RESULTS_TOKEN": TOKEN}, location=str(tmp_path))
    assert settings.token == TOKEN
    async with serving(create_app(ResultsService(settings)), "127.0.0.1", 0) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("authorization", [None, "", "Bearer", f"Bearer {TOKEN[:-1]}", f"bearer {TOKEN}", TOKEN])
async def test_requests_without_the_token_are_refused(guarded: str, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    async with aiohttp.ClientSession() as http, http.post(f"{guarded}/test/t1", headers=headers) as resp:
        assert resp.status == 401 and resp.headers["WWW-Authenticate"] == "Bearer"
        assert (await resp.json())["status"] == "unauthorized"
        assert resp.headers["Access-Control-Allow-Origin"] == "*"


async def test_status_and_preflights_stay_open(guarded: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{guarded}/status") as resp:
            assert resp.status == 200
        preflight = {"Origin": "http://page.example", "Access-Control-Request-Method": "PUT"}
        async with http.options(f"{guarded}/test/t1/start", headers=preflight) as resp:
            assert resp.status == 204 and "authorization" in resp.headers["Access-Control-Allow-Headers"]


async def test_the_run_client_sends_the_token(guarded: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with_token, without = HttpResultsClient(guarded, token=TOKEN), HttpResultsClient(guarded)
    try:
        info = await with_token.create_test("tokened", started=True)
        assert info.id == "tokened" and (await with_token.get_test("tokened")).started is not None
        with pytest.raises(RequestError) as refused:
            await without.get_test("tokened")
        assert refused.value.http_status == 401
    finally:
        await with_token.close()
        await without.close()
    assert TOKEN not in caplog.text


def test_the_token_is_not_recorded_with_the_test() -> None:
    config = RunConfig(results_token=TOKEN)
    assert TOKEN not in str(recorded_settings(config))
