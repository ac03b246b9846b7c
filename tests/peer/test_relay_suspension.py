"""The relay-suspension tables alone: when a request is due, what it names, honouring and expiring."""

from __future__ import annotations

from peerperf.peer.relay_suspension import RELAY_PATH_EXPIRY, RelaySuspension


def test_a_request_names_a_source_only_while_another_path_to_it_remains() -> None:
    relays = RelaySuspension(interval=1.0, duration=5.0)
    relays.reachable["src"] = {"a": 0.0, "b": 0.0}
    assert relays.due_request("src", "a", 0.0, ("a", "b")) is None  # the original skips the first opportunity
    assert relays.due_request("src", "a", 0.5, ("a", "b")) is None  # within the interval
    assert relays.due_request("src", "a", 1.5, ("a", "b")) == ["src"]
    assert relays.theirs["a"] == {"src": 6.5} and relays.pending["a"] == []
    # b is now the only path left: asking b too would cut src off.
    assert relays.due_request("src", "b", 2.0, ("a", "b")) is None
    assert relays.due_request("src", "b", 3.5, ("a", "b")) == []


def test_asking_is_off_without_an_interval_and_honouring_expires() -> None:
    relays = RelaySuspension(interval=None, duration=5.0)
    relays.reachable["src"] = {"a": 0.0, "b": 0.0}
    assert relays.due_request("src", "a", 10.0, ("a", "b")) is None
    relays.honour("a", ["src"], until=4.0)
    assert relays.suspended("a", "src", 3.9) and not relays.suspended("a", "src", 4.0)
    assert not relays.suspended("b", "src", 0.0)
    relays.expire(RELAY_PATH_EXPIRY + 1)
    assert relays.own == {"a": {}} and relays.reachable == {}


def test_a_closed_connection_is_forgotten_everywhere() -> None:
    relays = RelaySuspension(interval=1.0, duration=5.0)
    relays.reachable["src"] = {"a": 0.0, "b": 0.0}
    relays.honour("a", ["src"], until=9.0)
    relays.due_request("src", "a", 0.0, ("a", "b"))
    relays.forget("a")
    assert "a" not in relays.own and "a" not in relays.last_request and "a" not in relays.pending
    assert relays.reachable == {"src": {"b": 0.0}}
