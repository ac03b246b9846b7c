"""A connection closed during offer/answer (a newer offer replaced it, or its peer left) is not a harness error."""

from __future__ import annotations

import pytest

from peerperf.peer.connection import ClosedWhileNegotiating, PeerConnection
from peerperf.peer.ice import rtc_configuration, use_host_addresses
from peerperf.peer.settings import PeerSettings


def _connection(initiator: bool) -> PeerConnection:
    use_host_addresses(("127.0.0.1",))
    return PeerConnection(
        "other", "s", initiator, rtc_configuration(PeerSettings()), lambda _s, _d: None, lambda _c: None
    )


async def test_answering_on_a_closed_connection_says_so_and_accepting_an_answer_is_a_no_op() -> None:
    offerer, answerer = _connection(True), _connection(False)
    try:
        offer = await offerer.offer()
        await answerer.close()
        with pytest.raises(ClosedWhileNegotiating, match="closed while answering"):
            await answerer.answer(offer)
        spare = _connection(False)
        answer = await spare.answer(offer)
        await offerer.close()
        await offerer.accept_answer(answer)  # the answer arrived after we gave up: nothing to do, nothing raised
        await spare.close()
    finally:
        await offerer.close()
        await answerer.close()
