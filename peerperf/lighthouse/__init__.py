"""The embedded lighthouse: HTTP API and `/peerjs` WebSocket signaling on one aiohttp port."""

from peerperf.lighthouse.app import create_app
from peerperf.lighthouse.lighthouse import Lighthouse
from peerperf.lighthouse.settings import LighthouseSettings
from peerperf.protocol.challenge import challenge_signature

__all__ = ["Lighthouse", "LighthouseSettings", "challenge_signature", "create_app"]
