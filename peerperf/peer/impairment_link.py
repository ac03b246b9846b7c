"""One direction of an impaired network link, as a pure model: datagram in, delivery times out.

The model never touches a socket or a clock; the caller passes `now` and schedules the deliveries.
That keeps it testable on a simulated clock and seeded: the same seed and arrivals give the same
fate to every datagram. Stages, in order: loss (random or Gilbert-Elliott), the rate cap's
bounded FIFO queue (tail drop), delay with jitter (FIFO unless reordering is allowed), duplication.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from peerperf.peer.impairment_profile import LinkSpec, LossSpec


class Fate(StrEnum):
    """Why a datagram was not delivered."""

    LOST = "lost"
    QUEUE_FULL = "queue-full"


@dataclass(frozen=True)
class Admission:
    """What happens to one datagram: when its copies arrive (empty when dropped) and why not."""

    arrivals: tuple[float, ...]
    dropped: Fate | None = None


class LossModel:
    """Gilbert-Elliott: decide loss in the current state, then maybe change state."""

    def __init__(self, spec: LossSpec, rng: random.Random) -> None:
        self._spec = spec
        self._rng = rng
        self.bad = False

    def lose(self) -> bool:
        spec = self._spec
        lost = self._rng.random() < (spec.loss_bad if self.bad else spec.loss_good)
        if self.bad:
            self.bad = self._rng.random() >= spec.p_good
        else:
            self.bad = self._rng.random() < spec.p_bad
        return lost


class Link:
    """The impaired path of one direction of one peer, shared by all its connections (one access link)."""

    def __init__(self, spec: LinkSpec, rng: random.Random) -> None:
        self.spec = spec
        self._rng = rng
        self._loss = LossModel(spec.loss, rng) if spec.loss is not None else None
        #: When the rate cap finishes serialising what is queued.
        self._busy_until = 0.0
        #: The latest arrival handed out (FIFO unless reordering is allowed).
        self._last_arrival = 0.0

    def backlog(self, now: float) -> int:
        """Bytes waiting in the rate cap's queue at `now`."""
        if self.spec.rate is None:
            return 0
        return int(max(0.0, self._busy_until - now) * self.spec.rate / 8)

    def admit(self, size: int, now: float) -> Admission:
        """Decide the fate of a `size`-byte datagram offered at `now`."""
        spec = self.spec
        if self._loss is not None and self._loss.lose():
            return Admission((), Fate.LOST)
        departure = now
        if spec.rate is not None:
            if self.backlog(now) + size > spec.queue:
                return Admission((), Fate.QUEUE_FULL)
            self._busy_until = max(now, self._busy_until) + size * 8 / spec.rate
            departure = self._busy_until
        arrival = departure + spec.delay
        if spec.jitter > 0:
            arrival += self._rng.uniform(-spec.jitter, spec.jitter)
        arrival = max(arrival, now)
        if not spec.reorder:
            arrival = max(arrival, self._last_arrival)
        self._last_arrival = max(self._last_arrival, arrival)
        if spec.duplicate > 0 and self._rng.random() < spec.duplicate:
            return Admission((arrival, arrival))
        return Admission((arrival,))
