"""Debian's headless Chromium, kept off the network, to look at what peerperf shows a person.

`render` opens a page and returns its DOM after scripts ran, a screenshot, and every console
message: a test fails on console errors as a person would notice a broken page.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.image import imread

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-features=MediaRouter,OptimizationHints,Translate,DialMediaRouteProvider",
    "--metrics-recording-only",
    # No name lookups at all: every host name resolves to "not found" without asking a DNS server.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
)
_CONSOLE = re.compile(r":CONSOLE(?:\(\d+\)|:\d+)\] (.*)")


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "Debian's chromium is needed for browser tests (.ci/run installs it)"
    return path


@dataclass(frozen=True)
class Rendered:
    dom: str
    screenshot: np.ndarray
    console: list[str]

    def looks_blank(self) -> bool:
        """True when the screenshot is (nearly) one colour."""
        return float(self.screenshot[..., :3].std()) < 0.01


def render(url: str, profile: Path, size: tuple[int, int] = (1200, 2400), timeout: float = 120.0) -> Rendered:
    """Load `url`, let its scripts run, and return its DOM, a screenshot and its console messages."""
    common = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0"]
    dom = subprocess.run(
        [*common, "--virtual-time-budget=5000", "--dump-dom", url], capture_output=True, text=True, timeout=timeout
    )
    shot = profile / "screenshot.png"
    snap = subprocess.run(
        [*common, "--hide-scrollbars", f"--window-size={size[0]},{size[1]}", f"--screenshot={shot}", url],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert shot.exists(), f"Chromium wrote no screenshot:\n{snap.stderr[-2000:]}"
    console = [m.group(1) for line in (dom.stderr + snap.stderr).splitlines() if (m := _CONSOLE.search(line))]
    return Rendered(dom.stdout, imread(shot), console)
