"""The worker's side of the inspector: details of the one object the operator inspects, added to each
frame (a vehicle's route; a detector's last 30 s and 5 min), and the detector bins they come from.

The bins are a snapshot observer of the run (they see every sampled snapshot, during jumps too), so
the windows are right right after a jump; a vehicle's route is read once per frame while it is
inspected (it changes when SUMO reroutes it).
"""

from __future__ import annotations

from trafficai.core.events import Event
from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import Snapshot
from trafficai.errors import TrafficAIError
from trafficai.runtime.commands import INSPECT_KINDS, Inspect
from trafficai.runtime.messages import Inspected
from trafficai.sensors.intervals import WINDOWS_S, RecentDetectorBins
from trafficai.sim.backend import SimBackend

READ_FAILED = float("nan")


class Inspection:
    """What is inspected now, and the per-interval detector data of the running simulation."""

    def __init__(self) -> None:
        self.kind = ""
        self.object_id = ""
        self.bins: RecentDetectorBins | None = None

    def reset(self, geometry: NetGeometry) -> None:
        """A new simulation: bins from its start; the inspected object is kept (it may exist again)."""
        self.bins = RecentDetectorBins(geometry)

    def observe(self, snapshot: Snapshot) -> list[Event]:
        if self.bins is not None:
            self.bins.observe(snapshot)
        return []

    def set(self, command: Inspect) -> None:
        if command.kind and command.kind not in INSPECT_KINDS:
            known = ", ".join(INSPECT_KINDS)
            raise TrafficAIError(f"cannot inspect a {command.kind!r} (known: {known})")
        self.kind, self.object_id = command.kind, command.object_id if command.kind else ""

    def details(self, backend: SimBackend) -> Inspected | None:
        if not self.kind:
            return None
        if self.kind == "vehicle":
            return self._vehicle(backend)
        bins = self.bins
        stats = [bins.stats(self.object_id, w) for w in WINDOWS_S] if bins is not None else []
        return Inspected(self.kind, self.object_id, intervals=tuple(s for s in stats if s is not None))

    def _vehicle(self, backend: SimBackend) -> Inspected:
        vid = (self.object_id,)
        time_loss, index = READ_FAILED, -1
        try:
            route = backend.vehicle_route(self.object_id)
            loss = backend.value_reader("vehicle", "time_loss")
            where = backend.value_reader("vehicle", "route_index")
            if loss is not None and where is not None:
                time_loss, index = float(loss(vid)[0]), int(where(vid)[0])
        except Exception:  # SUMO's own error type: the vehicle arrived since the frame's vehicles were read
            route = ()
        return Inspected("vehicle", self.object_id, route=route, route_index=index, time_loss_s=time_loss)
