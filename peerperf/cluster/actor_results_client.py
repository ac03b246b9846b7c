"""`ResultsClient` over the results actor: what the orchestrator and the peer hosts call it through.

Its own module, apart from `results_actor`: a peer host unpickles this client and must not load the
results service's dataframe stack (pyarrow, pandas) to do so.
"""

from __future__ import annotations

from typing import Any

from peerperf.results.api import Forwarding
from peerperf.results.model import BatchResult


class ActorResultsClient(Forwarding):
    """`ResultsClient` over the results actor (picklable: it holds only the actor handle)."""

    def __init__(self, actor: Any) -> None:
        self.actor = actor

    async def forward(self, operation: str, *args: Any) -> Any:
        """Every `ResultsApi` operation is the actor's method of the same name."""
        return await getattr(self.actor, operation).remote(*args)

    async def drain(self) -> BatchResult:
        return BatchResult(0)  # an actor call either lands or fails: nothing is ever queued

    async def close(self) -> None:
        return None
