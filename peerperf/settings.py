"""Settings declared once: a frozen dataclass field gives the flag, the env var, the default and the help.

Every component (lighthouse, results service, run CLI) declares its parameters as a dataclass with
`setting(...)` fields. `add_arguments` turns them into argparse flags and `resolve` reads them back
with the precedence flag > environment > default, so no option is spelled out twice.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from peerperf.errors import ConfigError

S = TypeVar("S")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
#: What unsets an optional setting (`--ping-interval off`).
_UNSET = {"", "off", "none"}


def setting(
    default: Any, help: str, *, env: str | None = None, unit: str | None = None, fallback_env: str | None = None
) -> Any:
    """Declare one parameter; `env` names its environment variable (default `PEERPERF_<NAME>`).

    `fallback_env` is read when `env` is unset: the original's shared name (`PORT`), kept working.
    """
    metadata = {"help": help, "env": env, "unit": unit, "fallback_env": fallback_env}
    return dataclasses.field(default=default, metadata=metadata)


def setting_like(cls: type, name: str, help: str | None = None) -> Any:
    """The parameter `name` of settings class `cls` in another program (same default, env var and unit),
    so it stays declared once; `help` may say what it means there."""
    f = next(f for f in dataclasses.fields(cls) if f.name == name)
    meta = f.metadata
    return setting(
        f.default,
        help or meta["help"],
        env=meta.get("env"),
        unit=meta.get("unit"),
        fallback_env=meta.get("fallback_env"),
    )


def env_name(f: dataclasses.Field[Any]) -> str:
    """The environment variable read for field `f`."""
    return f.metadata.get("env") or f"PEERPERF_{f.name.upper()}"


def env_names(f: dataclasses.Field[Any]) -> list[str]:
    """The environment variables read for field `f`, first found wins."""
    fallback = f.metadata.get("fallback_env")
    return [env_name(f), *([fallback] if fallback else [])]


def flag_name(f: dataclasses.Field[Any]) -> str:
    """The command-line flag for field `f`."""
    return "--" + f.name.replace("_", "-")


def is_setting(f: dataclasses.Field[Any]) -> bool:
    """Whether field `f` was declared with `setting(...)` (others are nested objects, not flags)."""
    return "help" in f.metadata


def add_arguments(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    cls: type,
    exclude: tuple[str, ...] = (),
    defaults: Mapping[str, Any] | None = None,
) -> None:
    """Add one flag per setting of class `cls` (but `exclude`), with help naming unit, env var and default.

    `defaults` replaces some declared defaults for this program (shown in the help; pass the same to `resolve`).
    """
    hints = typing.get_type_hints(cls)
    defaults = defaults or {}
    for f in dataclasses.fields(cls):
        if not is_setting(f) or f.name in exclude:
            continue
        unit = f" ({f.metadata['unit']})" if f.metadata.get("unit") else ""
        default = defaults.get(f.name, f.default)
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        help_text = f"{f.metadata.get('help', '')}{unit} [env {' or '.join(env_names(f))}; default {shown!s}]"
        help_text = help_text.replace("%", "%%")  # argparse %-formats help; a share such as 20% is text
        if hints[f.name] is bool and f.name.startswith("no_"):  # argparse reads --no-x as "x off"
            parser.add_argument(flag_name(f), action="store_const", const=True, default=None, help=help_text)
        elif hints[f.name] is bool:
            parser.add_argument(flag_name(f), action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            parser.add_argument(flag_name(f), default=None, metavar=f.name.upper(), help=help_text)


def resolve(
    cls: type[S],
    args: argparse.Namespace | None = None,
    environ: Mapping[str, str] | None = None,
    defaults: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> S:
    """Build settings: keyword overrides, then flags, then environment, then `defaults`, then declared defaults."""
    environ = os.environ if environ is None else environ
    defaults = defaults or {}
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in overrides:
            values[f.name] = overrides[f.name]
            continue
        if not is_setting(f):
            continue
        raw = getattr(args, f.name, None) if args is not None else None
        source = flag_name(f)
        found = next((name for name in env_names(f) if name in environ), None) if raw is None else None
        if found is not None:
            raw, source = environ[found], found
        if raw is not None:
            values[f.name] = parse_value(hints[f.name], raw, source)
        elif f.name in defaults:
            values[f.name] = defaults[f.name]
    return cls(**values)


def given(cls: type, name: str, args: argparse.Namespace | None, environ: Mapping[str, str] | None = None) -> bool:
    """Whether setting `name` of `cls` was set by a flag or an env var (not left at its default)."""
    environ = os.environ if environ is None else environ
    f = next(f for f in dataclasses.fields(cls) if f.name == name)
    return getattr(args, name, None) is not None or any(env in environ for env in env_names(f))


def parse_value(tp: Any, raw: Any, source: str) -> Any:
    """Convert text from a flag or env var to type `tp`, or raise `ConfigError` naming `source`."""
    if not isinstance(raw, str):
        return raw
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if typing.get_origin(tp) in (typing.Union, type(int | None)):
        if raw.strip().lower() in _UNSET:
            return None
        return parse_value(args[0], raw, source)
    try:
        if tp is bool:
            lowered = raw.strip().lower()
            if lowered in _TRUE or lowered in _FALSE:
                return lowered in _TRUE
            raise ValueError(raw)
        if typing.get_origin(tp) is tuple:
            return tuple(parse_value(args[0], item.strip(), source) for item in raw.split(",") if item.strip())
        if tp in (int, float, str):
            return tp(raw)
    except ValueError:
        name = getattr(tp, "__name__", str(tp))
        raise ConfigError(f"{source}: expected {name}, got {raw!r}") from None
    raise TypeError(f"settings cannot parse {tp!r}")
