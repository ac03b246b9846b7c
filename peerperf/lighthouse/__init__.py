"""The embedded lighthouse: HTTP API and `/peerjs` WebSocket signaling on one aiohttp port."""

from peerperf.lighthouse.app import create_app
from peerperf.lighthouse.lighthouse import Lighthouse, challenge_signature
from peerperf.lighthouse.settings import LighthouseSettings

__all__ = ["Lighthouse", "LighthouseSettings", "challenge_signature", "create_app"]
