"""Running `python -m peerperf.run` as a subprocess whose output lines can be awaited."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

RUN_TIMEOUT = 240.0


class Run:
    """A `python -m peerperf.run` subprocess whose output lines can be awaited."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []

    @classmethod
    async def start(
        cls,
        *args: str,
        env: dict[str, str] | None = None,
        prefix: Sequence[str] = (),
        base_env: Mapping[str, str] | None = None,
        healthy_only: bool = False,
        cwd: Path | None = None,
    ) -> Run:
        """`env` is added to `base_env` (this process's environment by default); `prefix` runs the
        command through another (`ip netns exec NS`, say). Unless `healthy_only`, the run gets
        `--allow-unhealthy`: these tests are about what the run does, not about whether a shared test
        machine left the harness healthy (exit code 3)."""
        env = {**(os.environ if base_env is None else base_env), "PYTHONUNBUFFERED": "1", **(env or {})}
        env.pop("RAY_ADDRESS", None)
        proc = await asyncio.create_subprocess_exec(
            *prefix,
            sys.executable,
            "-m",
            "peerperf.run",
            "--plain",
            *(() if healthy_only else ("--allow-unhealthy",)),
            *args,
            env=env,
            cwd=cwd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        return cls(proc)

    async def until(self, text: str, timeout: float = RUN_TIMEOUT) -> str:
        """Read output until a line containing `text` (bounded)."""
        assert self.proc.stdout is not None
        while True:
            raw = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
            assert raw, f"the run ended before printing {text!r}:\n" + "\n".join(self.lines[-30:])
            line = raw.decode().rstrip()
            self.lines.append(line)
            if text in line:
                return line

    async def finish(self, timeout: float = RUN_TIMEOUT) -> int:
        assert self.proc.stdout is not None
        rest = await asyncio.wait_for(self.proc.stdout.read(), timeout)
        self.lines.extend(rest.decode().splitlines())
        return await asyncio.wait_for(self.proc.wait(), timeout)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


def results_document(folder: Path) -> dict[str, Any]:
    files = list(folder.glob("*.json"))  # the original's `{id}.json` only: working state is hidden
    assert len(files) == 1, files
    document: dict[str, Any] = json.loads(files[0].read_text())
    return document
