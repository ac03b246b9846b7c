"""Reading results files into one row per datapoint, one column per metric."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd


def load_datapoints(path: str | Path) -> pd.DataFrame:
    """A test's datapoints from `{id}.parquet`, or from `{id}.json` (the original's schema)."""
    path = Path(path)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    document = json.loads(path.read_text())
    rows = [{"peerId": p["peerId"], "timestamp": p["timestamp"], **p["metrics"]} for p in document["dataPoints"]]
    return pd.DataFrame(rows)
