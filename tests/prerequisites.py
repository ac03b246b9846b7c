"""What some tests need beyond pip: each system tool, the pytest marker of the tests that use it, and its
Debian packages, declared once.

The root conftest skips a marked test whose tool is missing (naming the tool) and says up front what is
missing; `scripts/test` installs the missing packages with this module before any virtual environment
exists, so it uses the standard library only: `python3 -m tests.prerequisites --help`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import sysconfig
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Tool:
    """A program (or privilege) that some tests drive and pip cannot install."""

    #: What to call it when it is missing.
    name: str
    #: The pytest marker of every test that needs it.
    marker: str
    #: Whether it is there; given the PATH to search (None: the process's own).
    found: Callable[[str | None], bool]
    #: The Debian packages that provide it (none for a privilege).
    packages: tuple[str, ...] = ()


def _program(name: str) -> Callable[[str | None], bool]:
    return lambda path: shutil.which(name, path=path) is not None


def _python_headers(_path: str | None) -> bool:
    return os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))


#: The markers and what each needs. A marker's tests are skipped when any of its tools is missing.
MARKERS = {
    "browser": "drives Debian's headless Chromium",
    "influx": "starts real InfluxDB 1.x and VictoriaMetrics daemons on loopback (and runs curl against them)",
    "nodejs": "runs the original system's servers (../shared/original) on Node.js",
    "wrk": "drives the wrk HTTP load generator",
    "root": "needs root: network namespaces (unshare, ip) and mounts",
}
TOOLS = (
    Tool("chromium", "browser", _program("chromium"), ("chromium",)),
    Tool("influxd", "influx", _program("influxd"), ("influxdb",)),
    Tool("victoria-metrics", "influx", _program("victoria-metrics"), ("victoria-metrics",)),
    Tool("curl", "influx", _program("curl"), ("curl",)),  # cluster.yaml's InfluxDB commands, run as written
    Tool("node", "nodejs", _program("node"), ("nodejs",)),
    Tool("wrk", "wrk", _program("wrk"), ("wrk",)),
    Tool("root privileges", "root", lambda _path: os.geteuid() == 0),
    Tool("ip", "root", _program("ip"), ("iproute2",)),
    Tool("unshare", "root", _program("unshare"), ("util-linux",)),
    Tool("mount", "root", _program("mount"), ("mount",)),
)
#: What `pip install` needs to build the compiled data path (peerperf/peer/_datapath.c): installed before the
#: venv like the tools above, but no test is skipped without them (the compiled path's tests fail instead).
BUILD_TOOLS = (
    Tool("gcc", "", _program("gcc"), ("gcc",)),
    Tool("Python headers", "", _python_headers, ("python3-dev",)),
)


def missing(path: str | None = None) -> list[Tool]:
    """The tools not found (searching `path`, or the process's PATH)."""
    return [tool for tool in TOOLS if not tool.found(path)]


def missing_by_marker(tools: Iterable[Tool]) -> dict[str, list[Tool]]:
    """Marker -> its missing tools (only markers with something missing)."""
    by_marker: dict[str, list[Tool]] = {}
    for tool in tools:
        by_marker.setdefault(tool.marker, []).append(tool)
    return by_marker


def skip_reason(marker: str, tools: list[Tool]) -> str:
    """Why a test marked `marker` cannot run here, and what would let it."""
    reasons = []
    if installable := [tool for tool in tools if tool.packages]:
        names = ", ".join(tool.name for tool in installable)
        reasons.append(f"{names} missing (scripts/test installs {' '.join(packages(installable))})")
    if len(installable) < len(tools):
        reasons.append("not running as root")
    return f"marker {marker!r}: " + "; ".join(reasons)


def summary_line(tools: list[Tool]) -> str:
    """One line for the start of a test session: what is missing and which marked tests it skips."""
    if not tools:
        return "prerequisites: all found (" + ", ".join(sorted(MARKERS)) + " tests run)"
    markers = missing_by_marker(tools)
    names = ", ".join(tool.name for tool in tools)
    deselect = " and ".join(f"not {marker}" for marker in markers)
    install = f"scripts/test installs {' '.join(wanted)}; " if (wanted := packages(tools)) else ""
    return (
        f"prerequisites: missing {names}: tests marked {', '.join(markers)} are skipped "
        f"({install}-m '{deselect}' deselects them)"
    )


def packages(tools: Iterable[Tool]) -> list[str]:
    """The Debian packages that provide `tools`, each once, in declaration order."""
    return list(dict.fromkeys(package for tool in tools for package in tool.packages))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--packages", action="store_true", help="print the Debian packages of the missing tools, one line"
    )
    args = parser.parse_args(argv)
    tools = missing()
    build = [tool for tool in BUILD_TOOLS if not tool.found(None)]
    print(" ".join(packages([*tools, *build])) if args.packages else summary_line(tools))
    return 0


if __name__ == "__main__":
    sys.exit(main())
