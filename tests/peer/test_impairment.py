"""The delay line on a real event loop: held items come out at their arrival times, in order, or not at all."""

from __future__ import annotations

import asyncio
import random

import pytest

from peerperf.peer.impairment import DatagramCounters, DelayLine
from peerperf.peer.impairment_link import Link
from peerperf.peer.impairment_profile import parse_profile
from peerperf.protocol.metrics import BY_NAME, validate_metrics
from tests.peer.conftest import eventually


def line(text: str, out: list[tuple[float, int]]) -> tuple[DelayLine[int], DatagramCounters]:
    spec = parse_profile(text).outbound
    assert spec is not None
    counters = DatagramCounters()
    loop = asyncio.get_running_loop()
    return DelayLine(Link(spec, random.Random(1)), counters, lambda item: out.append((loop.time(), item))), counters


async def test_items_come_out_after_their_delay_in_order() -> None:
    out: list[tuple[float, int]] = []
    delayed, counters = line("delay=30ms,jitter=10ms,dup=30%", out)
    start = asyncio.get_running_loop().time()
    for i in range(50):
        delayed.push(100, i)
    assert out == [], "nothing leaves before its delay"
    await eventually(lambda: len(out) == 50 + counters.duplicated, "every item and copy comes out")
    assert all(t - start >= 0.02 for t, _ in out)
    items = [item for _, item in out]
    assert items == sorted(items) and set(items) == set(range(50))
    assert counters.delayed == 50 and counters.duplicated > 0


async def test_closing_drops_what_is_in_flight() -> None:
    out: list[tuple[float, int]] = []
    delayed, _ = line("delay=20ms", out)
    delayed.push(100, 1)
    delayed.close()
    delayed.push(100, 2)
    await asyncio.sleep(0.1)  # well past the 20 ms the item was due
    assert out == []


async def test_the_counters_name_the_datapoint_fields() -> None:
    counters = DatagramCounters(sent=5, queue_dropped=2)
    assert counters.as_metrics() == {
        "datagramsSent": 5,
        "datagramsReceived": 0,
        "datagramsDropped": 0,
        "datagramsQueueDropped": 2,
        "datagramsDelayed": 0,
        "datagramsDuplicated": 0,
        "datagramsFailed": 0,
    }
    assert all(name in BY_NAME for name in counters.as_metrics()), "every counter is a declared metric"
    validate_metrics({"position": [0, 0, 0], "impairment": "mobile", **counters.as_metrics()})


async def test_a_delivery_that_raises_is_counted_and_the_items_behind_it_still_come_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    out: list[int] = []
    spec = parse_profile("delay=20ms").outbound
    assert spec is not None
    counters = DatagramCounters()

    def deliver(item: int) -> None:
        if item == 2:
            raise RuntimeError("injected: the socket refused it")
        out.append(item)

    delayed = DelayLine(Link(spec, random.Random(1)), counters, deliver)
    for item in range(5):
        delayed.push(100, item)
    await eventually(lambda: len(out) == 4, "the items behind the failed one come out")
    assert out == [0, 1, 3, 4] and counters.failed == 1
    assert counters.as_metrics()["datagramsFailed"] == 1
    assert "delivering an impaired datagram failed" in caplog.text and "injected" in caplog.text
