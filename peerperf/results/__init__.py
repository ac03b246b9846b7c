"""Results: the test lifecycle, datapoint intake, incremental Parquet and the HTTP gateway."""

from peerperf.results.gateway import create_app
from peerperf.results.model import DataPoint, PeerResults, TestInfo, TopologyPoint
from peerperf.results.service import BatchResult, ResultsService, Submission
from peerperf.results.settings import ResultsSettings

__all__ = [
    "BatchResult",
    "DataPoint",
    "PeerResults",
    "ResultsService",
    "ResultsSettings",
    "Submission",
    "TestInfo",
    "TopologyPoint",
    "create_app",
]
