"""Impairment profiles parse from `loss=2%,delay=40ms,...`; bad input is refused with every problem named."""

from __future__ import annotations

import pytest

from peerperf.errors import ConfigError
from peerperf.peer.impairment_profile import DEFAULT_QUEUE_BYTES, LinkSpec, LossSpec, parse_profile


def test_the_issue_example_parses_into_an_outbound_link() -> None:
    profile = parse_profile("loss=2%,delay=40ms,jitter=10ms,rate=2mbit")
    assert profile.name == profile.text == "loss=2%,delay=40ms,jitter=10ms,rate=2mbit"
    assert profile.inbound is None
    assert profile.outbound == LinkSpec(
        loss=LossSpec(loss_good=0.02), delay=0.04, jitter=0.01, rate=2e6, queue=DEFAULT_QUEUE_BYTES
    )


def test_units_directions_and_names() -> None:
    profile = parse_profile(" delay=0.5s , rate=500kbit, queue=32kib, dup=0.01, reorder, dir=both ", name="mobile")
    assert profile.name == "mobile" and profile.inbound == profile.outbound
    spec = profile.outbound
    assert spec is not None
    assert (spec.delay, spec.rate, spec.queue, spec.duplicate, spec.reorder) == (0.5, 5e5, 32768, 0.01, True)
    assert parse_profile("delay=250us,dir=in").inbound == LinkSpec(delay=0.00025)
    assert parse_profile("delay=1ms,dir=in").outbound is None


def test_bursty_loss_keeps_its_mean_and_burst_length() -> None:
    spec = parse_profile("loss=5%,burst=4").outbound
    assert spec is not None and spec.loss is not None
    assert spec.loss.p_good == pytest.approx(0.25) and spec.loss.mean_loss == pytest.approx(0.05)
    explicit = parse_profile("ge=1%/30%/80%/0.1%").outbound
    assert explicit is not None and explicit.loss == LossSpec(0.01, 0.3, 0.8, 0.001)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty profile"),
        ("lose=2%", "unknown key 'lose'"),
        ("loss=2", "at most 100%"),
        ("loss=abc", "expected a percentage"),
        ("delay=40", "expected a time such as 40ms"),
        ("delay=40ms,delay=50ms", "delay given twice"),
        ("rate=2mbps", "expected a rate such as 2mbit"),
        ("rate=0kbit", "must be above 0"),
        ("queue=64kb", "give rate= too"),
        ("rate=1mbit,queue=100b", "at least one 1500-byte datagram"),
        ("delay=10ms,jitter=20ms", "exceeds delay"),
        ("burst=3", "burst= needs loss="),
        ("loss=5%,burst=0.5", "at least 1 datagram"),
        ("ge=1%", "expected p/r"),
        ("ge=1%/0%", "never recovers"),
        ("loss=1%,ge=1%/30%", "without loss= or burst="),
        ("dir=up,delay=1ms", "expected out, in or both"),
        ("reorder=maybe", "expected yes or no"),
    ],
)
def test_bad_profiles_are_refused_with_a_reason(text: str, problem: str) -> None:
    with pytest.raises(ConfigError, match="impairment profile") as caught:
        parse_profile(text)
    assert problem in str(caught.value)


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_profile("lose=1%,delai=3ms")
    assert "'lose'" in str(caught.value) and "'delai'" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        parse_profile("loss=2,delay=40,rate=fast")
    assert all(key in str(caught.value) for key in ("loss=2:", "delay=40:", "rate=fast:"))
