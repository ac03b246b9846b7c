"""mypy under the installed module names: `python -m scripts.typecheck [mypy arguments]`.

analysis/ and routines/ sit at the repository's top but install as peerperf.analysis and peerperf.routines
(pyproject's `package-dir`). mypy cannot read that mapping, and the editable install's import hook is
invisible to it, so bare `mypy` would check analysis/report.py as `analysis.report` and find no
`peerperf.analysis`. This runs mypy with the same configuration (pyproject's [tool.mypy]) and gives each
mapped source its installed name, so every file is checked once, under the one name it is imported by.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from mypy import build
from mypy.main import process_options
from mypy.modulefinder import BuildSource

ROOT = Path(__file__).resolve().parent.parent


def package_dirs() -> dict[str, str]:
    """pyproject's `package-dir`, folder -> installed package: {"analysis": "peerperf.analysis", ...}."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        mapping: dict[str, str] = tomllib.load(file)["tool"]["setuptools"]["package-dir"]
    return {folder: package for package, folder in mapping.items()}


def installed_name(source: BuildSource, folders: dict[str, str]) -> BuildSource:
    """`source` renamed to its installed module when it lies in a mapped folder (analysis.x -> peerperf.analysis.x)."""
    top, _, rest = (source.module or "").partition(".")
    if top not in folders:
        return source
    module = folders[top] + ("." + rest if rest else "")
    return BuildSource(source.path, module, source.text, str(ROOT), source.followed)


def main(argv: list[str]) -> int:
    """Run mypy over pyproject's `files` (or `argv`'s), the mapped folders under their installed names."""
    sources, options = process_options(argv)
    folders = package_dirs()
    result = build.build([installed_name(source, folders) for source in sources], options)
    for line in result.errors:
        print(line)
    verdict = f"Found {len(result.errors)} errors" if result.errors else "Success: no issues found"
    print(f"{verdict} in {len(sources)} source files", file=sys.stderr)
    return 1 if result.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
