"""With perfect cameras, a headless run's cameras are devices: each publishes one SenML camera bin
per bin (counts per class and approach, queue in metres), stored exactly once; and a device under
heartbeat loss is reported by the control center."""

from __future__ import annotations

import pytest

from trafficai.config import RunConfig, parse_fault
from trafficai.runtime.device_settings import DeviceNetworkSettings
from trafficai.runtime.session import run_headless
from trafficai.storage import RunStore
from trafficai.storage.devices import DeviceStore

pytestmark = pytest.mark.sumo


def test_a_headless_run_with_cameras_stores_each_camera_bin_once(isolated_data_dir) -> None:  # type: ignore[no-untyped-def]
    config = RunConfig(
        scenario="single", end_s=300, bin_s=30, faults=(parse_fault("e1_E_app_0:heartbeat-loss@60"),)
    )
    with RunStore() as store:
        result = run_headless(config, store, devices=DeviceNetworkSettings(cameras=True))
        path = store.path
    with DeviceStore(path) as devices:
        cams = [d for d in devices.devices(result.run_id) if d.kind == "camera"]
        bins = [b for b in devices.bins(result.run_id) if b.device_id.startswith("cam.")]
        seqs = devices.seqs(result.run_id)
    assert [d.device_id for d in cams] == ["cam.cam_C"] and cams[0].approach.startswith("C/")
    assert [b.seq for b in bins] == list(range(1, 11))  # 300 s in 30-s bins, each once
    assert seqs["cam.cam_C"] == list(range(1, 11))
    assert sum(v for b in bins for k, v in b.values.items() if k.startswith("class.")) > 0
    assert all(any(k.startswith("queue.") for k in b.values) for b in bins)
    beats = [e for e in result.events if e.kind == "iot_heartbeat"]
    assert [e.object_id for e in beats if e.severity == "warning"] == ["e1.e1_E_app_0"]
