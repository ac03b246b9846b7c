"""The layers and rooms model without sockets: membership rules and the notifications owed."""

from __future__ import annotations

import pytest

from peerperf.errors import RequestError
from peerperf.lighthouse.layers import Layers
from peerperf.protocol.signaling_frames import Frame


@pytest.fixture
def sent() -> list[tuple[str, Frame]]:
    return []


@pytest.fixture
def layers(sent: list[tuple[str, Frame]]) -> Layers:
    return Layers(("blue",), 3, lambda recipient, frame: sent.append((recipient, frame)))


def kinds(sent: list[tuple[str, Frame]]) -> list[tuple[str, str]]:
    return [(recipient, frame.type.value) for recipient, frame in sent]


def test_switching_layer_leaves_the_old_one_and_its_rooms(layers: Layers, sent: list[tuple[str, Frame]]) -> None:
    layers.join_layer("blue", "a")
    layers.join_layer("blue", "b")
    layers.join_room("blue", "r", "a")
    layers.join_room("blue", "r", "b")
    sent.clear()
    layers.join_layer("red", "b")
    assert kinds(sent) == [("a", "PEER_LEFT_ROOM"), ("a", "PEER_LEFT_LAYER")]
    assert layers.get("blue").peers == ["a"] and layers.get("red").peers == ["b"]
    assert layers.layer_of("b") is layers.get("red")


def test_rejoining_is_idempotent(layers: Layers, sent: list[tuple[str, Frame]]) -> None:
    layers.join_layer("blue", "a")
    layers.join_layer("blue", "b")
    layers.join_layer("blue", "b")
    layers.join_room("blue", "r", "b")
    layers.join_room("blue", "r", "b")
    assert kinds(sent) == [("a", "PEER_JOINED_LAYER")]


def test_default_layers_survive_empty_and_others_vanish(layers: Layers) -> None:
    layers.join_layer("blue", "a")
    layers.join_layer("tmp", "b")
    layers.remove_peer("a")
    layers.remove_peer("b")
    assert [layer.id for layer in layers.all()] == ["blue"]
    with pytest.raises(RequestError) as err:
        layers.get("tmp")
    assert err.value.http_status == 404


def test_capacity_is_checked_before_leaving_the_old_layer(layers: Layers) -> None:
    for peer in "abc":
        layers.join_layer("blue", peer)
    layers.join_layer("red", "d")
    with pytest.raises(RequestError, match="full"):
        layers.join_layer("blue", "d")
    assert layers.layer_of("d") is layers.get("red")  # a failed move loses nothing


def test_empty_rooms_disappear(layers: Layers) -> None:
    layers.join_layer("blue", "a")
    layers.join_room("blue", "r", "a")
    assert layers.leave_room("blue", "r", "a") == []
    with pytest.raises(RequestError, match=r"does not exist"):
        layers.room("blue", "r")
