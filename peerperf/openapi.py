"""The services' OpenAPI 3 descriptions: hand-written YAML beside each service, served as `/openapi.json`.

Kept by hand (the routes are few and their errors are the interesting part), and kept right by a
test that compares each description with the routes its aiohttp app really has, both ways, and by
the schema-driven fuzzing in `tests/fuzz/`.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import yaml
from aiohttp import web

#: aiohttp adds these to routes by itself (HEAD beside GET; preflights are answered by middleware).
IMPLICIT_METHODS = frozenset({"HEAD", "OPTIONS"})
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})


@functools.cache
def description(package: str) -> dict[str, Any]:
    """The OpenAPI document `openapi.yaml` of `package` (e.g. `peerperf.results`)."""
    text = resources.files(package).joinpath("openapi.yaml").read_text()
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def route(package: str) -> web.RouteDef:
    """`GET /openapi.json` answering `package`'s description."""

    async def openapi_json(request: web.Request) -> web.Response:
        return web.json_response(description(package))

    return web.get("/openapi.json", openapi_json)


def documented_routes(document: dict[str, Any]) -> set[tuple[str, str]]:
    """`(METHOD, path template)` for every operation the description declares."""
    return {
        (method.upper(), path) for path, item in document["paths"].items() for method in item if method in HTTP_METHODS
    }


def app_routes(app: web.Application) -> set[tuple[str, str]]:
    """`(METHOD, path template)` for every route `app` serves (aiohttp's implicit HEAD left out)."""
    return {
        (r.method, r.resource.canonical)
        for r in app.router.routes()
        if r.resource is not None and r.method not in IMPLICIT_METHODS
    }
