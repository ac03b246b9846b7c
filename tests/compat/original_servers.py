"""The original system's servers (`shared/original`: the lighthouse and the results server) as fixtures.

Each runs on Node.js with `loopback-listen.cjs` preloaded (it binds 127.0.0.1 only), on a free port and
a folder of the test's own; the results server relays to no stats server (`STATS_SERVER_URL` empty:
its default is a public address).
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import shared_dir
from tests.metricsdb import free_port

ORIGINAL = shared_dir() / "original"
#: How long a server may take to say it listens.
START_DEADLINE = 30.0


def absent() -> str | None:
    """Why the original servers cannot run here (None: they can)."""
    missing = [name for name in ("lighthouse.js", "results-server.js") if not (ORIGINAL / name).exists()]
    return f"{ORIGINAL} lacks {', '.join(missing)}: the original system sits beside the checkout" if missing else None


@contextlib.contextmanager
def original_server(script: str, env: dict[str, str], log: Path) -> Iterator[str]:
    """Start `node -r loopback-listen.cjs ORIGINAL/script` with `env` (and `PORT`); yield its base URL."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["node", "-r", str(ORIGINAL / "loopback-listen.cjs"), str(ORIGINAL / script)],
            env={"PATH": "/usr/bin:/bin", **env, "PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_DEADLINE
        while f"listening on port {port}" not in log.read_text(errors="replace"):  # bounded poll for its banner
            assert proc.poll() is None, f"{script} exited: {log.read_text(errors='replace')[-2000:]}"
            assert time.monotonic() < deadline, f"{script} did not listen: {log.read_text(errors='replace')[-2000:]}"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def original_lighthouse(folder: Path) -> contextlib.AbstractContextManager[str]:
    """The original lighthouse without its Ethereum signature checks (`NO_AUTH=true`), storage in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {"NO_AUTH": "true", "LIGHTHOUSE_STORAGE_LOCATION": str(folder)}
    return original_server("lighthouse.js", env, folder / "lighthouse.log")


def original_results_server(folder: Path) -> contextlib.AbstractContextManager[str]:
    """The original results server, keeping each finished test as `folder/{id}.json`."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {"TEST_RESULTS_LOCATION": str(folder), "STATS_SERVER_URL": ""}
    return original_server("results-server.js", env, folder / "results-server.log")
