"""Camera devices' 30-s bins: the :class:`CameraReadingSource` Protocol every camera source
implements, what a camera covers, and the per-bin tally both sources share.

A source watches a set of cameras (``CameraSpec``) and, per bin, reports for each camera:

============================  =======  =====================================================
name                          unit     what
============================  =======  =====================================================
``class.<class>``             count    vehicles of that class (car, van, truck, bus,
                                       motorcycle) that crossed a covered stop line
``approach.<edge>``           count    vehicles that crossed that approach's stop line
``movement.<edge>.<exit>``    count    of those, the ones that left by ``<exit>``
``queue.<edge>``              m        longest queue seen in the bin (stop line to the back
                                       of the last halted vehicle)
``speed.<edge>``              m/s      mean speed of the vehicles seen on the approach
============================  =======  =====================================================

Edge ids are written with :func:`safe_name` (``[A-Za-z0-9_]``, others as ``-xx``). Every crossing
counts once in its class and its approach; it counts in a movement when its exit is known (always
for the ``truth`` source; the ``vision`` source leaves out a crossing on a lane that serves no
movement), so per approach the movements sum to the approach count, and the classes sum to the
approaches. A camera *covers* the approaches it counts and the movements leaving them
(:class:`CameraCoverage`); the ingest drops a bin naming anything else.

Two sources: ``truth`` (``sensors.camera_truth``: the simulator's own vehicles) and ``vision`` (the
real perception pipeline, built in ``runtime.camera_sources`` so neither ``sensors`` nor ``iot``
imports ``vision``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import Snapshot
from trafficai.sensors.cameras import CameraSpec
from trafficai.sensors.vehicle_classes import CLASS_NAMES

_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def safe_name(raw: str) -> str:
    """``raw`` as one SenML name part: characters outside ``[A-Za-z0-9_]`` as ``-xx``."""
    return "".join(c if c in _SAFE else "".join(f"-{b:02x}" for b in c.encode()) for c in raw)


@dataclass(frozen=True, slots=True)
class CameraCoverage:
    """What one camera counts: approach edges and (approach, exit edge) movements (SUMO ids)."""

    approaches: tuple[str, ...] = ()
    movements: tuple[tuple[str, str], ...] = ()

    def names(self) -> tuple[frozenset[str], frozenset[str]]:
        """The covered approaches and movements as bin name parts (``edge``, ``edge.exit``)."""
        return (
            frozenset(safe_name(a) for a in self.approaches),
            frozenset(f"{safe_name(a)}.{safe_name(e)}" for a, e in self.movements),
        )


def junction_exits(geometry: NetGeometry, junction: str) -> dict[str, tuple[str, ...]]:
    """Per approach edge of a signalised junction, the edges its links lead to (sorted)."""
    exits: dict[str, set[str]] = {}
    edges = geometry.lanes.edges
    for signal in geometry.signals:
        if signal.id != junction:
            continue
        for link in signal.links:
            if link.in_lane >= 0 and link.out_lane >= 0:
                exits.setdefault(edges[link.in_lane], set()).add(edges[link.out_lane])
    return {a: tuple(sorted(e)) for a, e in exits.items()}


def coverage_of(geometry: NetGeometry, junction: str, approaches: Iterable[str]) -> CameraCoverage:
    """The coverage of a camera that counts ``approaches`` of ``junction``."""
    exits = junction_exits(geometry, junction)
    seen = tuple(sorted(set(approaches)))
    return CameraCoverage(seen, tuple((a, e) for a in seen for e in exits.get(a, ())))


class CameraReadingSource(Protocol):
    """Per-bin camera values from snapshots (with vehicles) of a running simulation."""

    name: str  # truth | vision
    firmware: str  # what the camera devices report as their firmware
    cameras: tuple[CameraSpec, ...]

    def coverage(self, camera: str) -> CameraCoverage: ...

    def sample(self, snapshot: Snapshot) -> None:
        """Look at one sampled snapshot (simulation time ``snapshot.time_s``)."""

    def close(self) -> dict[str, dict[str, float]]:
        """Per camera id, the values of the bin since the last close (names above)."""
        ...


@dataclass
class CameraTally:
    """One camera's bin being filled: crossings, queues and speeds per approach."""

    coverage: CameraCoverage
    classes: dict[str, int] = field(default_factory=dict)
    approach: dict[str, int] = field(default_factory=dict)
    movement: dict[tuple[str, str], int] = field(default_factory=dict)
    queue_m: dict[str, float] = field(default_factory=dict)
    speed_sum: dict[str, float] = field(default_factory=dict)
    speed_n: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.classes = {}
        self.approach = dict.fromkeys(self.coverage.approaches, 0)
        self.movement = dict.fromkeys(self.coverage.movements, 0)
        self.queue_m = dict.fromkeys(self.coverage.approaches, 0.0)
        self.speed_sum, self.speed_n = {}, {}

    def crossing(self, approach: str, exit_edge: str | None, cls: int) -> None:
        """A vehicle of class ``cls`` crossed ``approach``'s stop line, leaving by ``exit_edge``."""
        if approach not in self.approach:
            return
        name = CLASS_NAMES[cls] if 0 <= cls < len(CLASS_NAMES) else "car"
        self.classes[name] = self.classes.get(name, 0) + 1
        self.approach[approach] += 1
        if exit_edge is not None and (approach, exit_edge) in self.movement:
            self.movement[(approach, exit_edge)] += 1

    def queue(self, approach: str, metres: float) -> None:
        if approach in self.queue_m:
            self.queue_m[approach] = max(self.queue_m[approach], float(metres))

    def speeds(self, approach: str, total_mps: float, vehicles: int) -> None:
        if approach in self.approach and vehicles > 0:
            self.speed_sum[approach] = self.speed_sum.get(approach, 0.0) + float(total_mps)
            self.speed_n[approach] = self.speed_n.get(approach, 0) + int(vehicles)

    def close(self) -> dict[str, float]:
        """The bin's values (see the module docstring), and a fresh bin."""
        values = {f"class.{k}": float(v) for k, v in sorted(self.classes.items())}
        values.update({f"approach.{safe_name(a)}": float(v) for a, v in self.approach.items()})
        values.update(
            {f"movement.{safe_name(a)}.{safe_name(e)}": float(v) for (a, e), v in self.movement.items()}
        )
        values.update({f"queue.{safe_name(a)}": round(q, 2) for a, q in self.queue_m.items()})
        values.update(
            {f"speed.{safe_name(a)}": round(s / self.speed_n[a], 3) for a, s in self.speed_sum.items()}
        )
        self.reset()
        return values


def close_all(tallies: Mapping[str, CameraTally]) -> dict[str, dict[str, float]]:
    return {camera: tally.close() for camera, tally in tallies.items()}
