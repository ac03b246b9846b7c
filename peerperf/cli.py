"""The `peerperf` command: one entry point for running tests, the services, and the analysis.

`peerperf run ...` is `python -m peerperf.run ...`, `peerperf lighthouse` and `peerperf results`
start the standalone services, `calibrate` and `plan` size a run from measurements, and `summary`,
`assert`, `compare`, `report` read results files.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import peerperf
from peerperf.analysis.cli import add_commands
from peerperf.analysis.cli import run as run_analysis
from peerperf.errors import ConfigError

#: Subcommands that hand the rest of the command line to another program's own parser.
DELEGATED = ("run", "lighthouse", "results", "calibrate", "plan")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in DELEGATED:
        return _delegate(argv[0], argv[1:])
    parser = argparse.ArgumentParser(prog="peerperf", description=__doc__)
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and data path, then exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in (
        ("run", "run a whole test (see `peerperf run --help`)"),
        ("lighthouse", "start a standalone lighthouse"),
        ("results", "start a standalone results service"),
        ("calibrate", "measure what peers cost on this machine, write a calibration file"),
        ("plan", "size a run from a calibration: CPU per peer, nodes, vCPUs, peer_slot"),
    ):
        commands.add_parser(name, help=help_text, add_help=False)
    add_commands(commands)
    args = parser.parse_args(argv)
    return run_analysis(args)


class _Version(argparse.Action):
    """`--version`: the release and the data path peers would run here (resolved only when asked: it
    imports the WebRTC stack)."""

    def __call__(self, parser: argparse.ArgumentParser, *_args: Any, **_kwargs: Any) -> None:
        from peerperf.peer.data_path import describe
        from peerperf.peer.settings import PeerSettings
        from peerperf.settings import resolve

        try:
            data_path = describe(resolve(PeerSettings).data_path)
        except ConfigError as exc:
            data_path = f"data path unknown: {exc}"
        print(f"peerperf {peerperf.__version__}, {data_path}")
        parser.exit()


def _delegate(command: str, rest: list[str]) -> int:
    if command == "run":
        from peerperf.run import main as run_main

        return run_main(rest)
    if command in ("calibrate", "plan"):
        from peerperf.sizing.commands import calibrate_main, plan_main

        return (calibrate_main if command == "calibrate" else plan_main)(rest)
    if command == "lighthouse":
        from peerperf.lighthouse.__main__ import main as lighthouse_main

        return lighthouse_main(rest)
    from peerperf.results.__main__ import main as results_main

    return results_main(rest)


if __name__ == "__main__":
    sys.exit(main())
