"""Injected device faults, reproducible by seed: what a faulty loop reports instead of the truth.

Loop faults (``config.LOOP_FAULT_KINDS``) act on the loop's readings in every snapshot the backend
hands out (:class:`FaultyBackend`), so every consumer — controllers, detector bins, devices,
health — sees the same faulty data, as in the field. Counts stay cumulative and never decrease.
Each fault is a pure function of the true reading, the reading at the fault's onset, the time since
onset, its ``param`` and a generator seeded by (run seed, fault index, step): the same run and
faults give the same readings however often snapshots are taken.

=========== =========================================================== ================
kind        what the loop reports                                       param (default)
=========== =========================================================== ================
stuck-on    occupancy 1, no vehicle counted, no speed (locked on)       -
stuck-off   occupancy 0, no vehicle counted, no speed (card off)        -
frozen      the values at onset, unchanged                              -
noise       occupancy + N(0, param), clipped to 0..1; speed x (1+N)     sigma (0.15)
bias        occupancy and the count since onset x (1 + param)           fraction (0.3)
chatter     param extra counts per 30 s (IRIS chatter: >= 38)           per 30 s (40)
spoofing    a plausible standing queue: occupancy param +- 0.05, a      occupancy (0.5)
            steady 0.25 veh/s, 3 m/s — a compromised device's lie
=========== =========================================================== ================

Camera faults (``config.CAMERA_FAULT_KINDS``: frozen, blackout) act on a camera device's bins where
its source makes them (``sensors/camera_faults.py``); this module only checks their devices.

Transport faults (``config.TRANSPORT_FAULT_KINDS``: dropout, latency, packet loss, clock skew,
heartbeat loss) act on a device's messages, not its readings: :func:`message_fate` says what
happens to one message; the device publisher applies it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np

from trafficai.config import CAMERA_FAULT_KINDS, LOOP_FAULT_KINDS, TRANSPORT_FAULT_KINDS, FaultSection
from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import DetectorArrays, Snapshot, frozen
from trafficai.errors import ConfigError
from trafficai.sim.backend import SimBackend

DEFAULT_PARAM = {
    "noise": 0.15,
    "bias": 0.3,
    "chatter": 40.0,
    "spoofing": 0.5,
    "packet-loss": 0.3,
    "latency": 60.0,
    "clock-skew": 120.0,
}
SPOOF_FLOW_VEH_S = 0.25
SPOOF_SPEED_M_S = 3.0


@dataclass(frozen=True, slots=True)
class LoopValue:
    count: int  # cumulative
    occupancy: float  # 0..1
    speed: float  # m/s; -1: no vehicle


def param_of(fault: FaultSection) -> float:
    return fault.param if fault.param is not None else DEFAULT_PARAM.get(fault.kind, 0.0)


def faulty_loop(
    kind: str, true: LoopValue, onset: LoopValue, elapsed_s: float, param: float, rng: np.random.Generator
) -> LoopValue:
    """What a loop with fault ``kind`` reports, ``elapsed_s`` after its onset (pure but for ``rng``)."""
    since = max(0, true.count - onset.count)
    if kind == "stuck-on":
        return LoopValue(onset.count, 1.0, -1.0)
    if kind == "stuck-off":
        return LoopValue(onset.count, 0.0, -1.0)
    if kind == "frozen":
        return onset
    if kind == "noise":
        occupancy = float(np.clip(true.occupancy + rng.normal(0.0, param), 0.0, 1.0))
        speed = true.speed * max(0.0, 1.0 + rng.normal(0.0, param)) if true.speed >= 0 else true.speed
        return LoopValue(true.count, occupancy, speed)
    if kind == "bias":
        occupancy = float(np.clip(true.occupancy * (1.0 + param), 0.0, 1.0))
        return LoopValue(onset.count + int(since * max(0.0, 1.0 + param)), occupancy, true.speed)
    if kind == "chatter":
        return LoopValue(true.count + int(elapsed_s * param / 30.0), true.occupancy, true.speed)
    if kind == "spoofing":
        occupancy = float(np.clip(param + rng.normal(0.0, 0.05), 0.0, 1.0))
        speed = max(0.0, SPOOF_SPEED_M_S + rng.normal(0.0, 0.5))
        return LoopValue(onset.count + int(elapsed_s * SPOOF_FLOW_VEH_S), occupancy, speed)
    return true  # a transport fault: the reading itself is right


def check_devices(
    faults: Sequence[FaultSection],
    geometry: NetGeometry,
    scenario: str = "",
    cameras: Collection[str] | None = (),
) -> None:
    """Every fault names a device of this run that can take its kind: a loop any loop or transport
    kind, an area detector a transport kind, a camera (``cameras``: the run's camera ids) a camera
    or transport kind (``config.CAMERA_FAULT_KINDS``); else one line naming the fault and some
    devices. ``cameras`` None: the run's cameras are not known yet, faults on devices that are not
    detectors are left to a later check (``runtime.lifecycle``)."""
    known = set(geometry.e1.ids) | set(geometry.e2.ids)
    where = f" of scenario {scenario}" if scenario else ""
    for fault in faults:
        if fault.device in known:
            if fault.kind in TRANSPORT_FAULT_KINDS or (
                fault.kind in LOOP_FAULT_KINDS and fault.device in geometry.e1.ids
            ):
                continue
        elif cameras is None:
            continue
        elif fault.device in cameras:
            if fault.kind in CAMERA_FAULT_KINDS or fault.kind in TRANSPORT_FAULT_KINDS:
                continue
            allowed = ", ".join(CAMERA_FAULT_KINDS + TRANSPORT_FAULT_KINDS)
            raise ConfigError(
                f"fault {fault.describe()}: camera {fault.device} takes {allowed}, not {fault.kind}"
            )
        if fault.device in known:
            what = "an area detector" if fault.device in geometry.e2.ids else "a loop"
            raise ConfigError(f"fault {fault.describe()}: {fault.kind} is not a fault of {what}{where}")
        sample = ", ".join(list(geometry.e1.ids)[:4]) or "none"
        more = ", ..." if len(geometry.e1.ids) > 4 else ""
        cams = f"; cameras: {', '.join(sorted(cameras)[:4])}" if cameras else ""
        raise ConfigError(
            f"fault {fault.describe()}: unknown device {fault.device!r}: not a loop detector"
            f"{' or camera' if cameras else ''}{where} (loops: {sample}{more}{cams})"
        )


class LoopFaults:
    """The faults of one run over its loops; :meth:`apply` turns true detector arrays faulty."""

    def __init__(
        self,
        faults: Sequence[FaultSection],
        geometry: NetGeometry,
        seed: int,
        begin_s: float,
        cameras: Collection[str] | None = (),
    ) -> None:
        self.geometry = geometry
        self.cameras = cameras  # the run's camera ids (None: checked elsewhere), see check_devices
        self._index = {det_id: i for i, det_id in enumerate(geometry.e1.ids)}
        self.seed = seed
        self.begin_s = begin_s
        self._onset: dict[int, LoopValue] = {}
        self.faults: tuple[FaultSection, ...] = ()
        self.loop_faults: list[tuple[int, FaultSection, int]] = []
        self.update(faults)

    def update(self, faults: Sequence[FaultSection]) -> None:
        """The run's faults from now on, all kinds (a live run adds faults at the end and ends them
        in place: each keeps its position ``n``, so its seed and its onset stay)."""
        check_devices(faults, self.geometry, cameras=self.cameras)
        self.faults = tuple(faults)
        self.loop_faults = [
            (n, f, self._index[f.device])
            for n, f in enumerate(self.faults)
            if f.kind in LOOP_FAULT_KINDS and f.device in self._index
        ]

    def apply(self, det: DetectorArrays, time_s: float, step: int) -> DetectorArrays:
        if not self.loop_faults or det.e1_count.size == 0:
            return det
        elapsed = time_s - self.begin_s
        counts = det.e1_count.copy()
        occupancy = det.e1_occupancy.copy()
        speed = det.e1_speed.copy()
        changed = False
        for n, fault, i in self.loop_faults:
            if not fault.active(elapsed):
                self._onset.pop(n, None)
                continue
            true = LoopValue(int(counts[i]), float(occupancy[i]), float(speed[i]))
            onset = self._onset.setdefault(n, true)
            rng = np.random.default_rng([self.seed, n, step])
            value = faulty_loop(fault.kind, true, onset, elapsed - fault.at, param_of(fault), rng)
            counts[i], occupancy[i], speed[i] = value.count, value.occupancy, value.speed
            changed = True
        if not changed:
            return det
        return replace(det, e1_count=frozen(counts), e1_occupancy=frozen(occupancy), e1_speed=frozen(speed))


class FaultyBackend:
    """A backend whose snapshots carry the injected loop faults; everything else is the backend's.

    Raw per-value readers (``value_reader``, used by some RL observations) bypass snapshots, so for
    E1 values they answer None while loop faults are configured and the caller reads snapshots.
    """

    def __init__(self, backend: SimBackend, faults: LoopFaults) -> None:
        self._backend = backend
        self._faults = faults

    @property
    def fault_plan(self) -> LoopFaults:
        return self._faults

    def snapshot(self, vehicles: bool = True, parts: frozenset[str] | None = None) -> Snapshot:
        snap = self._backend.snapshot(vehicles) if parts is None else self._backend.snapshot(vehicles, parts)
        faulty = self._faults.apply(snap.detectors, snap.time_s, self._backend.step)
        return snap if faulty is snap.detectors else replace(snap, detectors=faulty)

    def value_reader(self, kind: str, value: str) -> Any:
        if kind == "e1" and self._faults.loop_faults:
            return None
        return self._backend.value_reader(kind, value)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)


def with_faults(
    backend: SimBackend,
    faults: Sequence[FaultSection],
    seed: int,
    *,
    live: bool = False,
    cameras: Collection[str] | None = (),
) -> SimBackend:
    """``backend`` itself without loop faults, else wrapped so that its snapshots carry them;
    ``live`` (the GUI's run): always wrapped, so that faults can be injected while it runs
    (:func:`fault_plan`, ``LoopFaults.update``). ``cameras``: see :func:`check_devices`."""
    if not faults and not live:
        return backend
    check_devices(faults, backend.geometry, backend.scenario.name, cameras)
    plan = LoopFaults(faults, backend.geometry, seed, backend.scenario.begin_s, cameras)
    if not plan.loop_faults and not live:
        return backend
    return cast(SimBackend, FaultyBackend(backend, plan))


def fault_plan(backend: SimBackend) -> LoopFaults | None:
    """The injected faults a backend's snapshots carry (None: it was opened without them)."""
    plan = getattr(backend, "fault_plan", None)
    return plan if isinstance(plan, LoopFaults) else None


@dataclass(frozen=True, slots=True)
class MessageFate:
    """What happens to one message of a device: dropped, delayed, time-stamped wrong, or no heartbeat."""

    dropped: bool = False
    delay_s: float = 0.0
    clock_skew_s: float = 0.0
    heartbeat: bool = True


def message_fate(
    faults: Sequence[FaultSection], device: str, elapsed_s: float, seq: int, seed: int
) -> MessageFate:
    """The fate of message ``seq`` of ``device`` sent ``elapsed_s`` after the scenario's begin."""
    fate = MessageFate()
    for n, fault in enumerate(faults):
        if fault.device != device or not fault.active(elapsed_s):
            continue
        param = param_of(fault)
        if fault.kind == "dropout":
            fate = replace(fate, dropped=True, heartbeat=False)
        elif fault.kind == "packet-loss":
            if np.random.default_rng([seed, n, seq]).random() < param:
                fate = replace(fate, dropped=True)
        elif fault.kind == "latency":
            fate = replace(fate, delay_s=fate.delay_s + param)
        elif fault.kind == "clock-skew":
            fate = replace(fate, clock_skew_s=fate.clock_skew_s + param)
        elif fault.kind == "heartbeat-loss":
            fate = replace(fate, heartbeat=False)
    return fate
