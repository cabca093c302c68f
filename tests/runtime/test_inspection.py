"""The worker's side of the inspector: Inspect adds a vehicle's route and delay, or a detector's
intervals, to the frames; frames say since when signal states were followed (jumps are gaps)."""

from __future__ import annotations

import pytest

from trafficai.runtime import commands as c
from trafficai.runtime import messages as m

pytestmark = pytest.mark.sumo


def test_inspected_details_come_with_the_frames(worker_factory) -> None:  # type: ignore[no-untyped-def]
    worker = worker_factory()
    worker.wait(lambda: bool(worker.of(m.Ready)), what="ready")
    ready = worker.of(m.Ready)[0]
    assert ready.timings["C"].cycle_s == 90.0  # the net file's program
    worker.handle.send(c.Jump(120.0))
    worker.wait(lambda: any(f.snapshot.time_s >= 120.0 for f in worker.of(m.SimFrame)), what="t=120")
    frame = worker.of(m.SimFrame)[-1]
    assert frame.inspected is None and frame.tracked_since_s == pytest.approx(120.0)  # after the jump
    vehicle = frame.snapshot.vehicles.ids[0]
    worker.handle.send(c.Inspect("vehicle", vehicle))
    worker.handle.send(c.Step(1))
    worker.wait(lambda: worker.of(m.SimFrame)[-1].inspected is not None, what="vehicle details")
    details = worker.of(m.SimFrame)[-1].inspected
    assert details.kind == "vehicle" and details.object_id == vehicle
    assert details.route and 0 <= details.route_index < len(details.route)
    assert details.time_loss_s >= 0.0
    loop = ready.geometry.e1.ids[0]
    worker.handle.send(c.Inspect("e1", loop))
    worker.handle.send(c.Step(1))
    worker.wait(lambda: worker.of(m.SimFrame)[-1].inspected.kind == "e1", what="detector details")
    intervals = worker.of(m.SimFrame)[-1].inspected.intervals
    assert [s.window_s for s in intervals] == [30.0, 300.0]
    assert intervals[0].volume is not None and intervals[1].volume >= intervals[0].volume
    worker.handle.send(c.Inspect("camera", "cam_C"))
    worker.wait(lambda: bool(worker.of(m.Refused)), what="refusal")
    assert "cannot inspect a 'camera'" in worker.of(m.Refused)[-1].message
