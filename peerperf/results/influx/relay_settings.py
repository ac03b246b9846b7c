"""Every parameter of the InfluxDB relay, declared once (flags of the run and results CLIs, env vars)."""

from __future__ import annotations

from dataclasses import dataclass

from peerperf.errors import ConfigError
from peerperf.settings import setting


@dataclass(frozen=True)
class InfluxSettings:
    """Where and how datapoints are relayed to InfluxDB; off while `influx_url` is unset."""

    influx_url: str | None = setting(
        None, "relay datapoints to the InfluxDB at this URL (default: no relay)", env="INFLUX_URL"
    )
    influx_database: str | None = setting(
        None,
        "InfluxDB 1.x database: write through /write?db= (the original's path) instead of the v2 API",
        env="INFLUX_DATABASE",
    )
    influx_token: str | None = setting(None, "API token of the v2 write API (never recorded)", env="INFLUX_TOKEN")
    influx_org: str | None = setting(None, "organisation of the v2 write API", env="INFLUX_ORG")
    influx_bucket: str = setting("comms", "bucket of the v2 write API", env="INFLUX_BUCKET")
    influx_batch_size: int = setting(5000, "points per write request", env="INFLUX_BATCH_SIZE")
    influx_flush_interval: float = setting(
        1.0, "write what is buffered at least this often", env="INFLUX_FLUSH_INTERVAL", unit="s"
    )
    influx_retries: int = setting(
        3, "retries of a failed write before its points count as not relayed", env="INFLUX_RETRIES"
    )
    influx_retry_backoff: float = setting(
        0.5, "wait before the first retry, doubled for each next one", env="INFLUX_RETRY_BACKOFF", unit="s"
    )
    influx_gzip: bool = setting(True, "gzip write requests", env="INFLUX_GZIP")
    influx_max_buffer: int = setting(
        100_000,
        "most points waiting to be written; beyond it the oldest are dropped (and counted): the test goes on",
        env="INFLUX_MAX_BUFFER",
        unit="points",
    )
    influx_timeout: float = setting(10.0, "timeout of one write request", env="INFLUX_TIMEOUT", unit="s")

    def __post_init__(self) -> None:
        problems = []
        if self.influx_batch_size < 1:
            problems.append("--influx-batch-size must be at least 1")
        if self.influx_max_buffer < self.influx_batch_size:
            problems.append("--influx-max-buffer must hold at least one batch (--influx-batch-size)")
        if self.influx_flush_interval <= 0 or self.influx_timeout <= 0:
            problems.append("--influx-flush-interval and --influx-timeout must be positive")
        if self.influx_retries < 0 or self.influx_retry_backoff < 0:
            problems.append("--influx-retries and --influx-retry-backoff must not be negative")
        if self.influx_url is not None and not self.influx_url.startswith(("http://", "https://")):
            problems.append(f"--influx-url must be an http(s) URL, got {self.influx_url!r}")
        if problems:
            raise ConfigError("; ".join(problems))

    @property
    def enabled(self) -> bool:
        return bool(self.influx_url)

    def describe(self) -> str:
        """Where points go, for the live view and logs (no token)."""
        if not self.influx_url:
            return "off"
        url = self.influx_url.rstrip("/")
        if self.influx_database:
            return f"{url}/write?db={self.influx_database} (InfluxDB 1.x)"
        return f"{url} bucket {self.influx_bucket} (v2 write API)"
