"""Messages a routine originates per second, read by running it alone."""

from __future__ import annotations

import pytest

from peerperf.sizing.routine_rate import routine_rate


def test_the_default_routine_is_the_originals_rates() -> None:
    rate = routine_rate("default")
    assert rate.unreliable == pytest.approx(11.0, abs=0.05)  # position 10/s + profile 1/s
    assert rate.reliable == pytest.approx(0.1, abs=0.02)  # chat every 10 s


def test_a_mix_is_weighted_and_idle_sends_nothing() -> None:
    assert routine_rate("idle").total == 0
    mixed = routine_rate("default:0.5,idle:0.5")
    assert mixed.unreliable == pytest.approx(5.5, abs=0.05)


def test_a_wall_clock_limit_cuts_a_slow_routine_short_but_keeps_its_rate() -> None:
    rate = routine_rate("default", wall_seconds=0.0)  # past the limit at once: runs MIN_SECONDS only
    assert rate.unreliable == pytest.approx(11.0, abs=0.1)
    assert rate.reliable == pytest.approx(0.1, abs=0.06)
