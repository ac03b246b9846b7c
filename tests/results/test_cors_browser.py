"""A page on another origin, in a real headless Chromium, reads the results API as the original's
results-processing page did: a streamed test, a finished one, an error and a preflighted PUT."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.netwatch import loopback_only
from tests.results.browser import page_reporting
from tests.results.conftest import Gateway, metrics_body

pytestmark = pytest.mark.browser

PAGE = """<!doctype html><script>
const api = %(api)s;
async function probe(method, path, body) {
  try {
    const init = {method};
    if (body !== undefined) { init.body = JSON.stringify(body); init.headers = {"Content-Type": "application/json"}; }
    const resp = await fetch(api + path, init);
    const text = await resp.text();
    return {status: resp.status, body: text};
  } catch (err) {
    return {blocked: String(err)};  // what a browser does when CORS headers are missing
  }
}
(async () => {
  const report = {
    streamed: await probe("GET", "/test/live?dataPoints=true"),
    put: await probe("PUT", "/test/live/peer/browser/metrics", %(body)s),
    error: await probe("GET", "/test/missing"),
    finish: await probe("PUT", "/test/live/finish"),
    finished: await probe("GET", "/test/live?dataPoints=true"),
  };
  await fetch("/report", {method: "POST", body: JSON.stringify(report)});
})();
</script>"""


async def test_a_page_on_another_origin_reads_streamed_finished_and_error_responses(
    gateway: Gateway, tmp_path: Path
) -> None:
    await gateway.call("POST", "/test/live", json={"started": True})
    await gateway.call("PUT", "/test/live/peer/alice/metrics", json=metrics_body(20))
    html = PAGE % {"api": json.dumps(gateway.base), "body": json.dumps(metrics_body(3))}
    with loopback_only():
        async with page_reporting(html, tmp_path / "profile") as report:
            seen = report.result()
    assert all("blocked" not in seen[key] for key in seen), seen
    streamed = json.loads(seen["streamed"]["body"])
    assert seen["streamed"]["status"] == 200 and [p["peerId"] for p in streamed["dataPoints"]] == ["alice"]
    assert seen["put"]["status"] == 200
    assert seen["error"]["status"] == 404 and json.loads(seen["error"]["body"])["status"] == "test-not-found"
    finished = json.loads(seen["finished"]["body"])
    assert seen["finish"]["status"] == 200 and json.loads(seen["finish"]["body"]) == finished
    assert finished["finished"] and [p["peerId"] for p in finished["dataPoints"]] == ["alice", "browser"]
