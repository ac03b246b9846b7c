"""The run's layer plan: the capacity comes from the embedded lighthouse's setting or an external one's
`GET /layers`; a layer size above it is a clear error before anything starts; only a 404 of a layer means
"not there yet", any other refusal stops the run with what the lighthouse said."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from peerperf.cluster.layer_capacity import ASSUMED_CAPACITY, check_layer_room, plan_layers
from peerperf.config import RunConfig
from peerperf.errors import ConfigError, RunAborted
from peerperf.httpserver import serving
from peerperf.sim.population import Population
from peerperf.sim.routines import parse_mix


def lighthouse_answering(layers: object, status: int = 200, body: object = None) -> web.Application:
    """A stand-in for a lighthouse's two read routes: `GET /layers` and `GET /layers/{layer}`."""

    async def listed(request: web.Request) -> web.Response:
        return web.json_response(layers)

    async def layer(request: web.Request) -> web.Response:
        return web.json_response(body, status=status)

    app = web.Application()
    app.router.add_get("/layers", listed)
    app.router.add_get("/layers/{layer}", layer)
    return app


def blue(max_users: int, users: int = 0) -> dict[str, Any]:
    return {"name": "blue", "usersCount": users, "maxUsers": max_users}


def test_the_embedded_capacity_is_the_originals_50() -> None:
    assert RunConfig().max_per_layer == 50
    with pytest.raises(ConfigError, match="--layer-size 60 is above the embedded lighthouse's layer capacity 50"):
        RunConfig(layer_size=60)


async def test_the_embedded_capacity_spreads_a_big_run() -> None:
    plan = await plan_layers(RunConfig(peers=12, max_per_layer=6), parse_mix("default"))
    assert plan.population.layer_sizes() == [6, 6] and plan.capacity == 6


async def test_an_external_capacity_is_read_from_its_layers() -> None:
    app = lighthouse_answering([blue(20), {"name": "red", "usersCount": 0, "maxUsers": 20}], 404, {})
    async with serving(app, "127.0.0.1", 0) as port:
        url = f"http://127.0.0.1:{port}"
        plan = await plan_layers(RunConfig(peers=45, lighthouse_url=url), parse_mix("default"))
        assert plan.capacity == 20 and plan.source == f"{url}/layers"
        assert plan.population.layer_sizes() == [20, 20, 5]
        with pytest.raises(ConfigError, match=r"--layer-size 30 is above the layer capacity .* \(20, "):
            await plan_layers(RunConfig(peers=45, lighthouse_url=url, layer_size=30), parse_mix("default"))


async def test_a_lighthouse_that_reports_no_capacity_is_assumed_to_hold_the_originals() -> None:
    async with serving(lighthouse_answering([{"name": "blue"}], 404, {}), "127.0.0.1", 0) as port:
        url = f"http://127.0.0.1:{port}"
        plan = await plan_layers(RunConfig(peers=60, lighthouse_url=url), parse_mix("default"))
    assert plan.capacity == ASSUMED_CAPACITY == 50 and plan.source.startswith("assumed")
    assert plan.population.layer_sizes() == [50, 10]


@pytest.mark.parametrize(
    ("status", "body", "refusal"),
    [
        (500, {"status": "internal-error"}, "answered GET /layers/blue with 500"),
        (401, {"status": "unauthorized"}, "answered GET /layers/blue with 401"),
        (200, blue(10, users=9), "room for 1 more peers"),
    ],
)
async def test_a_refusal_stops_the_run_with_what_the_lighthouse_said(status: int, body: object, refusal: str) -> None:
    async with serving(lighthouse_answering([blue(10)], status, body), "127.0.0.1", 0) as port:
        url = f"http://127.0.0.1:{port}"
        with pytest.raises(RunAborted, match=refusal):
            await check_layer_room(url, Population(2, parse_mix("default")))


async def test_a_missing_layer_is_created_later() -> None:
    async with serving(lighthouse_answering([], 404, {"status": "layer-not-found"}), "127.0.0.1", 0) as port:
        url = f"http://127.0.0.1:{port}"
        await check_layer_room(url, Population(2, parse_mix("default")))
