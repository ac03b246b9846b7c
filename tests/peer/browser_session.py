"""One browser session: headless Chromium and a peerperf connection exchange numbered messages.

Headless Chromium loads a page from an aiohttp server on 127.0.0.1, opens an RTCPeerConnection with
one data channel and posts its offer (complete, candidates gathered) to the server, where a peerperf
`PeerConnection` on the tuned SCTP transport answers. Both sides then send thousands of numbered
messages and check they got all of them, in order. With `--loss`, SCTP packets are dropped at random
below SCTP on the peerperf side, in both directions.

Run as `python -m tests.peer.browser_session` inside a network namespace that has only loopback
(test_browser_interop.py does): Chromium binds every interface it finds, so the namespace is what
keeps its traffic on 127.0.0.1. Prints one JSON line: what each side received.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from peerperf.peer.ice import rtc_configuration, use_host_addresses
from peerperf.peer.sctp_tuning import TunedSctpTransport
from peerperf.peer.settings import COMPILED_DATA_PATH, PeerSettings
from peerperf.peer.webrtc_connection import PeerConnection
from peerperf.protocol.signaling_frames import SessionDescription
from tests.browser import CHROMIUM_FLAGS, chromium
from tests.peer.aiortc_pairs import poll

log = logging.getLogger(__name__)

PAGE = """<!doctype html>
<meta charset="utf-8"><title>peerperf interop</title>
<script>
const N = %(messages)d;
const report = (result) => fetch("/result", {method: "POST", body: JSON.stringify(result)});
async function main() {
  // Media permission (granted by --use-fake-ui-for-media-stream) makes Chromium offer its real host
  // address instead of an mDNS name aioice cannot resolve.
  (await navigator.mediaDevices.getUserMedia({audio: true})).getTracks().forEach((t) => t.stop());
  const pc = new RTCPeerConnection({iceServers: []});
  const channel = pc.createDataChannel("interop", {ordered: true});
  channel.binaryType = "arraybuffer";
  let received = 0, sent = false;
  const errors = [];
  const finish = () => { if (received === N && sent) report({received, errors: errors.slice(0, 5)}); };
  channel.onmessage = (event) => {
    const text = typeof event.data === "string" ? event.data : new TextDecoder().decode(event.data);
    if (text !== "p" + received) errors.push(`expected p${received}, got ${text}`);
    received += 1;
    finish();
  };
  channel.onopen = async () => {
    for (let i = 0; i < N; i++) {
      channel.send("b" + i);
      if (i %% 50 === 49) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    sent = true;
    finish();
  };
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== "complete") {
    await new Promise((resolve) => pc.addEventListener("icegatheringstatechange",
      () => pc.iceGatheringState === "complete" && resolve()));
  }
  const answer = await fetch("/offer", {method: "POST", body: JSON.stringify(pc.localDescription)});
  await pc.setRemoteDescription(await answer.json());
}
main().catch((error) => report({received: -1, errors: [String(error)]}));
</script>
"""


@dataclass
class Exchange:
    """The peerperf side of one browser session."""

    loss: float
    messages: int
    received: list[bytes] = field(default_factory=list)
    connections: list[PeerConnection] = field(default_factory=list)
    browser_result: asyncio.Future[dict[str, Any]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    dropped: int = 0
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(11))

    def lossy(self) -> bool:
        drop = self.rng.random() < self.loss
        self.dropped += drop
        return drop

    async def page(self, request: web.Request) -> web.Response:
        return web.Response(text=PAGE % {"messages": self.messages}, content_type="text/html")

    async def offer(self, request: web.Request) -> web.Response:
        offer = await request.json()
        connection = PeerConnection(
            "browser",
            "session",
            initiator=False,
            configuration=rtc_configuration(PeerSettings(sctp_tuning=True, data_path=COMPILED_DATA_PATH)),
            on_data=lambda _src, data: self.received.append(data),
            on_closed=lambda _c: None,
        )
        self.connections.append(connection)
        answer = await connection.answer(SessionDescription(offer["type"], offer["sdp"]))
        self.tasks.append(asyncio.create_task(self._send_when_open(connection)))
        return web.json_response({"type": answer.type, "sdp": answer.sdp})

    async def result(self, request: web.Request) -> web.Response:
        if not self.browser_result.done():
            self.browser_result.set_result(json.loads(await request.text()))
        return web.Response(text="ok")

    async def _send_when_open(self, connection: PeerConnection) -> None:
        await connection.opened.wait()
        sctp = connection.pc.sctp
        assert isinstance(sctp, TunedSctpTransport), "the peerperf side must run the tuned transport"
        if self.loss:
            self._impair(sctp)
        for i in range(self.messages):
            assert connection.send(f"p{i}".encode()), "the channel closed while sending"
            if i % 50 == 49:
                await asyncio.sleep(0)

    def _impair(self, sctp: TunedSctpTransport) -> None:
        """Drop SCTP packets at random on their way to and from the SCTP layer (below SCTP)."""
        dtls, send_data, handle_data = sctp.transport, sctp.transport._send_data, sctp._handle_data

        async def send_lossy(data: bytes) -> None:
            if not self.lossy():
                await send_data(data)

        async def receive_lossy(data: bytes) -> None:
            if not self.lossy():
                await handle_data(data)

        dtls._send_data = send_lossy  # type: ignore[method-assign]
        sctp._handle_data = receive_lossy  # type: ignore[method-assign]


def start_chromium(url: str, profile: str) -> subprocess.Popen[bytes]:
    flags = [
        *CHROMIUM_FLAGS,
        "--allow-loopback-in-peer-connection",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--user-data-dir={profile}",
    ]
    return subprocess.Popen([chromium(), *flags, url], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def run(loss: float, messages: int) -> dict[str, Any]:
    """Serve the page, let Chromium exchange `messages` each way with a tuned peer, return both sides' view."""
    use_host_addresses(("127.0.0.1",))
    session = Exchange(loss, messages)
    app = web.Application()
    app.router.add_get("/", session.page)
    app.router.add_post("/offer", session.offer)
    app.router.add_post("/result", session.result)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
    with tempfile.TemporaryDirectory() as profile:
        browser = start_chromium(url, profile)
        try:
            browser_view = await asyncio.wait_for(session.browser_result, 120)
            await poll(lambda: len(session.received) >= messages, f"{messages} messages from Chromium", timeout=60)
            await asyncio.gather(*session.tasks)  # the peer's own sends finished without error
        finally:
            browser.terminate()
            _, stderr = await asyncio.to_thread(browser.communicate, timeout=30)
            for task in session.tasks:
                task.cancel()
            await asyncio.gather(*session.tasks, return_exceptions=True)
            fast = [getattr(c.pc.sctp.transport, "_peerperf_fast", None) for c in session.connections if c.pc.sctp]
            for connection in session.connections:
                await connection.close()
            await runner.cleanup()
    expected = [f"b{i}".encode() for i in range(messages)]
    return {
        "browser": browser_view,
        "peer_received": len(session.received),
        "peer_in_order": session.received == expected,
        "dropped": session.dropped,
        "fast_datagrams": sum(receiver.fast for receiver in fast if receiver is not None),
        "compiled_packets": sum(getattr(receiver, "compiled", 0) for receiver in fast if receiver is not None),
        "chromium_stderr": stderr.decode(errors="replace")[-1500:],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loss", type=float, default=0.0, help="fraction of SCTP packets dropped each way")
    parser.add_argument("--messages", type=int, default=3000, help="messages sent each way")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(json.dumps(asyncio.run(run(args.loss, args.messages))))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
