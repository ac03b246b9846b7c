"""How peers and the orchestrator talk to a results service: the results API, two transports.

`ResultsClient` is `ResultsApi` (peerperf.results.api) plus delivering what is queued and closing.
`HttpResultsClient` speaks the original's HTTP API, so
any compatible results server works (`--results-url`); inside Ray the actor client in
`peerperf.cluster` calls the results actor directly. Over HTTP, peers' records that find the service
away wait in a bounded `Outbox` and are retried with a growing pause (a restarted service gets them).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any, Protocol

import aiohttp

from peerperf.errors import RequestError
from peerperf.results.api import ResultsApi
from peerperf.results.model import BatchResult, Submission, TestInfo
from peerperf.results.outbox import Outbox, Pending, RetryPolicy

_MARKUP = re.compile(r"<[^>]*>")
#: Concurrent metric PUTs per batch over HTTP.
HTTP_CONCURRENCY = 16


def bearer_headers(token: str | None) -> dict[str, str]:
    """The header a client sends with the results service's token (none without one)."""
    return {"Authorization": f"Bearer {token}"} if token else {}


async def _refusal(resp: aiohttp.ClientResponse) -> Any:
    """A refusal's body: JSON as sent, else its text without markup (the original's Express answers an
    unknown route with an HTML page: a 404 it is, not an unreachable service to retry)."""
    text = await resp.text(errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return _MARKUP.sub(" ", text).strip()[:200] or None


class ResultsClient(ResultsApi, Protocol):
    """The results API as a run reaches it from elsewhere, with the transport's own two calls."""

    async def drain(self) -> BatchResult:
        """Deliver what earlier submissions left queued (bounded wait); `accepted` counts them."""
        ...

    async def close(self) -> None: ...


class HttpResultsClient:
    """The original's results API over HTTP; waiting for the start polls `GET /test/{id}` (its contract)."""

    def __init__(
        self,
        base_url: str,
        poll_interval: float = 0.5,
        timeout: float = 30.0,
        token: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = bearer_headers(token)
        self.poll_interval = poll_interval
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self.outbox = Outbox(self._put_each, retry or RetryPolicy())

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout, headers=self._headers)
        return self._session

    async def _call(self, method: str, path: str, body: Any = None, discard: bool = False) -> Any:
        """One request; the JSON answer, or nothing with `discard` (the body is drained unparsed)."""
        try:
            async with self._http().request(method, self.base_url + path, json=body) as resp:
                if resp.status < 400 and discard:
                    async for _ in resp.content.iter_chunked(1 << 16):
                        pass
                    return None
                if resp.status >= 400:
                    raise RequestError.from_answer(resp.status, await _refusal(resp), f"{method} {path}")
                return await resp.json(content_type=None)
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            raise RequestError(503, "results-unreachable", f"{method} {self.base_url}{path} failed: {exc}") from exc

    async def create_test(self, test_id: str | None = None, started: bool = False) -> TestInfo:
        path = "/test" if test_id is None else f"/test/{test_id}"
        return TestInfo.from_json(await self._call("POST", path, {"started": True} if started else None))

    async def start_test(self, test_id: str) -> TestInfo:
        return TestInfo.from_json(await self._call("PUT", f"/test/{test_id}/start"))

    async def finish_test(self, test_id: str) -> TestInfo:
        # The answer is the whole test (as the original's): drained, not held in memory.
        await self._call("PUT", f"/test/{test_id}/finish", discard=True)
        return await self.get_test(test_id)

    async def get_test(self, test_id: str) -> TestInfo:
        return TestInfo.from_json(await self._call("GET", f"/test/{test_id}"))

    async def wait_started(self, test_id: str, timeout: float | None = None) -> TestInfo:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            info = await self.get_test(test_id)
            if info.started is not None:
                return info
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"test {test_id} did not start within {timeout} s")
            await asyncio.sleep(self.poll_interval)

    async def submit_batch(self, test_id: str, submissions: list[Submission]) -> BatchResult:
        """One `PUT /test/{id}/peer/{peerId}/metrics` per datapoint, as the original clients did.

        Never waits out an outage: what the service cannot take now is queued for a later call.
        """
        records = [Pending(f"/test/{test_id}/peer/{s.peer_id}/metrics", s) for s in submissions]
        return await self.outbox.deliver(records, HTTP_CONCURRENCY)

    async def submit_results(self, test_id: str, submissions: list[Submission]) -> BatchResult:
        """One `PUT /test/{id}/peer/{peerId}/results` per peer (queued like datapoints while the service is away)."""
        records = [Pending(f"/test/{test_id}/peer/{s.peer_id}/results", s) for s in submissions]
        return await self.outbox.deliver(records, HTTP_CONCURRENCY)

    async def drain(self) -> BatchResult:
        return await self.outbox.drain(HTTP_CONCURRENCY)

    async def _put_each(self, records: list[Pending]) -> list[RequestError | None]:
        """PUT `records` at once (the outbox hands over at most `HTTP_CONCURRENCY`); an error per record."""

        async def put(record: Pending) -> RequestError | None:
            try:
                await self._call("PUT", record.path, record.submission.metrics)
                return None
            except RequestError as exc:
                return exc

        return list(await asyncio.gather(*(put(r) for r in records)))

    async def submit_topology(self, test_id: str, topology: Any) -> None:
        await self._call("PUT", f"/test/{test_id}/topology", topology)

    async def set_metadata(self, test_id: str, metadata: dict[str, Any]) -> TestInfo:
        return TestInfo.from_json(await self._call("PUT", f"/test/{test_id}/metadata", metadata))

    async def server_time_ms(self) -> float:
        return float((await self._call("GET", "/time"))["now"])

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
