"""Typed JSON for frozen dataclasses: snake_case fields, camelCase keys, validated on the way in.

Signaling payloads and HTTP bodies are JSON written by other programs (browsers, the original
peer library). Decoding checks every declared field's type so a malformed frame becomes one clear
`ProtocolError` instead of a `KeyError` deep inside a handler. Unknown keys are ignored, as the
original's JavaScript did, so newer peers stay readable.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from typing import Any, TypeVar, Union

from peerperf.errors import ProtocolError

T = TypeVar("T", bound="JsonData")

_MISSING = dataclasses.MISSING


def camel(name: str) -> str:
    """`connected_peer_ids` -> `connectedPeerIds` (the original's key style)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


class JsonData:
    """Mixin for frozen dataclasses that travel as JSON objects."""

    def to_json(self) -> dict[str, Any]:
        """The JSON object; `None` fields are left out, as the original omitted undefined."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is not None:
                out[camel(f.name)] = _encode(value)
        return out

    @classmethod
    def from_json(cls: type[T], obj: Any) -> T:
        """Build from a decoded JSON value, or raise `ProtocolError` naming the bad key."""
        return typing.cast(T, _decode(cls, obj, cls.__name__))


def _encode(value: Any) -> Any:
    if isinstance(value, JsonData):
        return value.to_json()
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    return value


def _decode(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            if len(args) < len(typing.get_args(tp)):
                return None
            raise ProtocolError(f"{where}: must not be null")
        return _decode(args[0], value, where)
    if origin is typing.Literal:
        if value not in typing.get_args(tp):
            raise ProtocolError(f"{where}: expected one of {typing.get_args(tp)}, got {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, list):
            raise ProtocolError(f"{where}: expected a list, got {type(value).__name__}")
        item_type = typing.get_args(tp)[0]
        return tuple(_decode(item_type, v, f"{where}[{i}]") for i, v in enumerate(value))
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _decode_dataclass(tp, value, where)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ProtocolError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ProtocolError(f"{where}: expected an integer, got {value!r}")
        return value
    if tp in (str, bool):
        if not isinstance(value, tp):
            raise ProtocolError(f"{where}: expected {tp.__name__}, got {value!r}")
        return value
    raise TypeError(f"jsoncodec cannot decode {tp!r}")  # a programming error, not input


def _decode_dataclass(cls: type, value: Any, where: str) -> Any:
    if not isinstance(value, dict):
        raise ProtocolError(f"{where}: expected an object, got {type(value).__name__}")
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        key = camel(f.name)
        if key not in value:
            if f.default is _MISSING and f.default_factory is _MISSING:
                raise ProtocolError(f"{where}: missing key {key!r}")
            continue
        kwargs[f.name] = _decode(hints[f.name], value[key], f"{where}.{key}")
    return cls(**kwargs)
