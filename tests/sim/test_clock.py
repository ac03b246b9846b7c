"""Clock offsets from round trips, and latency read in one timebase across hosts whose clocks differ."""

from __future__ import annotations

import pytest

from peerperf.protocol.messagetypes import unreliable
from peerperf.protocol.packets import build_packet
from peerperf.sim.clock import ClockOffset, HostClock, measure
from peerperf.sim.payloads import comms_send_time, position_message


async def test_the_shortest_round_trip_gives_the_offset() -> None:
    # A host 300 ms ahead of the reference; round trips of 40, 4 and 20 ms, the reply in the middle.
    local = iter([1000.0, 1040.0, 2000.0, 2004.0, 3000.0, 3020.0])
    reference = iter([720.0, 1702.0, 2710.0])

    async def reference_ms() -> float:
        return next(reference)

    offset = await measure(reference_ms, probes=3, local_ms=lambda: next(local))
    assert offset.offset_ms == pytest.approx(300.0) and offset.error_ms == pytest.approx(2.0)


def test_latency_between_skewed_hosts_is_read_on_the_reference_clock() -> None:
    # The sender's clock is 300 ms ahead, the receiver's 100 ms behind; the message took 5 ms.
    reference_send = 1_000_000.0
    payload = position_message((1.0, 0.0, 2.0), sent_at=reference_send)  # stamped on the reference clock
    packet = build_packet(unreliable("position"), src="a", sequence_id=1, instance_id=1, timestamp_ms=1_000_300)
    receiver_offset = -100.0
    receiver_now_local = reference_send + 5.0 + receiver_offset
    latency = receiver_now_local - comms_send_time(payload, packet, receiver_offset)
    assert latency == pytest.approx(5.0)
    # Without the correction the skew would be taken for latency (or a negative one).
    assert receiver_now_local - comms_send_time(payload, packet) == pytest.approx(-95.0)


async def test_the_host_keeps_its_tightest_recent_estimate_and_ignores_one_within_its_error() -> None:
    answers = iter([(1000.0, 1020.0, 960.0), (2000.0, 2004.0, 1952.0), (3000.0, 3040.0, 2900.0)])
    now = [0.0]
    clock = HostClock(now=lambda: now[0])

    async def update() -> None:
        sent, received, reference = next(answers)
        local = iter([sent, received])
        await clock.update(lambda: _answer(reference), probes=1, local_ms=lambda: next(local))

    await update()  # offset 50 +- 10
    assert clock.offset_ms == pytest.approx(50.0)
    await update()  # offset 50 +- 2: tighter, kept
    assert clock.offset is not None and clock.offset.error_ms == pytest.approx(2.0)
    now[0] = 10.0
    await update()  # offset 120 +- 20: looser and the kept one is fresh, ignored
    assert clock.offset_ms == pytest.approx(50.0)
    clock.offset = ClockOffset(3.0, 5.0)
    assert clock.offset_ms == 0.0  # within its own error: indistinguishable from one clock


async def _answer(value: float) -> float:
    return value
