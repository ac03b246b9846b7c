"""`calibrate()` measures sizes smallest first, stops at the first unhealthy one, fits the healthy ones, and refuses
plans and results it cannot use. The layers here are made up; `test_packed_run.py` runs a real one."""

from __future__ import annotations

import pytest

from peerperf.errors import ConfigError
from peerperf.sizing.calibrate import CalibrationPlan, calibrate
from peerperf.sizing.layer_measurement import LayerMeasurement
from peerperf.sizing.packed_run import PackedLayer
from tests.sizing.fixtures import layer

RECEIVED = {2: 12.0, 4: 36.0, 6: 70.0, 8: 125.0, 10: 330.0, 12: 800.0}


def fake(unhealthy_from: int) -> tuple[list[tuple[int, int]], object]:
    asked: list[tuple[int, int]] = []

    def measure(packed: PackedLayer) -> LayerMeasurement:
        asked.append((packed.layer_size, packed.layers))
        size = packed.layer_size
        return layer(size, RECEIVED[size], healthy=size < unhealthy_from, layers=packed.layers)

    return asked, measure


def test_sizes_grow_until_one_is_unhealthy_and_the_healthy_ones_are_fitted() -> None:
    asked, measure = fake(unhealthy_from=10)
    lines: list[str] = []
    result = calibrate(CalibrationPlan([12, 2, 4, 6, 8, 10]), lines.append, measure)  # type: ignore[arg-type]
    # One layer alone, then three side by side; 10 alone was not healthy, so neither 3 x 10 nor 12 ran.
    assert asked == [(2, 1), (2, 3), (4, 1), (4, 3), (6, 1), (6, 3), (8, 1), (8, 3), (10, 1)]
    assert result.largest_healthy == 8 and len(result.fit.residuals) == 8
    assert result.fit.model.per_packet == pytest.approx(150e-6, rel=1e-6)
    assert any("NOT healthy" in line and "loss 1.00%" in line for line in lines)
    assert any(line.startswith("fit over 8 healthy measurements (layers of [2, 4, 6, 8])") for line in lines)
    assert any("3 layers of 6 in one process" in line for line in lines)
    assert result.versions["aiortc"] and result.machine.cores >= 1 and result.created_utc.endswith("Z")


def test_keep_going_measures_every_size() -> None:
    asked, measure = fake(unhealthy_from=10)
    calibrate(CalibrationPlan([2, 4, 6, 8, 10, 12], keep_going=True), lambda _: None, measure)  # type: ignore[arg-type]
    assert [size for size, count in asked if count == 1] == [2, 4, 6, 8, 10, 12]
    assert [size for size, count in asked if count == 3] == [2, 4, 6, 8]  # an unhealthy layer alone is not tripled


def test_too_few_healthy_sizes_is_an_error_naming_them() -> None:
    _, measure = fake(unhealthy_from=6)
    with pytest.raises(ConfigError, match=r"only 2 layer size\(s\) were healthy \(\[2, 4\]\)"):
        calibrate(CalibrationPlan([2, 4, 6, 8]), lambda _: None, measure)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sizes": [1, 2, 3]}, "at least 2"),
        ({"sizes": [4, 4, 6]}, "at least 3 different"),
        ({"sizes": [2, 4, 6], "seconds": 6.0}, "no steady window"),
        ({"sizes": [2, 4, 6], "layers_per_process": (3,)}, "must start with 1"),
    ],
)
def test_plans_that_cannot_calibrate_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        CalibrationPlan(**kwargs)  # type: ignore[arg-type]
