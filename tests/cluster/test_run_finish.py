"""Whether a run succeeded, and the reason it gives when not (`settle`)."""

from __future__ import annotations

import pytest

from peerperf.cluster.run_finish import settle
from peerperf.run_state import RunOutcome


@pytest.mark.parametrize(
    ("changes", "tolerated", "ok", "reason"),
    [
        ({"datapoints": 10}, False, True, ""),
        ({"datapoints": 10, "interrupted": True}, False, False, "interrupted"),
        ({"datapoints": 0}, True, False, "no datapoints were recorded"),
        ({"datapoints": 10, "lost": {"p1": "host died"}}, False, False, "1 peers were lost when their host failed"),
        ({"datapoints": 10, "lost": {"p1": "host died"}}, True, True, ""),
        ({"datapoints": 10, "missing": {"p2": "never joined"}}, False, False, "some peers were missing"),
        ({"datapoints": 0, "reason": "the barrier timed out"}, False, False, "the barrier timed out"),
    ],
)
def test_a_run_is_ok_only_with_datapoints_and_every_peer_unless_tolerated(
    changes: dict[str, object], tolerated: bool, ok: bool, reason: str
) -> None:
    outcome = RunOutcome()
    for name, value in changes.items():
        setattr(outcome, name, value)
    settle(outcome, tolerated)
    assert outcome.ok is ok and outcome.reason.startswith(reason)
