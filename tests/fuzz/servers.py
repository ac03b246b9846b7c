"""A service started as its users start it (`python -m peerperf.<service>`) on a free loopback port."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

#: The start line each service prints once it listens (the original's).
BANNER = re.compile(r"listening on port (\d+)\.")


@dataclass
class Server:
    base: str
    proc: subprocess.Popen[str]
    session: requests.Session

    def alive(self) -> bool:
        """Still running and answering `GET /status`."""
        return self.proc.poll() is None and self.session.get(f"{self.base}/status", timeout=10).status_code == 200


@contextmanager
def running(module: str, env: dict[str, str], cwd: Path) -> Iterator[Server]:
    """Start `python -m module` with `env` added, wait for its banner, stop it with SIGTERM at the end."""
    proc = subprocess.Popen(
        [sys.executable, "-m", module, "--log-level", "ERROR"],
        env={**os.environ, **env},
        cwd=cwd,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    port = None
    for line in proc.stdout:
        if match := BANNER.search(line):
            port = int(match.group(1))
            break
    assert port is not None, f"{module} exited before listening (code {proc.wait(30)})"
    session = requests.Session()
    session.trust_env = False  # straight to 127.0.0.1, whatever proxy variables say
    try:
        yield Server(f"http://127.0.0.1:{port}", proc, session)
    finally:
        session.close()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0, f"{module} did not stop cleanly"
