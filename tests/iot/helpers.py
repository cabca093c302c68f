"""Shared pieces of the iot tests: a small device inventory, a run in a fresh store."""

from __future__ import annotations

from pathlib import Path

from trafficai.iot.devices import Device, DeviceBin, by_id
from trafficai.storage import RunStore
from trafficai.storage.devices import DeviceStore

EPOCH = 1_704_067_200.0


def devices(n: int = 3) -> tuple[Device, ...]:
    return tuple(Device(f"e1.d{i}", "e1", f"d{i}", f"l{i}_0", f"J/l{i}", 10.0 * i, 5.0) for i in range(n))


def device_map(n: int = 3) -> dict[str, Device]:
    return by_id(devices(n))


def a_bin(device: str = "e1.d0", seq: int = 1, t_end: float = EPOCH + 30.0) -> DeviceBin:
    return DeviceBin(device, seq, t_end - 30.0, t_end, {"count": 4.0, "occupancy": 0.1, "speed": 12.5})


def new_run(path: Path) -> tuple[DeviceStore, str]:
    with RunStore(path) as store:
        run_id = store.create_run("fake", "fixed", 1, {})
    return DeviceStore(path), run_id
