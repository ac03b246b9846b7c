"""A peerperf service (`python -m peerperf.results` / `peerperf.lighthouse`) in its own process, for fault tests."""

from __future__ import annotations

import asyncio
import os
import re
import sys

#: How long a service may take to say it is listening.
STARTUP_DEADLINE = 30.0


async def start_service_process(module: str, env: dict[str, str]) -> tuple[asyncio.subprocess.Process, int]:
    """Start `python -m module` with `env` added to ours; return it and the port it says it listens on."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", module, env={**os.environ, **env}, stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), STARTUP_DEADLINE)).decode()
        assert line, f"{module} exited before listening"
        if match := re.search(r"listening on port (\d+)", line):
            return proc, int(match.group(1))
