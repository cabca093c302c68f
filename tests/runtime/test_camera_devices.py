"""Camera devices over short real SUMO runs: each camera publishes one SenML camera bin per bin,
stored exactly once; its crossings per class and per turning movement sum to its approach counts;
auto-placed cameras work on a scenario without [[cameras]]; and a device under heartbeat loss is
reported by the control center."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from trafficai.config import RunConfig, parse_fault
from trafficai.errors import ConfigError
from trafficai.runtime.device_settings import DeviceNetworkSettings
from trafficai.runtime.session import run_headless
from trafficai.storage import RunStore
from trafficai.storage.devices import BinRow, DeviceRow, DeviceStore

pytestmark = pytest.mark.sumo
GRID = str(Path(__file__).parents[1] / "data" / "grid2x2" / "grid2x2.sumocfg")  # a .sumocfg: no cameras


def _run(config: RunConfig, settings: DeviceNetworkSettings) -> tuple[list[DeviceRow], list[BinRow], object]:
    with RunStore() as store:
        result = run_headless(config, store, devices=settings)
        path = store.path
    with DeviceStore(path) as devices:
        cams = [d for d in devices.devices(result.run_id) if d.kind == "camera"]
        bins = [b for b in devices.bins(result.run_id) if b.device_id.startswith("cam.")]
    return cams, bins, result


def _sum(values: Mapping[str, float], prefix: str) -> float:
    return sum(v for k, v in values.items() if k.startswith(prefix))


def _check_sums(bins: list[BinRow]) -> None:
    for b in bins:
        approaches = {k[9:]: v for k, v in b.values.items() if k.startswith("approach.")}
        assert _sum(b.values, "class.") == sum(approaches.values()), b
        for edge, count in approaches.items():
            assert _sum(b.values, f"movement.{edge}.") == count, (edge, b)


def test_truth_cameras_count_per_class_and_movement_and_the_sums_hold(isolated_data_dir) -> None:  # type: ignore[no-untyped-def]
    config = RunConfig(
        scenario="single", end_s=300, bin_s=30, faults=(parse_fault("e1_E_app_0:heartbeat-loss@60"),)
    )
    cams, bins, result = _run(config, DeviceNetworkSettings(cameras="truth"))
    assert [d.device_id for d in cams] == ["cam.cam_C"] and cams[0].approach.startswith("C/")
    assert cams[0].firmware == "trafficai-perfect-camera-2"
    assert [b.seq for b in bins] == list(range(1, 11))  # 300 s in 30-s bins, each once
    _check_sums(bins)
    crossings = sum(_sum(b.values, "approach.") for b in bins)
    moves = {k for b in bins for k, v in b.values.items() if k.startswith("movement.") and v}
    assert crossings > 20 and len(moves) >= 3  # real traffic, several turning movements
    assert all(any(k.startswith("queue.") for k in b.values) for b in bins)
    assert any(k.startswith("speed.") for b in bins for k in b.values)
    beats = [e for e in result.events if e.kind == "iot_heartbeat"]  # type: ignore[attr-defined]
    assert [e.object_id for e in beats if e.severity == "warning"] == ["e1.e1_E_app_0"]


def test_auto_placed_cameras_on_a_scenario_without_cameras(isolated_data_dir) -> None:  # type: ignore[no-untyped-def]
    config = RunConfig(scenario=GRID, end_s=240, bin_s=30)
    with pytest.raises(ConfigError, match="no \\[\\[cameras\\]\\]"):
        _run(config, DeviceNetworkSettings(cameras="truth"))
    cams, bins, _ = _run(config, DeviceNetworkSettings(cameras="truth", camera_placement="auto"))
    assert len(cams) >= 4 and all(d.device_id.startswith("cam.auto_") for d in cams)
    assert {b.device_id for b in bins} == {d.device_id for d in cams}
    _check_sums(bins)
    assert sum(_sum(b.values, "approach.") for b in bins) > 0
