"""The original's results document (`TestData`), written as a stream of JSON text chunks.

`{id, started, finished, metadata, dataPoints, topologyDataPoints, results}`: the original's keys
plus `metadata` (extra keys do not disturb readers of the original's schema). Datapoints arrive as
pieces of JSON text (`parts.DatapointLog.array_text`), so a document never needs to be in memory whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from peerperf.results.model import PeerResults, TestInfo, TopologyPoint


def _compact(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def results_json(
    info: TestInfo,
    datapoints: Iterable[str],
    topology: Iterable[TopologyPoint],
    results: Iterable[PeerResults],
) -> Iterator[str]:
    """The whole test as JSON text chunks; `datapoints` is the text between the brackets of its array."""
    yield _compact(info.to_json())[:-1] + ',"dataPoints":['
    yield from datapoints
    yield '],"topologyDataPoints":['
    for number, point in enumerate(topology):
        yield ("," if number else "") + _compact(point.to_json())
    yield '],"results":{'
    yield ",".join(f"{_compact(r.peer_id)}:{_compact(r.to_json())}" for r in results)
    yield "}}"
