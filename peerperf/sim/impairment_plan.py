"""Which simulated peer gets which impairment profile: `--impair` for a share of peers, or a profile file.

The run's impairment options (`ImpairmentSettings`) are declared here; what a profile does to a link is
`peerperf.peer.impairment_profile`.

A profile file (YAML or JSON) names profiles and assigns them, first matching rule first:

    profiles:
      mobile: loss=2%,delay=80ms,jitter=20ms,rate=2mbit
      wifi: loss=0.5%,delay=15ms,jitter=5ms
    assign:
      - {profile: mobile, share: 30%}           # 30 % of all peers
      - {profile: wifi, rooms: [room-2]}         # every peer of room-2 not yet assigned
      - {profile: wifi, routines: [idle], share: 50%}

A rule's `share` is of the peers its `rooms`/`routines` match; who gets picked is seeded, so a run
with the same seed impairs the same peers.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from peerperf.errors import ConfigError
from peerperf.peer.impairment_profile import ImpairmentProfile, PeerImpairment, parse_profile, parse_share
from peerperf.settings import setting
from peerperf.sim.host_config import PeerSpec

_RULE_KEYS = {"profile", "share", "rooms", "routines"}


@dataclass(frozen=True)
class ImpairmentSettings:
    """Which peers run behind an impaired network, and how (see the README's "Network impairment")."""

    impair: str | None = setting(
        None,
        "impairment for peers, applied in process beneath DTLS/SCTP: a profile such as "
        "loss=2%,delay=40ms,jitter=10ms,rate=2mbit, or a profile name from --impair-file",
    )
    impair_peers: str = setting("100%", "share of peers --impair applies to (the others run unimpaired), e.g. 20%")
    impair_file: str | None = setting(
        None, "YAML or JSON file naming profiles (mobile, wifi, ...) and assigning them per room, routine or share"
    )
    impair_signaling: bool = setting(
        False, "impair the lighthouse WebSocket too (its delay, jitter and rate; TCP has no datagram loss)"
    )
    impair_seed: int = setting(0, "seed of every impaired peer's random draws (combined with the peer's index)")


@dataclass(frozen=True)
class ProfileRule:
    """Give `profile` to `share` of the peers in `rooms` running `routines` (None: any)."""

    profile: str
    share: float = 1.0
    rooms: frozenset[str] | None = None
    routines: frozenset[str] | None = None

    def matches(self, spec: PeerSpec) -> bool:
        return (self.rooms is None or spec.room in self.rooms) and (
            self.routines is None or spec.routine in self.routines
        )


@dataclass(frozen=True)
class ImpairmentPlan:
    """Named profiles and the rules that hand them to peers."""

    profiles: dict[str, ImpairmentProfile]
    rules: tuple[ProfileRule, ...]
    seed: int = 0
    signaling: bool = False

    def assign(self, specs: list[PeerSpec]) -> list[PeerSpec]:
        """The specs with their impairment set; peers no rule picks stay unimpaired."""
        order = list(range(len(specs)))
        random.Random(f"{self.seed}/assign").shuffle(order)
        chosen: dict[int, str] = {}
        for rule in self.rules:
            eligible = [i for i in order if rule.matches(specs[i])]
            wanted = round(rule.share * len(eligible))
            for i in [i for i in eligible if i not in chosen][:wanted]:
                chosen[i] = rule.profile
        return [
            replace(spec, impairment=self._for(spec, chosen[i])) if i in chosen else spec
            for i, spec in enumerate(specs)
        ]

    def _for(self, spec: PeerSpec, name: str) -> PeerImpairment:
        return PeerImpairment(self.profiles[name], f"{self.seed}/{spec.index}", self.signaling)


def describe(specs: list[PeerSpec]) -> str:
    """`mobile: 3 peers, none: 5 peers`: what a run will impair, for its output."""
    counts = Counter(spec.impairment.profile.name if spec.impairment else "none" for spec in specs)
    return ", ".join(f"{name}: {count} peer{'s' * (count != 1)}" for name, count in sorted(counts.items()))


def impairment_plan(settings: ImpairmentSettings) -> ImpairmentPlan | None:
    """The plan the settings describe (None: no impairment); `ConfigError` for any bad input."""
    profiles: dict[str, ImpairmentProfile] = {}
    rules: list[ProfileRule] = []
    if settings.impair_file is not None:
        profiles, file_rules = load_profile_file(Path(settings.impair_file).expanduser())
        rules.extend(file_rules)
    if settings.impair is not None:
        try:
            share = parse_share(settings.impair_peers, "--impair-peers")
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        name = settings.impair.strip()
        if name not in profiles:
            profiles[name] = parse_profile(name)
        rules.insert(0, ProfileRule(name, share))
    if not rules:
        return None
    return ImpairmentPlan(profiles, tuple(rules), settings.impair_seed, settings.impair_signaling)


def load_profile_file(path: Path) -> tuple[dict[str, ImpairmentProfile], list[ProfileRule]]:
    """Read a profile file; every problem is named with the file and the entry it is in."""
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"--impair-file {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"--impair-file {path}: not YAML or JSON: {exc}") from None
    where = f"--impair-file {path}"
    if not isinstance(document, dict) or not isinstance(document.get("profiles"), dict) or not document["profiles"]:
        raise ConfigError(f"{where}: expected a mapping with a non-empty 'profiles' mapping (name: profile)")
    unknown = set(document) - {"profiles", "assign"}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)} (known: profiles, assign)")
    profiles = {}
    for name, text in document["profiles"].items():
        if not isinstance(text, str):
            raise ConfigError(f"{where}: profile {name!r} must be text such as 'loss=2%,delay=40ms'")
        try:
            profiles[str(name)] = parse_profile(text, name=str(name))
        except ConfigError as exc:
            raise ConfigError(f"{where}: profile {name!r}: {exc}") from None
    entries = document.get("assign") or []
    if not isinstance(entries, list):
        raise ConfigError(f"{where}: 'assign' must be a list of rules")
    return profiles, [_rule(entry, n, profiles, where) for n, entry in enumerate(entries, 1)]


def _rule(entry: Any, number: int, profiles: dict[str, ImpairmentProfile], where: str) -> ProfileRule:
    place = f"{where}: assign rule {number}"
    if not isinstance(entry, dict) or "profile" not in entry:
        raise ConfigError(f"{place}: expected a mapping with 'profile' (and share, rooms, routines)")
    unknown = set(entry) - _RULE_KEYS
    if unknown:
        raise ConfigError(f"{place}: unknown keys {sorted(unknown)} (known: {', '.join(sorted(_RULE_KEYS))})")
    name = str(entry["profile"])
    if name not in profiles:
        raise ConfigError(f"{place}: no profile named {name!r} (defined: {', '.join(profiles)})")
    try:
        share = parse_share(str(entry.get("share", "100%")), "share")
    except ValueError as exc:
        raise ConfigError(f"{place}: {exc}") from None
    return ProfileRule(name, share, _names(entry, "rooms", place), _names(entry, "routines", place))


def _names(entry: dict[str, Any], key: str, place: str) -> frozenset[str] | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{place}: {key} must be a list of names")
    return frozenset(value)
