"""A flush that hits a disk error keeps its records buffered, in order, for the next flush."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from peerperf.results import ResultsService, ResultsSettings
from tests.results.conftest import metrics_body


async def test_a_failed_flush_loses_nothing(tmp_path: Path) -> None:
    service = ResultsService(ResultsSettings(location=str(tmp_path)))
    await service.create_test("t", started=True)
    await service.submit_one("t", "p", metrics_body(1))
    await service.submit_topology("t", {"n": 1})
    blocker = tmp_path / ".peerperf" / "t.parts"
    blocker.write_text("not a folder")  # the parts folder cannot be created: an OSError on flush
    with pytest.raises(OSError):
        await service.flush("t")
    await service.submit_one("t", "p", metrics_body(2))
    blocker.unlink()
    await service.flush("t")
    await service.finish_test("t")
    document = "".join([chunk async for chunk in service.stream_json("t")])
    finished = json.loads(document)
    assert [p["metrics"]["sentTotal"] for p in finished["dataPoints"]] == [1, 2]
    assert [p["topology"] for p in finished["topologyDataPoints"]] == [{"n": 1}]


async def test_the_whole_test_read_while_it_finishes_has_every_datapoint(tmp_path: Path) -> None:
    service = ResultsService(ResultsSettings(location=str(tmp_path)))
    await service.create_test("racing", started=True)
    for number in range(40):
        await service.submit_one("racing", f"peer-{number}", metrics_body(number))

    async def read() -> dict[str, object]:
        return dict(json.loads("".join([chunk async for chunk in service.stream_json("racing")])))

    finished, document = await asyncio.gather(service.finish_test("racing"), read())
    assert finished.finished is not None
    assert len(document["dataPoints"]) == 40  # type: ignore[arg-type]
