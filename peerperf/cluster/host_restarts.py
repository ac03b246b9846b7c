"""Bringing a failed peer host back mid-test (`--restart-hosts N`, off by default).

A host that dies (its actor killed, its node gone) is replaced by a fresh actor with the same
configuration. Its peers come back as new instances: the same peer id with an `-r<n>` suffix, so
they join the lighthouse afresh (the old ids may linger there until their liveness timeout) and the
results keep the two instances apart: the first instance's datapoints end where the host died, the
new one's begin when it rejoined, and the gap between them is visible instead of mixed in.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from peerperf.cluster.peerhost_actor import spawn_peer_host
from peerperf.sim.host import HostConfig, PeerSpec, SetupReport

log = logging.getLogger(__name__)

_INSTANCE_SUFFIX = re.compile(r"-r\d+$")


def instance_id(peer_id: str, generation: int) -> str:
    """The id of a peer's `generation`-th restarted instance (`abc` -> `abc-r1`, `abc-r1` -> `abc-r2`)."""
    return f"{_INSTANCE_SUFFIX.sub('', peer_id)}-r{generation}"


@dataclass(frozen=True)
class Replacement:
    """A host brought back: its actor, its peers' new instances and which old id each replaces."""

    host: Any
    chunk: list[PeerSpec]
    renamed: dict[str, str]


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
        return Replacement(host, new_chunk, renamed)

    async def come_back(
        self, failed: Any, chunk: list[PeerSpec], hosts: list[Any], run: Callable[[Any], Awaitable[int]]
    ) -> int:
        """Restart `failed`, add the new host to `hosts` (progress, stop) and run it; returns its datapoints."""
        replacement = await self.restart(failed, chunk)
        hosts.append(replacement.host)
        return await run(replacement.host)
