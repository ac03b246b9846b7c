"""Reading results into pandas: one row per datapoint, one column per metric, a `testId` column.

`load` takes a test's `{id}.parquet`, the original's `{id}.json`, several of them, or a results
folder (every finished test in it). `metadata` reads what the run recorded about a test (its
settings, expected peers) from the same files.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from peerperf.errors import ResultsFileError

#: Text columns read as categories (Arrow dictionaries): a million rows of ids would otherwise be a
#: million Python strings each, factorised again later (`analysis.windows.KEYS`). The keys of counts by
#: name (maps) are read as dictionaries too: a few distinct names repeated millions of times.
TEXT_KEYS = ("peerId", "hostId", "nodeId", "layer", "room")
#: Key of the run's metadata in a Parquet file's schema metadata.
METADATA_KEY = b"peerperf.metadata"


def load(source: str | Path | Iterable[str | Path], columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Datapoints of one test, several tests, or every test in a folder, with a `testId` column.

    `columns` reads only those (when present): a summary needs a third of them, and big tests load
    faster without the rest.
    """
    paths = results_files(source)
    if not paths:
        raise ResultsFileError(f"no results (*.parquet or *.json) found in {source}")
    frames = [load_datapoints(path, columns).assign(testId=id_of(path)) for path in paths]
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return frame


def results_files(source: str | Path | Iterable[str | Path]) -> list[Path]:
    """The results files `source` names: a file, a folder (Parquet preferred over JSON), or several."""
    if isinstance(source, str | Path):
        path = Path(source).expanduser()
        if path.is_dir():
            by_id: dict[str, Path] = {}
            for candidate in sorted(path.glob("*.json")) + sorted(path.glob("*.parquet")):
                if _is_results_file(candidate):
                    by_id[id_of(candidate)] = candidate  # Parquet, globbed last, wins
            return list(by_id.values())
        if not path.exists():
            raise ResultsFileError(f"{path}: no such file or folder")
        return [path]
    return [p for item in source for p in results_files(item)]


def _is_results_file(path: Path) -> bool:
    """`{id}.parquet` or `{id}.json`; not the siblings (`{id}.topology.parquet`, `{id}.summary.json`...)."""
    return path.suffix in (".parquet", ".json") and path.name.count(".") == 1


def id_of(path: Path) -> str:
    return path.name.split(".")[0]


def load_datapoints(path: str | Path, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """A test's datapoints from `{id}.parquet`, or from `{id}.json` (the original's schema)."""
    path = Path(path).expanduser()
    try:
        if path.suffix == ".parquet":
            schema = pq.read_schema(path)
            if "peerId" not in schema.names:
                raise ResultsFileError(
                    f"{path}: holds no datapoints (no peerId column): a topology or results sibling?"
                )
            wanted = None if columns is None else [c for c in dict.fromkeys(columns) if c in schema.names]
            read = wanted or schema.names
            dictionaries = [c for c in TEXT_KEYS if c in read]
            dictionaries += [f"{c}.key_value.key" for c in read if pa.types.is_map(schema.field(c).type)]
            table = pq.read_table(path, columns=wanted, read_dictionary=dictionaries)
            return table.to_pandas(types_mapper=_keep_nested_in_arrow)
        document = json.loads(path.read_text())
        rows = [{"peerId": p["peerId"], "timestamp": p["timestamp"], **p["metrics"]} for p in document["dataPoints"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ResultsFileError(f"{path}: not a readable results file: {exc}") from exc
    return pd.DataFrame(rows, columns=None if rows else ["peerId", "timestamp"])


def _keep_nested_in_arrow(arrow_type: pa.DataType) -> pd.ArrowDtype | None:
    """List and map columns (histograms, counts) stay Arrow arrays: a million rows of them would
    otherwise become a million Python objects, and the analysis reads them vectorised anyway."""
    if pa.types.is_list(arrow_type) or pa.types.is_map(arrow_type):
        return pd.ArrowDtype(arrow_type)
    return None


def metadata(path: str | Path) -> dict[str, Any]:
    """What the run recorded about a test (settings, expected peers); empty when nothing was."""
    path = Path(path).expanduser()
    try:
        if path.suffix == ".parquet":
            raw = (pq.read_schema(path).metadata or {}).get(METADATA_KEY)
            return dict(json.loads(raw)) if raw else {}
        document = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ResultsFileError(f"{path}: not a readable results file: {exc}") from exc
    return dict(document.get("metadata") or {})


def topology(path: str | Path) -> list[tuple[int, Any]] | None:
    """The lighthouse topology samples stored with a test, `(timestamp ms, body)` in stored order.

    From `{id}.topology.parquet` beside `{id}.parquet`, or the `topologyDataPoints` of the original's
    `{id}.json`. None when the test has none stored (its mesh was not sampled: `--topology-interval 0`,
    or no file).
    """
    path = Path(path).expanduser()
    try:
        if path.suffix == ".parquet":
            sibling = path.with_name(f"{id_of(path)}.topology.parquet")
            if not sibling.exists():
                return None
            table = pq.read_table(sibling, columns=["timestamp", "topology"]).to_pydict()
            rows = zip(table["timestamp"], table["topology"], strict=True)
            return [(int(t), json.loads(body)) for t, body in rows] or None
        points = json.loads(path.read_text()).get("topologyDataPoints")
        return [(int(p["timestamp"]), p.get("topology")) for p in points] if points else None
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as exc:
        raise ResultsFileError(f"{path}: its topology samples are not readable: {exc}") from exc
