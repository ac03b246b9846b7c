"""Bringing a failed peer host back mid-test (`--restart-hosts N`, off by default).

A host that dies (its actor killed, its node gone) is replaced by a fresh actor with the same
configuration. Its peers come back as new instances: the same peer id with an `-r<n>` suffix, so
they join the lighthouse afresh (the old ids may linger there until their liveness timeout) and the
results keep the two instances apart: the first instance's datapoints end where the host died, the
new one's begin when it rejoined, and the gap between them is visible instead of mixed in.

A host is replaced only once Ray has declared it dead. The hosts of a node being lost are first
"unavailable" (their connections drop at once), and dead only when Ray's health checks give up on the
node; a replacement placed in between can land on that very node and die with it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import ray

from peerperf.cluster.peerhost_actor import spawn_peer_host
from peerperf.cluster.runtime import awaited
from peerperf.errors import PeerperfError
from peerperf.sim.host_config import HostConfig, PeerSpec
from peerperf.sim.host_reports import SetupReport

log = logging.getLogger(__name__)

_INSTANCE_SUFFIX = re.compile(r"-r\d+$")
#: How long a failed host may stay unavailable before it is killed and replaced anyway. Ray declares the
#: actors of a lost node dead when its health checks give up (10-30 s with Ray's defaults).
DEATH_TIMEOUT = 60.0
#: How often a failed host is asked whether it is dead yet, and how long one answer may take.
DEATH_POLL = 0.5
ANSWER_TIMEOUT = 5.0


def instance_id(peer_id: str, generation: int) -> str:
    """The id of a peer's `generation`-th restarted instance (`abc` -> `abc-r1`, `abc-r1` -> `abc-r2`)."""
    return f"{_INSTANCE_SUFFIX.sub('', peer_id)}-r{generation}"


@dataclass(frozen=True)
class Replacement:
    """A host brought back: its actor, its peers' new instances, which old id each replaces, where it runs."""

    host: Any
    chunk: list[PeerSpec]
    renamed: dict[str, str]
    report: SetupReport


class HostRestarts:
    """Spawns peer hosts and replaces failed ones, at most `limit` times each (0: never)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._configs: dict[Any, HostConfig] = {}
        self._generations: dict[Any, int] = {}
        #: Replaced peer id -> the instance that replaced it (a chain when one is replaced again).
        self.renamed: dict[str, str] = {}
        #: Peers whose restarted host could not rejoin them, and why.
        self.not_back: dict[str, str] = {}
        #: Every host started in place of a failed one (to be stopped with the others).
        self.replacements: list[Any] = []

    def spawn(self, config: HostConfig, chunk: list[PeerSpec]) -> Any:
        """A new host actor, remembered so it can be replaced."""
        host = spawn_peer_host(config, chunk)
        self._configs[host] = config
        return host

    def can_restart(self, host: Any) -> bool:
        return host in self._configs and self._generations.get(host, 0) < self.limit

    async def restart(self, failed: Any, chunk: list[PeerSpec]) -> Replacement:
        """A fresh actor for `failed`'s peers under new instance ids, connected and joined.

        Raises what its setup raised; peers that could not rejoin are named in the report's `failed`.
        """
        generation = self._generations.get(failed, 0) + 1
        config = self._configs[failed]
        config = replace(config, host_id=f"{_INSTANCE_SUFFIX.sub('', config.host_id)}-r{generation}")
        renamed = {spec.peer_id: instance_id(spec.peer_id, generation) for spec in chunk}
        new_chunk = [replace(spec, peer_id=renamed[spec.peer_id]) for spec in chunk]
        host = self.spawn(config, new_chunk)
        self.replacements.append(host)
        self._generations[host] = self._generations[failed] = generation
        log.warning(
            "peer host %s failed: restarting it as %s (restart %d of %d)",
            failed,
            config.host_id,
            generation,
            self.limit,
        )
        report: SetupReport = await host.setup.remote()
        if report.failed:
            log.error(
                "restarted host %s: %d peers did not rejoin: %s", config.host_id, len(report.failed), report.failed
            )
        self.not_back.update(
            {
                old: f"its restarted host could not rejoin it: {report.failed[new]}"
                for old, new in renamed.items()
                if new in report.failed
            }
        )
        self.renamed.update({old: new for old, new in renamed.items() if new not in report.failed})
        return Replacement(host, new_chunk, renamed, report)

    async def come_back(
        self,
        failed: Any,
        chunk: list[PeerSpec],
        hosts: dict[Any, SetupReport],
        run: Callable[[Any], Awaitable[int]],
        worth_it: Callable[[], bool],
    ) -> int:
        """Once `failed` is dead, restart it, add the new host to `hosts` (progress, stop) and run it.

        Returns the new host's datapoints; raises `HostNotBack` when the wait left no time worth running
        (`worth_it()` false), or what the restart raised.
        """
        await until_dead(failed)
        if not worth_it():
            raise HostNotBack("Ray declared it dead too late in the test to bring it back")
        replacement = await self.restart(failed, chunk)
        hosts[replacement.host] = replacement.report
        return await run(replacement.host)


class HostNotBack(PeerperfError):
    """A failed host that is not brought back (why is the message)."""


async def until_dead(host: Any, timeout: float = DEATH_TIMEOUT) -> None:
    """Return once Ray has declared `host` dead; a host that still answers, or is still unavailable after
    `timeout`, is killed (its run failed: it must not come back beside its replacement)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            await asyncio.wait_for(awaited(host.progress.remote()), ANSWER_TIMEOUT)
        except ray.exceptions.ActorDiedError:
            return
        except (ray.exceptions.RayError, TimeoutError):
            await asyncio.sleep(DEATH_POLL)  # unavailable: its node may be on its way out
            continue
        log.warning("a peer host whose run failed still answers: killing it before it is replaced")
        break
    ray.kill(host)
