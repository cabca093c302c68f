"""Camera-device health, judged on the 30-s bins a camera publishes (as the control center receives
them), at simulation rate; thresholds from ``config.CameraHealthSection`` (``[health.cameras]``).

Rules (docs/health.md):

- **frozen** (failed): the last ``frozen_bins`` bins (2 min) identical in every value — counts per
  class, approach and movement, queues, mean speeds — while traffic moves: the repeated bin counted a
  vehicle, or saw one and the loops on its approaches counted some. Real bins with traffic never
  repeat exactly (a mean speed to the mm/s); an empty approach's bins do, and are not evidence.
- **blackout** (failed): camera-versus-loop consistency. The last ``blackout_bins`` bins saw nothing
  (no crossing, no queue, no vehicle in view) while the stop-line loops of the approaches the camera
  covers counted ``blackout_loop_vehicles`` or more. A camera without loops on its approaches (or a
  bin whose interval the loops' bins do not match, a skewed clock) is judged against its own recent
  count rate instead (exponentially weighted over ``rate_tau_bins`` bins): ``blackout_expected``
  vehicles expected and none seen. At night and on a quiet approach the loops count few and the
  rate is low: nothing fires.
- **sequence gap** (suspect): a bin arrived whose sequence number skips some (lost messages); it
  clears after ``gap_clear_bins`` bins in order. Heartbeat loss is the control center's heartbeat
  watch (``iot.message_faults.HeartbeatWatch``), for cameras as for loops.
- **late** (suspect): ``timing_bins`` bins in a row arrived more than ``late_s`` after their end on
  the control center's clock (the end of the loops' latest bin, which the sensors layer hands over
  as it closes): latency, or a camera clock running behind (the two look alike from the center).
- **clock skew** (suspect): ``timing_bins`` bins in a row stamped more than ``skew_s`` ahead of that
  clock (a bin from the future), or ending more than ``skew_s`` off every loop bin's end (the
  devices share the loops' 30-s boundaries). Both timing rules clear with the first bin on time.

A bin that never arrives is no evidence either way. Changes are events (kind "detector", as for
loops: alarm when a camera fails, warning when it becomes suspect, info when it is back) and
:attr:`CameraHealthMonitor.changes` for the run store's ``detector_health`` table.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from trafficai.config import CameraHealthSection
from trafficai.core.events import Event
from trafficai.core.geometry import NetGeometry
from trafficai.sensors.camera_source import safe_name
from trafficai.sensors.health import FAILED, IN_SERVICE, OK, SUSPECT, DetectorHealth, HealthChange
from trafficai.sensors.readings import approaches

RULES = ("frozen", "blackout", "gap", "late", "clock")
SEVERITY = {FAILED: "alarm", SUSPECT: "warning", OK: "info"}


@dataclass(frozen=True, slots=True)
class CameraWatch:
    """One camera device and the stop-line loops (detector ids) of the approaches it covers."""

    camera: str  # the camera id (its device's source)
    covers: frozenset[str]  # approach edges, as bin name parts
    loops: tuple[str, ...] = ()


def camera_watches(
    cameras: Iterable[tuple[str, frozenset[str]]], geometry: NetGeometry
) -> tuple[CameraWatch, ...]:
    """Per (camera id, covered approaches), the stop-line loops of those approaches."""
    loops_of: dict[str, list[str]] = {}
    for approach in approaches(geometry):
        ids = [geometry.e1.ids[i] for i in approach.stop_line_loops]
        loops_of.setdefault(safe_name(approach.edge), []).extend(ids)
    return tuple(
        CameraWatch(camera, covers, tuple(sorted({d for a in covers for d in loops_of.get(a, ())})))
        for camera, covers in cameras
    )


# -- pure rules ------------------------------------------------------------------------------------


def crossings(values: Mapping[str, float]) -> float:
    """Vehicles a camera's bin counted (its approach counts summed)."""
    return float(sum(v for k, v in values.items() if k.startswith("approach.")))


def saw_anything(values: Mapping[str, float]) -> bool:
    """Whether a bin shows any vehicle: a crossing, a queue, or a speed (a vehicle in view)."""
    return crossings(values) > 0 or any(
        k.startswith("speed.") or (k.startswith("queue.") and v > 0) for k, v in values.items()
    )


def is_frozen(bins: Sequence[Mapping[str, float]], loop_vehicles: float, n: int) -> bool:
    """The last ``n`` bins identical while traffic moves (see the module docstring)."""
    if len(bins) < n:
        return False
    last = list(bins)[-n:]
    if any(dict(b) != dict(last[0]) for b in last[1:]):
        return False
    repeated = last[0]
    return saw_anything(repeated) and (crossings(repeated) > 0 or loop_vehicles > 0)


def is_blackout(
    bins: Sequence[Mapping[str, float]],
    evidence: float | None,
    expected: float,
    limits: CameraHealthSection,
    n: int,
) -> bool:
    """The last ``n`` bins saw nothing while the loops counted enough (``evidence``: their count over
    those bins, None: no loop evidence) or, without loops, the camera's own rate ``expected`` enough."""
    if len(bins) < n or any(saw_anything(b) for b in list(bins)[-n:]):
        return False
    if evidence is not None:
        return evidence >= limits.blackout_loop_vehicles
    return expected >= limits.blackout_expected


# -- the monitor -----------------------------------------------------------------------------------


@dataclass
class _Camera:
    watch: CameraWatch
    bins: deque[dict[str, float]]
    loops: deque[float | None]  # per bin: its loops' count (None: no loop evidence)
    max_seq: int = 0
    in_order: int = 0
    late: int = 0  # bins in a row that arrived late ...
    skewed: int = 0  # ... or stamped off the control center's clock
    num: float = 0.0  # weighted crossings ...
    den: float = 0.0  # ... per weighted bin: its own recent rate
    reasons: dict[str, str] = field(default_factory=dict)  # standing rule -> why


class CameraHealthMonitor:
    """Judges every camera device from the bins it publishes (:meth:`observe`, one bin at a time,
    in arrival order), with the loops' counts of the same intervals (:meth:`loop_bin`)."""

    def __init__(self, watches: Sequence[CameraWatch], limits: CameraHealthSection | None = None) -> None:
        self.limits = limits or CameraHealthSection()
        keep = max(self.limits.frozen_bins, self.limits.blackout_bins)
        self._cams = {w.camera: _Camera(w, deque(maxlen=keep), deque(maxlen=keep)) for w in watches}
        self._health = {w.camera: IN_SERVICE for w in watches}
        self._loop_bins: dict[float, Mapping[str, Mapping[str, float]]] = {}
        self._clock = -math.inf  # the end of the loops' latest bin: the control center's clock
        self.changes: list[HealthChange] = []

    def states(self) -> dict[str, DetectorHealth]:
        return dict(self._health)

    def loop_bin(self, t_end: float, readings: Mapping[str, Mapping[str, float]]) -> None:
        """The loops' readings of the bin ending at ``t_end`` (the same clock as the camera bins')."""
        self._loop_bins[round(t_end, 3)] = readings
        self._clock = max(self._clock, t_end)
        for old in sorted(self._loop_bins)[:-64]:
            del self._loop_bins[old]

    def _loop_count(self, cam: _Camera, t_end: float) -> float | None:
        readings = self._loop_bins.get(round(t_end, 3))
        if readings is None or not cam.watch.loops:
            return None
        return float(sum(readings.get(d, {}).get("count", 0.0) for d in cam.watch.loops))

    def observe(
        self, camera: str, seq: int, t_end: float, values: Mapping[str, float], now_s: float
    ) -> list[Event]:
        """One bin of ``camera`` arrived (``t_end``: its end on the devices' clock; ``now_s``:
        simulation time, for the events); the events of the health changes it makes."""
        cam = self._cams.get(camera)
        if cam is None:
            return []
        lim = self.limits
        if cam.max_seq and seq > cam.max_seq + 1:
            cam.reasons["gap"] = f"sequence gap: {seq - cam.max_seq - 1} bin(s) missing before bin {seq}"
            cam.in_order = 0
        elif seq > cam.max_seq:
            cam.in_order += 1
            if cam.in_order >= lim.gap_clear_bins:
                cam.reasons.pop("gap", None)
        cam.max_seq = max(cam.max_seq, seq)
        self._timing(cam, t_end)
        cam.bins.append(dict(values))
        cam.loops.append(self._loop_count(cam, t_end))
        self._judge(cam)
        if self._health[camera].state == OK:  # learn the camera's own rate from healthy bins
            keep = math.exp(-1.0 / lim.rate_tau_bins)
            cam.num, cam.den = cam.num * keep + crossings(values), cam.den * keep + 1.0
        return self._transition(cam, now_s)

    def _timing(self, cam: _Camera, t_end: float) -> None:
        """The late and clock-skew rules for a bin ending at ``t_end`` (device clock), against the
        control center's clock; no loop bin yet: no clock, no evidence."""
        if not math.isfinite(self._clock):
            return
        lim = self.limits
        lag = self._clock - t_end
        off = min((abs(t_end - k) for k in self._loop_bins), default=0.0)
        skewed = -lag > lim.skew_s or (lag <= lim.late_s and off > lim.skew_s)
        cam.late = cam.late + 1 if lag > lim.late_s else 0
        cam.skewed = cam.skewed + 1 if skewed else 0
        if cam.late >= lim.timing_bins:
            cam.reasons.setdefault(
                "late", f"late: bins arrive {lag:.0f} s after their end (latency, or its clock behind)"
            )
        elif cam.late == 0:
            cam.reasons.pop("late", None)
        if cam.skewed >= lim.timing_bins:
            what = f"{-lag:.0f} s ahead of" if -lag > lim.skew_s else f"{off:.0f} s off the loops' bins on"
            cam.reasons.setdefault("clock", f"clock skew: bins stamped {what} the control center's clock")
        elif cam.skewed == 0:
            cam.reasons.pop("clock", None)

    def _judge(self, cam: _Camera) -> None:
        lim = self.limits
        bins = list(cam.bins)
        frozen_loops = [x for x in list(cam.loops)[-lim.frozen_bins :] if x is not None]
        if is_frozen(bins, sum(frozen_loops), lim.frozen_bins):
            cam.reasons.setdefault("frozen", f"frozen: {lim.frozen_bins} identical bins while traffic moved")
        elif bins and len(bins) >= 2 and bins[-1] != bins[-2]:
            cam.reasons.pop("frozen", None)
        n = lim.blackout_bins
        recent = list(cam.loops)[-n:]
        evidence = (
            sum(x for x in recent if x is not None) if recent and all(x is not None for x in recent) else None
        )
        rate = cam.num / cam.den if cam.den > 0 else 0.0
        if is_blackout(bins, evidence, rate * n, lim, n):
            seen = f"its loops counted {evidence:.0f}" if evidence is not None else f"{rate * n:.1f} expected"
            cam.reasons.setdefault("blackout", f"blackout: nothing seen in {n} bins while {seen}")
        elif bins and saw_anything(bins[-1]):
            cam.reasons.pop("blackout", None)

    def _transition(self, cam: _Camera, now_s: float) -> list[Event]:
        camera = cam.watch.camera
        failed = [cam.reasons[r] for r in ("frozen", "blackout") if r in cam.reasons]
        suspect = [cam.reasons[r] for r in ("gap", "late", "clock") if r in cam.reasons]
        state = FAILED if failed else SUSPECT if suspect else OK
        reason = "; ".join(failed or suspect)
        old = self._health[camera]
        if state == old.state and (state == OK or reason == old.reason):
            return []
        health = DetectorHealth(state, reason, now_s)
        self._health[camera] = health
        self.changes.append(HealthChange(camera, health))
        message = f"camera {camera}: {reason}" if reason else f"camera {camera}: back to normal"
        return [Event(now_s, SEVERITY[state], "detector", message, camera, "system")]
