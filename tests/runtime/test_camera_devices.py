"""Camera devices over short real SUMO runs: each camera publishes one SenML camera bin per bin,
stored exactly once; its crossings per class and per turning movement sum to its approach counts;
auto-placed cameras work on a scenario without [[cameras]]; and a device under heartbeat loss is
reported by the control center."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.iot.mqtt_support import needs_mosquitto
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


@pytest.mark.mqtt
@needs_mosquitto
def test_certified_auto_cameras_publish_over_mosquitto_from_field_processes(  # type: ignore[no-untyped-def]
    isolated_data_dir, tmp_path: Path
) -> None:
    from tests.iot.mqtt_support import run_broker
    from trafficai.cli.iot import _scenario_devices
    from trafficai.iot.devices import CONTROL_CENTER
    from trafficai.iot.pki import init_pki

    ids = _scenario_devices("single")  # what `trafficai iot init DIR --scenario single` certifies
    cameras = [d for d in ids if d.startswith("cam.")]
    assert "cam.cam_C" in cameras and sum(d.startswith("cam.auto_C_") for d in cameras) == 4
    pki = init_pki(tmp_path / "pki", [CONTROL_CENTER, *ids])
    for broker in run_broker(pki, tmp_path):
        settings = DeviceNetworkSettings(
            True, "localhost", broker.port, pki.root, processes=2, strict=True,
            cameras="truth", camera_placement="auto",
        )  # fmt: skip
        cams, bins, result = _run(RunConfig(scenario="single", end_s=150, bin_s=30), settings)
    assert sorted(d.device_id for d in cams) == sorted(c for c in cameras if c.startswith("cam.auto_"))
    per_device: dict[str, list[int]] = {}
    for b in bins:
        per_device.setdefault(b.device_id, []).append(b.seq)
    assert {d: sorted(s) for d, s in per_device.items()} == {d.device_id: [1, 2, 3, 4, 5] for d in cams}
    _check_sums(bins)
    assert sum(_sum(b.values, "movement.") for b in bins) > 0
    dropped = [e.message for e in result.events if "dropped" in e.message]  # type: ignore[attr-defined]
    assert dropped[-1].endswith(", 0 message(s) dropped"), dropped


def _totals(bins: list[BinRow], prefix: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for b in bins:
        for k, v in b.values.items():
            if k.startswith(prefix):
                out[k] = out.get(k, 0.0) + v
    return out


def _wape(measured: Mapping[str, float], truth: Mapping[str, float]) -> float:
    keys = set(measured) | set(truth)
    return sum(abs(measured.get(k, 0.0) - truth.get(k, 0.0)) for k in keys) / max(sum(truth.values()), 1.0)


@pytest.mark.slow
def test_vision_camera_devices_agree_with_perfect_cameras(isolated_data_dir) -> None:  # type: ignore[no-untyped-def]
    """The perception pipeline (ground-truth boxes -> tracker -> LineCounter -> turning) against
    perfect cameras on the same run (same seed: devices do not change the simulation)."""
    pytest.importorskip("cv2")
    pytest.importorskip("lap")
    config = RunConfig(scenario="single", end_s=600, bin_s=30)
    _, truth, _ = _run(config, DeviceNetworkSettings(cameras="truth"))
    cams, vision, _ = _run(config, DeviceNetworkSettings(cameras="vision"))
    assert cams[0].firmware == "trafficai-vision-camera-1"
    _check_sums(vision)  # a crossing with no movement would break it: none on 'single'
    approaches = _totals(truth, "approach.")
    assert sum(approaches.values()) > 60
    wape = {p: _wape(_totals(vision, p), _totals(truth, p)) for p in ("approach.", "class.", "movement.")}
    print(f"crossings {sum(approaches.values()):.0f}; vision vs truth WAPE over the run: {wape}")
    assert wape["approach."] <= 0.10 and wape["class."] <= 0.10 and wape["movement."] <= 0.15
