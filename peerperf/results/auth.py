"""The results API's optional bearer token (`RESULTS_TOKEN`): who may write to or read the tests.

With a token set, every request but `GET /status`, `GET /openapi.json` and CORS preflights must carry
`Authorization: Bearer <token>`; the comparison takes the same time however much of it matches. The
token is a credential: it is never logged, recorded with a test, or written to a datapoint. The
client's side is `peerperf.results.client.bearer_headers` (peer hosts must not load aiohttp's server).
"""

from __future__ import annotations

import hmac

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from peerperf.httpserver import json_error

#: Paths anyone may call: the liveness check and the API's description.
OPEN_PATHS = frozenset({"/status", "/openapi.json"})


def token_middleware(token: str) -> Middleware:
    """A middleware refusing requests without `Authorization: Bearer <token>` with a JSON 401."""
    expected = f"Bearer {token}".encode()

    @web.middleware
    async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in OPEN_PATHS:
            return await handler(request)
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            response = json_error(401, "unauthorized", "this results service needs Authorization: Bearer <token>")
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        return await handler(request)

    return require_token
