"""The two ways line protocol reaches InfluxDB: the client's v2 write API, and 1.x's `/write?db=`."""

from __future__ import annotations

import gzip
from typing import Protocol, cast

import aiohttp
from influxdb_client import WritePrecision
from influxdb_client.client.influxdb_client_async import InfluxDBClientAsync

from peerperf.results.influx.relay_settings import InfluxSettings


class WriteFailed(Exception):
    """A write request did not store its points (the server answered an error, or was not reachable)."""


class LineWriter(Protocol):
    async def write(self, lines: list[str]) -> None:
        """Store the lines or raise `WriteFailed`."""

    async def close(self) -> None: ...


class V1Writer:
    """InfluxDB 1.x (1.6 here): POST line protocol to `/write?db=<database>&precision=ms`."""

    def __init__(self, settings: InfluxSettings) -> None:
        assert settings.influx_url and settings.influx_database
        self.url = settings.influx_url.rstrip("/") + "/write"
        self.params = {"db": settings.influx_database, "precision": "ms"}
        self.gzip = settings.influx_gzip
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=settings.influx_timeout))

    async def write(self, lines: list[str]) -> None:
        body = "\n".join(lines).encode()
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if self.gzip:
            body, headers["Content-Encoding"] = gzip.compress(body, 1), "gzip"
        try:
            async with self._session.post(self.url, params=self.params, data=body, headers=headers) as resp:
                if resp.status >= 300:
                    raise WriteFailed(f"{resp.status} {(await resp.text())[:300]}")
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise WriteFailed(f"{type(exc).__name__}: {exc}") from exc

    async def close(self) -> None:
        await self._session.close()


class V2Writer:
    """InfluxDB 2.x/3.x, 1.8+ and compatible servers: influxdb-client's async write API (`/api/v2/write`)."""

    def __init__(self, settings: InfluxSettings) -> None:
        assert settings.influx_url
        self.bucket, self.org = settings.influx_bucket, settings.influx_org or ""
        self._client = InfluxDBClientAsync(
            url=settings.influx_url,
            token=settings.influx_token or "",
            org=self.org,
            timeout=int(settings.influx_timeout * 1000),
            enable_gzip=settings.influx_gzip,
        )
        self._api = self._client.write_api()

    async def write(self, lines: list[str]) -> None:
        try:
            ok = await self._api.write(
                bucket=self.bucket,
                org=self.org,
                record="\n".join(lines),
                write_precision=cast(WritePrecision, WritePrecision.MS),
            )
        except Exception as exc:  # the client raises its own ApiException, aiohttp's and timeouts
            raise WriteFailed(f"{type(exc).__name__}: {str(exc)[:300]}") from exc
        if not ok:
            raise WriteFailed("the write API did not accept the batch")

    async def close(self) -> None:
        await self._client.close()


def writer_for(settings: InfluxSettings) -> LineWriter:
    """The 1.x path when a database is named, else the v2 write API (call inside the event loop)."""
    return V1Writer(settings) if settings.influx_database else V2Writer(settings)
