"""Every results-service parameter, declared once."""

from __future__ import annotations

from dataclasses import dataclass

from peerperf.settings import setting


@dataclass(frozen=True)
class ResultsSettings:
    """Configuration of the results service and its HTTP gateway."""

    host: str = setting("127.0.0.1", "address the HTTP gateway listens on", env="RESULTS_HOST")
    port: int = setting(9904, "HTTP gateway port (0 picks a free one)", env="RESULTS_PORT", fallback_env="PORT")
    location: str = setting("~/peer-performance-tests", "folder results are written to", env="TEST_RESULTS_LOCATION")
    flush_interval: float = setting(
        1.0,
        "datapoints are appended to Parquet this often; a crash loses at most this much",
        env="FLUSH_INTERVAL",
        unit="s",
    )
    flush_rows: int = setting(
        5000,
        "a submission is answered only once fewer than this many acknowledged datapoints wait for the disk "
        "(1: every answer means stored); flushing starts at half of it",
        env="FLUSH_ROWS",
    )
    max_buffered_rows: int = setting(
        200_000,
        "while writes fail, at most this many datapoints wait in memory; beyond, submissions get 507 (hosts retry)",
        env="MAX_BUFFERED_ROWS",
    )
    max_body_size: int = setting(
        1024**2,
        "larger request bodies are refused with 413 (the original's limit was 100 kB; a datapoint is about 2 kB)",
        env="MAX_BODY_SIZE",
        unit="bytes",
    )
    access_log: bool = setting(
        False,
        "log every HTTP request (off: at thousands of peers that is a line per datapoint, and ~40 % of its CPU)",
        env="RESULTS_ACCESS_LOG",
    )
    token: str = setting(
        "", "when set, requests need Authorization: Bearer <token> (GET /status excepted)", env="RESULTS_TOKEN"
    )
