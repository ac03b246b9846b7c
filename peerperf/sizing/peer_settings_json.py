"""Peer settings as plain JSON and back: for a packed layer's child process and for a calibration file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from peerperf.config import SECRET_SETTINGS
from peerperf.peer.settings import PeerSettings


def to_json(settings: PeerSettings, *, secrets: bool) -> dict[str, Any]:
    """Every setting as JSON values; credentials only with `secrets` (a child process, never a file)."""
    out: dict[str, Any] = {}
    for f in fields(settings):
        if not secrets and f.name in SECRET_SETTINGS:
            continue
        value = getattr(settings, f.name)
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def from_json(data: Mapping[str, Any]) -> PeerSettings:
    """The settings `data` names (lists back to tuples); settings it leaves out keep their defaults."""
    known = {f.name for f in fields(PeerSettings)}
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known}
    return PeerSettings(**values)
