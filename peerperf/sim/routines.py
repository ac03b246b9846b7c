"""Selecting routines: built-in names, `module:function` import strings and weighted mixes.

`default` -> `peerperf.routines.default:routine`; `pkg.mod:fn` imports that function; `default:0.8,idle:0.2`
assigns routines to peers by weight (the part after the last `:` is a weight when it is a number).
A routine takes parameters after `?`, as a URL's query: `roam?period=2-4`, `crowd?at=30&room=room-1`;
the routine reads them as `peer.params`, and its module's `check_params(params)`, if any, refuses bad
ones when the mix is parsed, before anything starts.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from peerperf.errors import ConfigError
from peerperf.sim.api import Routine


@dataclass(frozen=True)
class RoutineChoice:
    """One routine of a mix and its share of the peers."""

    name: str
    weight: float


def parse_mix(spec: str) -> list[RoutineChoice]:
    """`"default"` or `"default:0.8,idle:0.2"` or `"my.mod:fn:3,idle:1"` into weighted choices."""
    choices = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        name, weight = part, 1.0
        head, sep, tail = part.rpartition(":")
        if sep:
            try:
                weight = float(tail)
                name = head
            except ValueError:
                pass  # `module:function` without a weight
        if weight <= 0:
            raise ConfigError(f"routine {name!r}: weight must be positive, got {weight}")
        choices.append(RoutineChoice(name, weight))
    if not choices:
        raise ConfigError("--routine is empty")
    for choice in choices:
        load_routine(choice.name)  # fail at parse time, not on a remote node
    return choices


def routine_params(name: str) -> dict[str, str]:
    """The parameters after `?` in a routine's name: `roam?period=2-4&x=1` -> {"period": "2-4", "x": "1"}."""
    _, _, query = name.partition("?")
    params: dict[str, str] = {}
    for part in filter(None, query.split("&")):
        key, sep, value = part.partition("=")
        if not sep or not key:
            raise ConfigError(f"routine {name!r}: parameter {part!r} is not key=value")
        params[key] = value
    return params


def load_routine(name: str) -> Routine:
    """Import a routine by built-in name (`peerperf.routines.<name>:routine`) or `module:function`, and check
    its parameters (`?key=value&...`) with the module's `check_params`, when it has one."""
    params = routine_params(name)
    name = name.partition("?")[0]
    module_name, _, attr = name.partition(":") if ":" in name else (f"peerperf.routines.{name}", ":", "routine")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"routine {name!r}: cannot import {module_name}: {exc}") from None
    routine = getattr(module, attr, None)
    if not callable(routine):
        raise ConfigError(f"routine {name!r}: {module_name} has no function {attr!r}")
    check = getattr(module, "check_params", None)
    if callable(check):
        check(params)
    elif params:
        raise ConfigError(f"routine {name!r} takes no parameters, got {sorted(params)}")
    return routine


def assign(choices: list[RoutineChoice], count: int) -> list[str]:
    """Routine names for peers 0..count-1, in proportion to the weights (largest remainder), interleaved."""
    total = sum(c.weight for c in choices)
    exact = [c.weight / total * count for c in choices]
    counts = [int(e) for e in exact]
    for i in sorted(range(len(choices)), key=lambda i: exact[i] - counts[i], reverse=True)[: count - sum(counts)]:
        counts[i] += 1
    # Interleave so any prefix of the peers (one host's share) has roughly the same mix.
    slots = sorted((((k + 0.5) / n, i) for i, n in enumerate(counts) for k in range(n)))
    return [choices[i].name for _, i in slots]
