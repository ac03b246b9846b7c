"""Calibration files: written and read back whole, and every kind of bad file refused with a clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from peerperf.errors import ConfigError
from peerperf.sizing import calibration as calibration_file
from tests.sizing.fixtures import calibration


def test_a_calibration_survives_the_round_trip(tmp_path: Path) -> None:
    made = calibration()
    path = tmp_path / "cal.json"
    made.save(path)
    read = calibration_file.load(path)
    assert read == made and read.source == str(path)
    data = json.loads(path.read_text())
    assert data["largest_healthy_layer"] == 8 and data["machine"]["cores"] == 2
    assert data["fit"]["per_packet_us"] == pytest.approx(made.fit.model.per_packet * 1e6)
    assert len(data["fit"]["residuals"]) == 4  # the healthy layers only
    assert "auth_secret" not in data["peer_settings"] and data["peer_settings"]["ping_interval"] == 0.009


def test_the_shipped_calibration_reads_and_has_healthy_layers() -> None:
    shipped = calibration_file.default()
    assert "default calibration" in shipped.source
    assert len(shipped.healthy_sizes) >= 3 and shipped.fit.model.per_packet > 0
    assert shipped.routine == "default" and shipped.machine.cores >= 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read calibration"),
        ("{not json", "is not JSON"),
        ('{"format": "something/else"}', "is not a peerperf calibration"),
        ('["a list"]', "is not a peerperf calibration"),
        ('{"format": "peerperf-calibration/1", "machine": {}}', "incomplete or malformed"),
    ],
)
def test_bad_files_are_refused_naming_the_file(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=message) as caught:
        calibration_file.load(path)
    assert str(path) in str(caught.value)


def test_a_damaged_field_is_named(tmp_path: Path) -> None:
    data = calibration().to_json()
    data["fit"]["per_packet"] = "fast"
    path = tmp_path / "damaged.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="fast"):
        calibration_file.load(path)
