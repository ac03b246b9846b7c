"""aiohttp plumbing shared by the lighthouse and the results gateway.

Both services are called by browsers from other origins (the original's clients were web pages),
answer errors as JSON, and have the same lifecycle: start, print where they listen, serve until a
signal, shut down gracefully with a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

import uvloop
from aiohttp import web
from aiohttp.typedefs import Handler

from peerperf.errors import ConfigError, RequestError
from peerperf.settings import add_arguments, resolve

log = logging.getLogger(__name__)

__all__ = ["HttpServer", "read_json", "read_json_object", "service_app", "serving"]

#: aiohttp's own default request body limit (the original answered 413 above 100 kB).
DEFAULT_BODY_LIMIT = 1024**2
BODY_LIMIT: web.AppKey[int] = web.AppKey("body_limit", int)

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS",
    "Access-Control-Allow-Headers": "authorization,content-type,x-peer-token",
    "Access-Control-Max-Age": "600",
}


def json_error(http_status: int, code: str, message: str | None = None) -> web.Response:
    """A JSON error response (the original sent JSON as text/html; this is application/json)."""
    return web.json_response(RequestError(http_status, code, message).to_json(), status=http_status)


def service_app(client_max_size: int = DEFAULT_BODY_LIMIT) -> web.Application:
    """An app with the services' shared behaviour: CORS on every response, JSON errors, a body limit."""
    app = web.Application(middlewares=[preflight_middleware, json_errors_middleware], client_max_size=client_max_size)
    app[BODY_LIMIT] = client_max_size
    app.on_response_prepare.append(_add_cors_headers)
    return app


async def _add_cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Runs as every response is prepared, so streamed bodies, errors and 404s carry CORS too."""
    response.headers.update(CORS_HEADERS)


@web.middleware
async def preflight_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer CORS preflights for every routed path (aiohttp would answer 405)."""
    if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
        exc = request.match_info.http_exception
        if exc is None or isinstance(exc, web.HTTPMethodNotAllowed):
            return web.Response(status=204)
    return await handler(request)


@web.middleware
async def json_errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn `RequestError`, aiohttp's own HTTP errors and crashes into JSON bodies."""
    try:
        return await handler(request)
    except RequestError as exc:
        return web.json_response(exc.to_json(), status=exc.http_status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        if exc.status == 413:
            limit = request.app.get(BODY_LIMIT, DEFAULT_BODY_LIMIT)
            return json_error(
                413, "body-too-large", f"{request.method} {request.path}: bodies are limited to {limit} bytes"
            )
        code = exc.reason.lower().replace(" ", "-")
        return json_error(exc.status, code, f"{request.method} {request.path}: {exc.reason}")
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return json_error(500, "internal-error", "unexpected server error; see the server log")


async def read_json(request: web.Request) -> Any:
    """The request body as JSON, or a 400 saying it is not."""
    try:
        return await request.json()
    except ValueError:
        raise RequestError(400, "bad-request", "body must be JSON") from None


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 saying what is wrong with it."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise RequestError(400, "bad-request", "body must be a JSON object")
    return body


class HttpServer:
    """One aiohttp app served on one port: `start()`, then `stop()` (graceful for `shutdown_timeout` s, then
    cut). The one server lifecycle of the standalone services, the Ray actors and the tests (uvicorn's
    `Server` in miniature)."""

    def __init__(self, app: web.Application, host: str, port: int = 0, shutdown_timeout: float = 5.0) -> None:
        self.app = app
        self.host = host
        #: The port asked for (0: a free one), then the port bound once started.
        self.port = port
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=shutdown_timeout)
        self._started = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> int:
        """Listen on host:port; returns the bound port."""
        await self._runner.setup()
        self._started = True
        try:
            await web.TCPSite(self._runner, self.host, self.port).start()
        except BaseException:
            await self.stop()
            raise
        sockets = self._runner.addresses
        self.port = int(sockets[0][1]) if sockets else self.port
        return self.port

    async def also_listen(self, host: str) -> None:
        """Serve the same app on `host` too, on the same port (a cluster head's loopback for port-forwards)."""
        await web.TCPSite(self._runner, host, self.port).start()

    async def stop(self) -> None:
        """Stop accepting, let requests in flight finish, then close every connection; idempotent."""
        if self._started:
            self._started = False
            await self._runner.cleanup()

    async def __aenter__(self) -> HttpServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


@contextlib.asynccontextmanager
async def serving(app: web.Application, host: str, port: int, shutdown_timeout: float = 5.0) -> AsyncIterator[int]:
    """Serve `app` on host:port (0 picks a free port) and yield the bound port."""
    async with HttpServer(app, host, port, shutdown_timeout) as server:
        yield server.port


async def serve_until_signal(
    app: web.Application,
    host: str,
    port: int,
    banner: Callable[[int], str],
    on_started: Callable[[int], Awaitable[None]] | None = None,
) -> None:
    """Run a service in the foreground until SIGINT/SIGTERM, then shut down gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with serving(app, host, port) as bound:
        print(banner(bound), flush=True)
        if on_started is not None:
            await on_started(bound)
        await stop.wait()
        log.info("shutting down")


class _Listening(Protocol):
    host: str
    port: int


@dataclass(frozen=True)
class ServiceCommand:
    """A `python -m peerperf.<name>` entry point: flags from the settings classes, serve until Ctrl-C."""

    name: str
    description: str | None
    settings: type
    #: Gets the resolved settings, then one object per class of `extra_settings` (their flags are added too).
    build: Callable[..., web.Application]
    #: The start line, formatted with the bound `port` (the originals' scripts waited for theirs).
    banner: str
    extra_settings: tuple[type, ...] = ()

    def main(self, argv: list[str] | None = None) -> int:
        parser = argparse.ArgumentParser(prog=f"python -m peerperf.{self.name}", description=self.description)
        for cls in (self.settings, *self.extra_settings):
            add_arguments(parser, cls)
        parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
        args = parser.parse_args(argv)
        logging.basicConfig(level=args.log_level.upper(), format=f"[{self.name}][%(levelname)s] %(message)s")
        try:
            settings: Any = resolve(self.settings, args)
            app = self.build(settings, *(resolve(extra, args) for extra in self.extra_settings))
        except (ConfigError, OSError) as exc:
            print(f"{self.name}: {exc}", file=sys.stderr)
            return 2
        listening = cast(_Listening, settings)
        banner = self.banner.format
        # uvloop: 20-45 % less CPU than asyncio's loop
        uvloop.run(serve_until_signal(app, listening.host, listening.port, lambda port: banner(port=port)))
        return 0
