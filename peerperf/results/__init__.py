"""Results: the test lifecycle, datapoint intake, incremental Parquet and the HTTP gateway."""

from peerperf.results.gateway import create_app
from peerperf.results.model import DataPoint, TestInfo
from peerperf.results.service import BatchResult, ResultsService, Submission
from peerperf.results.settings import ResultsSettings

__all__ = ["BatchResult", "DataPoint", "ResultsService", "ResultsSettings", "Submission", "TestInfo", "create_app"]
