"""Each service's OpenAPI description matches the routes its app serves, both ways, and is served."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from peerperf import openapi
from peerperf.httpserver import serving
from peerperf.lighthouse import LighthouseSettings
from peerperf.lighthouse import create_app as lighthouse_app
from peerperf.results import ResultsService, ResultsSettings
from peerperf.results import create_app as results_app


def apps(tmp_path: Path) -> dict[str, web.Application]:
    return {
        "peerperf.lighthouse": lighthouse_app(LighthouseSettings(no_auth=True)),
        "peerperf.results": results_app(ResultsService(ResultsSettings(location=str(tmp_path)))),
    }


@pytest.mark.parametrize("package", ["peerperf.lighthouse", "peerperf.results"])
def test_every_route_is_documented_and_every_documented_route_exists(package: str, tmp_path: Path) -> None:
    served = openapi.app_routes(apps(tmp_path)[package])
    documented = openapi.documented_routes(openapi.description(package))
    assert served - documented == set(), "routes the description lacks"
    assert documented - served == set(), "documented routes the app does not have"
    assert len(served) >= 12


@pytest.mark.parametrize("package", ["peerperf.lighthouse", "peerperf.results"])
async def test_the_description_is_served_and_valid(package: str, tmp_path: Path) -> None:
    import schemathesis

    async with (
        serving(apps(tmp_path)[package], "127.0.0.1", 0) as port,
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/openapi.json") as resp,
    ):
        assert resp.status == 200
        document = await resp.json()
    assert document == openapi.description(package) and document["openapi"].startswith("3.")
    from schemathesis.core.result import Ok

    results = list(schemathesis.openapi.from_dict(document).get_all_operations())
    assert all(isinstance(r, Ok) for r in results), "operations schemathesis cannot load"
    assert len(results) == len(openapi.documented_routes(document))
