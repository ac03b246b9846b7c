"""A foreign results server's refusal in HTML (the original's Express answers an unknown route with an
HTML 404) is that refusal, status and text, not an unreachable service: nothing waits to retry it."""

from __future__ import annotations

import pytest
from aiohttp import web

from peerperf.errors import RequestError
from peerperf.httpserver import serving
from peerperf.results.client import HttpResultsClient

EXPRESS_404 = '<!DOCTYPE html>\n<html lang="en">\n<body>\n<pre>Cannot PUT /test/t/metadata</pre>\n</body>\n</html>\n'


async def test_an_html_refusal_keeps_its_status_and_text() -> None:
    async def missing(request: web.Request) -> web.Response:
        return web.Response(status=404, text=EXPRESS_404, content_type="text/html")

    async def refused(request: web.Request) -> web.Response:
        return web.json_response({"status": "test-not-found", "message": "no test t"}, status=404)

    app = web.Application()
    app.router.add_put("/test/t/metadata", missing)
    app.router.add_get("/test/t", refused)
    async with serving(app, "127.0.0.1", 0) as port:
        client = HttpResultsClient(f"http://127.0.0.1:{port}")
        try:
            with pytest.raises(RequestError) as html:
                await client.set_metadata("t", {"peers": 3})
            with pytest.raises(RequestError) as json_refusal:
                await client.get_test("t")
        finally:
            await client.close()
    assert (html.value.http_status, html.value.code) == (404, "error")
    assert "404 Cannot PUT /test/t/metadata" in str(html.value) and "<pre>" not in str(html.value)
    assert (json_refusal.value.http_status, json_refusal.value.code) == (404, "test-not-found")
