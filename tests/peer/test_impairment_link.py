"""The impaired link model on a simulated clock: loss, bursts, queue, delay order, duplication, seeds."""

from __future__ import annotations

import random
import statistics

import pytest

from peerperf.peer.impairment_link import Admission, Fate, Link, LossModel
from peerperf.peer.impairment_profile import LinkSpec, LossSpec, parse_profile


def link(text: str, seed: int = 1) -> Link:
    spec = parse_profile(text).outbound
    assert spec is not None
    return Link(spec, random.Random(seed))


def fates(model: Link, count: int, size: int = 100, gap: float = 0.001) -> list[Admission]:
    return [model.admit(size, i * gap) for i in range(count)]


def test_random_loss_matches_its_rate() -> None:
    lost = sum(a.dropped is Fate.LOST for a in fates(link("loss=10%"), 20_000))
    assert lost / 20_000 == pytest.approx(0.10, abs=0.01)


def test_gilbert_elliott_loss_comes_in_bursts_of_the_asked_mean_length() -> None:
    model = LossModel(LossSpec(p_bad=0.05 * 0.25 / 0.95, p_good=0.25), random.Random(3))
    losses = [model.lose() for _ in range(100_000)]
    bursts, run = [], 0
    for lost in losses:
        if lost:
            run += 1
        elif run:
            bursts.append(run)
            run = 0
    assert sum(losses) / len(losses) == pytest.approx(0.05, abs=0.006)
    assert statistics.mean(bursts) == pytest.approx(4.0, rel=0.1)
    # Independent losses at the same rate almost never come four at a time.
    assert statistics.mean(bursts) > 2.5


def test_the_same_seed_gives_every_datagram_the_same_fate() -> None:
    profile = "loss=5%,burst=3,delay=20ms,jitter=10ms,dup=2%"
    assert fates(link(profile, seed=7), 2_000) == fates(link(profile, seed=7), 2_000)
    assert fates(link(profile, seed=7), 2_000) != fates(link(profile, seed=8), 2_000)


def test_delay_with_jitter_keeps_order_unless_reordering_is_allowed() -> None:
    ordered = [a.arrivals[0] for a in fates(link("delay=40ms,jitter=10ms"), 5_000, gap=0.0005)]
    assert ordered == sorted(ordered)
    assert all(0.03 - 1e-9 <= t - i * 0.0005 <= 0.05 + 1e-9 for i, t in enumerate(ordered))
    reordered = [a.arrivals[0] for a in fates(link("delay=40ms,jitter=10ms,reorder"), 5_000, gap=0.0005)]
    assert reordered != sorted(reordered)
    assert all(0.03 - 1e-9 <= t - i * 0.0005 <= 0.05 + 1e-9 for i, t in enumerate(reordered))


def test_a_rate_cap_serialises_and_tail_drops_beyond_its_queue() -> None:
    # 1 mbit/s: a 1,250-byte datagram takes 10 ms; the queue holds 5,000 bytes (4 datagrams).
    model = Link(LinkSpec(rate=1e6, queue=5_000), random.Random(1))
    burst = [model.admit(1_250, 0.0) for _ in range(6)]
    assert [a.arrivals for a in burst[:4]] == [(0.01,), (0.02,), (0.03,), (0.04,)]
    assert [a.dropped for a in burst[4:]] == [Fate.QUEUE_FULL, Fate.QUEUE_FULL]
    assert model.backlog(0.0) == 5_000 and model.backlog(0.02) == 2_500 and model.backlog(1.0) == 0
    assert model.admit(1_250, 0.02).arrivals == (0.05,)  # room again once the queue drained


def test_the_rate_cap_comes_before_the_propagation_delay() -> None:
    model = Link(LinkSpec(rate=1e6, delay=0.1), random.Random(1))
    assert model.admit(1_250, 0.0).arrivals == (pytest.approx(0.11),)


def test_duplication_delivers_a_second_copy_at_its_rate() -> None:
    admissions = fates(link("dup=20%"), 10_000)
    doubles = sum(len(a.arrivals) == 2 for a in admissions)
    assert doubles / 10_000 == pytest.approx(0.2, abs=0.02)
    assert all(a.arrivals[0] == a.arrivals[-1] for a in admissions)
