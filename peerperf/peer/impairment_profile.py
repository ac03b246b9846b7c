"""Network impairment profiles: what a link does to datagrams, parsed from `loss=2%,delay=40ms,rate=2mbit`.

A profile is pure data. `peerperf.peer.impairment_link` applies one `LinkSpec` per direction to the
datagrams of a peer; `peerperf.peer.impairment` installs that beneath DTLS and SCTP.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from peerperf.errors import ConfigError

#: What `queue` is when a profile caps the rate without saying (about 250 ms at 2 mbit/s).
DEFAULT_QUEUE_BYTES = 64_000
_TIME_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}
_RATE_UNITS = {"bit": 1.0, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9}
_SIZE_UNITS = {"b": 1.0, "kb": 1e3, "mb": 1e6, "kib": 1024.0, "mib": 1024.0**2}
_NUMBER = re.compile(r"^([0-9]*\.?[0-9]+)([a-z%]*)$")


@dataclass(frozen=True)
class LossSpec:
    """A Gilbert-Elliott loss model; plain random loss is the one-state case (`p_bad = 0`)."""

    #: Chance per datagram of moving from the good to the bad state.
    p_bad: float = 0.0
    #: Chance per datagram of moving from the bad back to the good state.
    p_good: float = 1.0
    #: Loss probability in the bad state.
    loss_bad: float = 1.0
    #: Loss probability in the good state (the whole model when `p_bad` is 0).
    loss_good: float = 0.0

    @property
    def mean_loss(self) -> float:
        """The long-run share of datagrams lost."""
        if self.p_bad == 0:
            return self.loss_good
        bad = self.p_bad / (self.p_bad + self.p_good)
        return bad * self.loss_bad + (1 - bad) * self.loss_good


@dataclass(frozen=True)
class LinkSpec:
    """What one direction of a peer's network does to each datagram."""

    loss: LossSpec | None = None
    #: One-way delay added to every datagram (s).
    delay: float = 0.0
    #: Each datagram's delay varies uniformly by +- this (s); order is kept unless `reorder`.
    jitter: float = 0.0
    #: Let jitter reorder datagrams (by default a datagram never overtakes an earlier one).
    reorder: bool = False
    #: Bottleneck rate in bits/s; None is unlimited.
    rate: float | None = None
    #: Bytes the bottleneck may hold waiting; datagrams beyond it are dropped (tail drop).
    queue: int = DEFAULT_QUEUE_BYTES
    #: Chance a datagram is delivered twice.
    duplicate: float = 0.0


@dataclass(frozen=True)
class ImpairmentProfile:
    """A named impairment: outbound and/or inbound link behaviour (None leaves a direction alone)."""

    name: str
    outbound: LinkSpec | None
    inbound: LinkSpec | None
    #: The text it was parsed from (what reports show).
    text: str = ""


@dataclass(frozen=True)
class PeerImpairment:
    """The impairment one peer runs with: its profile, its random seed and whether signaling is impaired."""

    profile: ImpairmentProfile
    seed: str
    signaling: bool = False


def parse_profile(text: str, name: str | None = None) -> ImpairmentProfile:
    """Parse `key=value,...` (keys: loss burst ge delay jitter reorder rate queue dup dir); `ConfigError` names
    every problem. The name defaults to the text itself."""
    items: dict[str, str] = {}
    problems: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, _, value = part.partition("=")
        key = key.strip().lower()
        if key not in KEYS:
            problems.append(f"unknown key {key!r} (known: {', '.join(KEYS)})")
        elif key in items:
            problems.append(f"{key} given twice")
        else:
            items[key] = value.strip().lower()
    if not items and not problems:
        problems.append("empty profile")
    values: dict[str, Any] = {}
    for key, raw in items.items():
        try:
            values[key] = _PARSERS[key](raw, key)
        except ValueError as exc:
            problems.append(str(exc))
    if not problems:
        problems = _conflicts(values)
    if problems:
        raise ConfigError(f"impairment profile {text!r}: " + "; ".join(problems))
    spec = _link_spec(values)
    direction = values.get("dir", "out")
    return ImpairmentProfile(
        name if name is not None else text.strip(),
        spec if direction in ("out", "both") else None,
        spec if direction in ("in", "both") else None,
        text.strip(),
    )


def _conflicts(values: dict[str, Any]) -> list[str]:
    """Keys that are fine alone but not together."""
    problems = []
    if "ge" in values and ("loss" in values or "burst" in values):
        problems.append("ge= is a whole loss model: give it without loss= or burst=")
    if "burst" in values and "loss" not in values:
        problems.append("burst= needs loss= (the mean loss rate)")
    if "burst" in values and values.get("loss") == 1:
        problems.append("loss=100% cannot have bursts")
    if values.get("jitter", 0) > values.get("delay", 0):
        problems.append(f"jitter {values['jitter'] * 1000:g} ms exceeds delay {values.get('delay', 0) * 1000:g} ms")
    if "queue" in values and "rate" not in values:
        problems.append("queue= bounds the rate cap's queue: give rate= too")
    return problems


def _link_spec(values: dict[str, Any]) -> LinkSpec:
    loss: LossSpec | None = values.get("ge")
    if "loss" in values and "burst" in values:
        rate, p_good = values["loss"], 1 / values["burst"]
        loss = LossSpec(p_bad=rate * p_good / (1 - rate), p_good=p_good)  # stationary bad share = rate
    elif "loss" in values:
        loss = LossSpec(loss_good=values["loss"])
    return LinkSpec(
        loss,
        values.get("delay", 0.0),
        values.get("jitter", 0.0),
        values.get("reorder", False),
        values.get("rate"),
        values.get("queue", DEFAULT_QUEUE_BYTES),
        values.get("dup", 0.0),
    )


def _direction(value: str, key: str) -> str:
    if value not in ("out", "in", "both"):
        raise ValueError(f"{key}={value}: expected out, in or both")
    return value


def _burst(value: str, key: str) -> float:
    try:
        burst = float(value)
    except ValueError:
        raise ValueError(f"{key}={value}: expected a number of datagrams") from None
    if burst < 1:
        raise ValueError(f"{key}={value}: a mean burst is at least 1 datagram")
    return burst


def _gilbert_elliott(value: str, key: str) -> LossSpec:
    parts = value.split("/")
    if not 2 <= len(parts) <= 4:
        raise ValueError(f"{key}={value}: expected p/r[/loss_bad[/loss_good]], e.g. ge=1%/30%/100%/0%")
    shares = [parse_share(p, key) for p in parts]
    p_bad, p_good = shares[0], shares[1]
    if p_good == 0:
        raise ValueError(f"{key}={value}: r (bad -> good) must be above 0 or the link never recovers")
    return LossSpec(p_bad, p_good, *shares[2:])


def parse_share(value: str, key: str) -> float:
    """`2%` or `0.02` -> 0.02, within 0..1."""
    match = _NUMBER.match(value.strip())
    if match is None or match.group(2) not in ("", "%"):
        raise ValueError(f"{key}={value}: expected a percentage such as 2% (or a fraction such as 0.02)")
    share = float(match.group(1)) / (100 if match.group(2) == "%" else 1)
    if share > 1:
        raise ValueError(f"{key}={value}: a share is at most 100% (write 2% rather than 2)")
    return share


def parse_duration(value: str, key: str) -> float:
    """`40ms`, `0.04s` or `40000us` -> seconds."""
    return _with_unit(value, key, _TIME_UNITS, "a time such as 40ms")


def parse_rate(value: str, key: str = "rate") -> float:
    """`2mbit`, `500kbit` -> bits per second (above 0)."""
    rate = _with_unit(value, key, _RATE_UNITS, "a rate such as 2mbit or 500kbit")
    if rate <= 0:
        raise ValueError(f"{key}={value}: must be above 0")
    return rate


def parse_size(value: str, key: str = "queue") -> int:
    """`64kb`, `1500b`, `1mib` -> bytes (at least one full datagram)."""
    size = int(_with_unit(value, key, _SIZE_UNITS, "a size such as 64kb or 1500b"))
    if size < 1500:
        raise ValueError(f"{key}={value}: must hold at least one 1500-byte datagram")
    return size


def _with_unit(value: str, key: str, units: dict[str, float], example: str) -> float:
    match = _NUMBER.match(value.strip())
    if match is None or match.group(2) not in units:
        raise ValueError(f"{key}={value}: expected {example} (units: {', '.join(units)})")
    return float(match.group(1)) * units[match.group(2)]


def _flag(value: str, key: str) -> bool:
    if value in ("", "1", "yes", "true", "on"):
        return True
    if value in ("0", "no", "false", "off"):
        return False
    raise ValueError(f"{key}={value}: expected yes or no")


_PARSERS: dict[str, Callable[[str, str], Any]] = {
    "loss": parse_share,
    "burst": _burst,
    "ge": _gilbert_elliott,
    "delay": parse_duration,
    "jitter": parse_duration,
    "reorder": _flag,
    "rate": parse_rate,
    "queue": parse_size,
    "dup": parse_share,
    "dir": _direction,
}
KEYS = tuple(_PARSERS)
