"""The run's layer-capacity check against an external lighthouse: only a 404 means "not there yet";
any other refusal stops the run with what the lighthouse said (it used to be read as "no layer")."""

from __future__ import annotations

import pytest
from aiohttp import web

from peerperf.cluster.layer_capacity import check_layer_capacity
from peerperf.cluster.run_aborted import RunAborted
from peerperf.httpserver import serving
from peerperf.sim.population import Population
from peerperf.sim.routines import parse_mix


async def lighthouse_answering(status: int, body: object) -> web.Application:
    async def layer(request: web.Request) -> web.Response:
        return web.json_response(body, status=status)

    app = web.Application()
    app.router.add_get("/layers/{layer}", layer)
    return app


@pytest.mark.parametrize(
    ("status", "body", "refusal"),
    [
        (500, {"status": "internal-error"}, "answered GET /layers/blue with 500"),
        (401, {"status": "unauthorized"}, "answered GET /layers/blue with 401"),
        (200, {"name": "blue", "usersCount": 9, "maxUsers": 10}, "room for 1 more peers"),
    ],
)
async def test_a_refusal_stops_the_run_with_what_the_lighthouse_said(status: int, body: object, refusal: str) -> None:
    async with serving(await lighthouse_answering(status, body), "127.0.0.1", 0) as port:
        url = f"http://127.0.0.1:{port}"
        with pytest.raises(RunAborted, match=refusal):
            await check_layer_capacity(url, Population(2, parse_mix("default")))


async def test_a_missing_layer_is_created_later() -> None:
    async with serving(await lighthouse_answering(404, {"status": "layer-not-found"}), "127.0.0.1", 0) as port:
        url = f"http://127.0.0.1:{port}"
        await check_layer_capacity(url, Population(2, parse_mix("default")))
