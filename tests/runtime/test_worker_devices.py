"""The GUI worker runs the detectors as devices: their bins reach the run store, their events the
events list, and a DeviceStatus (inventory, status, bins, gaps, drops) reaches the window."""

from __future__ import annotations

import pytest

from trafficai.runtime import commands as c
from trafficai.runtime import messages as m
from trafficai.runtime.device_settings import DeviceNetworkSettings
from trafficai.storage.devices import DeviceStore

pytestmark = pytest.mark.sumo


def test_the_worker_publishes_device_status_and_stores_device_bins(worker_factory, isolated_data_dir) -> None:  # type: ignore[no-untyped-def]
    worker = worker_factory(record=True, bin_s=30, devices=DeviceNetworkSettings())
    worker.wait(lambda: worker.of(m.Ready), what="ready")
    run_id = worker.of(m.Ready)[0].run_id
    worker.handle.send(c.Jump(120.0))
    worker.wait(
        lambda: any(s.stored >= 8 * 3 for s in worker.of(m.DeviceStatus)), what="three bins of every device"
    )
    status = worker.of(m.DeviceStatus)[-1]
    assert (status.transport, status.broker, status.connected) == ("in-process", "", True)
    assert len(status.devices) == 8 and {d.state for d in status.devices} == {"online"}
    loop = next(d for d in status.devices if d.kind == "e1")
    assert loop.gaps == 0 and loop.drops == () and len(loop.history) == loop.stored
    assert dict(loop.latest).keys() >= {"count", "occupancy"}
    events = [e for msg in worker.of(m.Events) for e in msg.events if e.kind == "iot"]
    assert events[0].message == "devices: 8 on the in-process bus" and events[0].time_s == 0.0
    worker.handle.shutdown(5.0)
    with DeviceStore() as store:
        assert len(store.bins(run_id)) >= 8 * 4
        assert {d.status for d in store.devices(run_id)} == {"offline"}
