"""Analysis: results files in, a `Summary` (with the harness verdict), checks, comparisons and reports out.

The public surface (docs/api.md shows each in use)::

    from peerperf.analysis import check, compare, load, report, summary

Names load on first use (PEP 562): the run CLI imports the assertion parser from here without
paying for pandas and matplotlib. No module here shares a name with these functions, so importing
one never hides them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from peerperf.analysis.assertions import Outcome, check
    from peerperf.analysis.comparison import Comparison, compare
    from peerperf.analysis.html_report import compare_report, report
    from peerperf.analysis.results_files import load, metadata
    from peerperf.analysis.summarise import Summary, summary

__all__ = [
    "Comparison",
    "Outcome",
    "Summary",
    "check",
    "compare",
    "compare_report",
    "load",
    "metadata",
    "report",
    "summary",
]

#: Where each public name is defined.
_HOMES = {
    "check": "assertions",
    "Outcome": "assertions",
    "compare": "comparison",
    "Comparison": "comparison",
    "report": "html_report",
    "compare_report": "html_report",
    "load": "results_files",
    "metadata": "results_files",
    "summary": "summarise",
    "Summary": "summarise",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
