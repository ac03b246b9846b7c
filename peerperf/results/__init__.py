"""Results: the results API (`ResultsApi`), test lifecycle, datapoint intake, incremental Parquet, HTTP gateway.

Names are imported on first use: a peer host needs only the client and the data model, and must
not pay for pyarrow (about 50 MB per process) because it touched this package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from peerperf.results.api import ResultsApi
    from peerperf.results.gateway import create_app
    from peerperf.results.model import BatchResult, DataPoint, PeerResults, Submission, TestInfo, TopologyPoint
    from peerperf.results.service import ResultsService
    from peerperf.results.settings import ResultsSettings

_WHERE = {
    "ResultsApi": "peerperf.results.api",
    "create_app": "peerperf.results.gateway",
    "BatchResult": "peerperf.results.model",
    "DataPoint": "peerperf.results.model",
    "PeerResults": "peerperf.results.model",
    "Submission": "peerperf.results.model",
    "TestInfo": "peerperf.results.model",
    "TopologyPoint": "peerperf.results.model",
    "ResultsService": "peerperf.results.service",
    "ResultsSettings": "peerperf.results.settings",
}
__all__ = [
    "BatchResult",
    "DataPoint",
    "PeerResults",
    "ResultsApi",
    "ResultsService",
    "ResultsSettings",
    "Submission",
    "TestInfo",
    "TopologyPoint",
    "create_app",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
