"""``trafficai vision eval``: detection on the held-out split, and a live run of a held-out scene
where every camera's counts, queues, speeds and track ids are compared with the simulator's truth.

The live run steps SUMO at the cameras' frame interval (so every frame has exact truth, nothing is
interpolated). True crossings are the vehicles' front bumpers passing each stop line, by the same
geometry the counter uses for tracks.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from trafficai.core.scenario import resolve_scenario
from trafficai.sensors.cameras import CameraSpec
from trafficai.sim.factory import open_backend
from trafficai.sim.sumo_command import SumoOptions
from trafficai.vision import metrics
from trafficai.vision.counting import CountLine, camera_lines, queue_lengths
from trafficai.vision.dataset import TEST_SCENARIO, labelled
from trafficai.vision.detect import Detector
from trafficai.vision.effects import CLEAR, Conditions, shaken
from trafficai.vision.loop_cameras import BLANK, BoxProjector
from trafficai.vision.pipeline import CameraPipeline, CameraReading, TruthDetector
from trafficai.vision.placement import scenario_cameras
from trafficai.vision.render import Frame, FrameTruth, Renderer
from trafficai.vision.scene import SHAPES, VehicleView, vehicle_view
from trafficai.vision.turning import Movements, movement_counts, signed_angle

INTERVAL_S = 300.0


@dataclass(frozen=True, slots=True)
class LivePlan:
    scenario: str = TEST_SCENARIO
    cameras: int = 2
    fps: float = 5.0
    warmup_s: float = 120.0
    duration_s: float = 600.0
    seed: int = 7
    conditions: Conditions = CLEAR


@dataclass(slots=True)
class _Tally:
    measured: list[tuple[str, float]] = field(default_factory=list)  # (camera/line, time)
    truth: list[tuple[str, float]] = field(default_factory=list)
    queue_errors: list[float] = field(default_factory=list)
    speed_errors: list[float] = field(default_factory=list)
    id_pairs: list[tuple[str, str]] = field(default_factory=list)  # (camera/track, camera/vehicle)
    track_dets: int = 0
    truth_dets: int = 0
    hota: metrics.HotaAccumulator = field(default_factory=metrics.HotaAccumulator)
    id_switches: dict[str, metrics.IdSwitches] = field(default_factory=dict)  # per camera
    last_motion: dict[tuple[str, int], tuple[float, float]] = field(default_factory=dict)  # heading
    measured_moves: list[tuple[str, int, str, float]] = field(default_factory=list)  # camera/line
    truth_moves: list[tuple[str, str, float]] = field(default_factory=list)  # (camera/line, move, t)


class TruthCrossings:
    """Front bumpers crossing the stop lines, from the simulator's positions."""

    def __init__(self, lines: tuple[CountLine, ...]) -> None:
        self.lines = lines
        self.last: dict[tuple[str, str], tuple[float, float]] = {}
        self.vehicles: list[str] = []  # the vehicle of each crossing of the last update, in order

    def update(self, view: VehicleView, time_s: float) -> list[tuple[str, float]]:
        found = []
        self.vehicles = []
        for line in self.lines:
            along, lateral = line.local(view.xy)
            for vid, s, lat in zip(view.ids, along, lateral, strict=True):
                key = (vid, line.name)
                previous = self.last.get(key)
                if line.lane_of(float(lat), 0.5) is None or s < -60 or s > 20:
                    continue
                if previous is not None and previous[1] < 0 <= s:
                    t0, s0 = previous
                    found.append((line.name, t0 + (time_s - t0) * (-s0 / (s - s0))))
                    self.vehicles.append(vid)
                self.last[key] = (time_s, float(s))
        return found


def _score_frame(tally: _Tally, reading: CameraReading, truth: FrameTruth, view: VehicleView) -> None:
    keep = labelled(truth)
    boxes, ids = truth.boxes[keep], [v for v, k in zip(truth.ids, keep, strict=True) if k]
    tally.truth_dets += len(ids)
    tally.track_dets += len(reading.tracks)
    track_ids = [t.id for t in reading.tracks]
    iou = metrics.box_iou(np.array([t.box for t in reading.tracks]).reshape(-1, 4), boxes)
    keyed = [f"{reading.camera}/{v}" for v in ids]  # a vehicle seen by two cameras: two tracks
    cam_tracks = [f"{reading.camera}/{t}" for t in track_ids]
    tally.hota.add(keyed, cam_tracks, iou.T)
    tally.id_switches.setdefault(reading.camera, metrics.IdSwitches()).add(ids, track_ids, iou.T)
    if not ids or not reading.tracks:
        return
    speed_of = dict(zip(view.ids, view.speed, strict=True))
    for r, track in enumerate(reading.tracks):
        c = int(np.argmax(iou[r]))
        if iou[r, c] < 0.5:
            continue
        tally.id_pairs.append((cam_tracks[r], keyed[c]))  # track ids are per camera
        speed = track.speed()
        if speed is not None:
            tally.speed_errors.append(speed - float(speed_of[ids[c]]))


def _record_moves(
    tally: _Tally,
    camera: str,
    lines: tuple[CountLine, ...],
    reading: CameraReading,
    real: list[tuple[str, float]],
    vehicles: list[str],
    routes: dict[str, tuple[str, ...]],
    backend: Any,
) -> None:
    """Keep each track's last motion, the measured crossings' tracks and the true crossings' exits."""
    for track in reading.tracks:
        tally.last_motion[(camera, track.id)] = (float(track.velocity[0]), float(track.velocity[1]))
    by_name = {line.name: line for line in lines}
    for c in reading.crossings:
        lane = by_name[c.line].lanes[c.lane]
        tally.measured_moves.append((f"{camera}/{c.line}", lane, str(c.track_id), c.time_s))
    for (name, time_s), vid in zip(real, vehicles, strict=True):
        if vid not in routes:
            routes[vid] = tuple(backend.vehicle_route(vid))
        route = routes[vid]
        at = route.index(name) + 1 if name in route else len(route)
        exit_edge = route[at] if at < len(route) else ""
        tally.truth_moves.append((f"{camera}/{name}", exit_edge, time_s))


def _turning(
    tally: _Tally, cams: list[tuple[CameraSpec, tuple[CountLine, ...]]], movements: Movements
) -> dict[str, Any]:
    """Counts per (camera/line, movement), measured against the routes, and their errors."""
    direction = {f"{c.id}/{line.name}": line.direction for c, lines in cams for line in lines}
    measured: list[tuple[str, str]] = []
    for key, lane, track, _t in tally.measured_moves:
        camera = key.split("/", 1)[0]
        v = tally.last_motion.get((camera, int(track)), (0.0, 0.0))
        heading = signed_angle(direction[key], v) if float(np.hypot(*v)) >= 1.0 else None
        measured.append((key, movements.of_crossing(lane, heading) or "unknown"))
    truth = [
        (key, movements.of_exit(key.split("/", 1)[1], exit_edge) or "unknown")
        for key, exit_edge, _ in tally.truth_moves
    ]
    m, t = movement_counts(measured), movement_counts(truth)
    keys = sorted(set(m) | set(t))
    errors = {k: abs(m.get(k, 0) - t.get(k, 0)) / t[k] for k in keys if t.get(k, 0) >= 10}
    return {
        "turning_counts": {k: {"measured": m.get(k, 0), "truth": t.get(k, 0)} for k in keys},
        "turning_wape": metrics.wape([m.get(k, 0) for k in keys], [t.get(k, 0) for k in keys]),
        "turning_max_error": max(errors.values()) if errors else None,
    }


def _queue_truth(lines: tuple[CountLine, ...], view: VehicleView) -> dict[tuple[str, int], float]:
    lengths = np.array([SHAPES[int(c)].length for c in view.classes])
    return queue_lengths(lines, view.xy, view.speed, lengths)


def _interval_counts(
    events: list[tuple[str, float]], keys: list[str], start: float, end: float
) -> list[float]:
    counts = []
    t = start
    while t + INTERVAL_S <= end + 1e-6:
        for key in keys:
            counts.append(float(sum(1 for k, s in events if k == key and t <= s < t + INTERVAL_S)))
        t += INTERVAL_S
    return counts


def _eval_cameras(
    scenario_cameras_: tuple[CameraSpec, ...], geometry: Any, n: int
) -> list[tuple[CameraSpec, tuple[CountLine, ...]]]:
    """The ``n`` approach cameras whose count lines have the most lanes (the arterial first)."""
    candidates = []
    for camera in scenario_cameras_:
        lines = camera_lines(geometry, camera)
        if lines and camera.id.startswith("auto_"):
            candidates.append((camera, lines))
    candidates.sort(key=lambda c: (-sum(len(line.lanes) for line in c[1]), c[0].id))
    return candidates[:n]


class _TruthFrames:
    """Ground-truth boxes without pixels, for a detector that reads the truth: the renderer's
    geometry and occlusion (``loop_cameras.BoxProjector``, identical boxes) at a fraction of the
    cost. Its reach covers every vehicle the renderer would draw."""

    def __init__(self, camera: CameraSpec) -> None:
        self.projector = BoxProjector(camera, reach=2.5)  # the renderer draws to 2.5 x range

    def render(self, view: VehicleView, conditions: Conditions, seed: int = 0) -> Frame:
        return Frame(BLANK, self.projector.boxes(view, conditions), conditions)


def _frames(
    camera: CameraSpec, geometry: Any, detector: Detector, conditions: Conditions
) -> Renderer | _TruthFrames:
    if isinstance(detector, TruthDetector) and not shaken(conditions):
        return _TruthFrames(camera)
    return Renderer(camera, geometry)


def evaluate_live(plan: LivePlan, detector: Detector) -> dict[str, Any]:
    """Run the held-out scene with ``detector`` on every chosen camera; the accuracy summary."""
    scenario = resolve_scenario(plan.scenario)
    step = 1.0 / plan.fps
    backend = open_backend(scenario, SumoOptions(seed=plan.seed, step_length_s=step, warnings=False))
    tally = _Tally()
    try:
        chosen = _eval_cameras(scenario_cameras(scenario, backend.geometry), backend.geometry, plan.cameras)
        cams = [(replace(c, frame_rate=plan.fps), lines) for c, lines in chosen]
        renderers = [_frames(c, backend.geometry, detector, plan.conditions) for c, _ in cams]
        pipes = [CameraPipeline(c, backend.geometry, detector, lines) for c, lines in cams]
        truths = [TruthCrossings(lines) for _, lines in cams]
        routes: dict[str, tuple[str, ...]] = {}
        movements = Movements(backend.geometry)
        start = scenario.begin_s + plan.warmup_s
        end = start + plan.duration_s
        while backend.time_s < end and backend.step < backend.end_step:
            backend.advance()
            t = backend.time_s
            snap = backend.snapshot(parts=frozenset())
            view = vehicle_view(snap.vehicles, snap.vehicle_types)
            for k, (camera, lines) in enumerate(cams):
                real = truths[k].update(view, t)
                if t < start:
                    continue
                frame = renderers[k].render(view, plan.conditions, seed=backend.step)
                reading = pipes[k].process(frame.image, t, frame.truth)
                tally.truth += [(f"{camera.id}/{name}", s) for name, s in real]
                tally.measured += [(f"{camera.id}/{c.line}", c.time_s) for c in reading.crossings]
                _record_moves(tally, camera.id, lines, reading, real, truths[k].vehicles, routes, backend)
                _score_frame(tally, reading, frame.truth, view)
                if backend.step % int(plan.fps) == 0:
                    true_q = _queue_truth(lines, view)
                    tally.queue_errors += [reading.queues_m[key] - true_q[key] for key in true_q]
        keys = sorted({f"{c.id}/{line.name}" for c, lines in cams for line in lines})
        summary = _summary(tally, keys, start, end, [c.id for c, _ in cams])
        summary.update(_turning(tally, cams, movements))
        return summary
    finally:
        backend.close()


def _summary(tally: _Tally, keys: list[str], start: float, end: float, cameras: list[str]) -> dict[str, Any]:
    measured = _interval_counts(tally.measured, keys, start, end)
    truth = _interval_counts(tally.truth, keys, start, end)
    gehs = metrics.geh_hourly(measured, truth)
    matched = metrics.match_events(tally.measured, tally.truth, 1.0)
    precision, recall, f1 = metrics.precision_recall_f1(matched, len(tally.measured), len(tally.truth))
    per_line: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for k, _ in tally.measured:
        per_line[k][0] += 1
    for k, _ in tally.truth:
        per_line[k][1] += 1
    return {
        "cameras": cameras,
        "lines": keys,
        "intervals": len(measured),
        "counts_measured": measured,
        "counts_truth": truth,
        "count_wape": metrics.wape(measured, truth),
        "count_mape": metrics.mape(measured, truth),
        "geh_lt5_rate": float(np.mean([g < 5 for g in gehs])) if gehs else None,
        "geh_lt3_rate": float(np.mean([g < 3 for g in gehs])) if gehs else None,
        "crossing_precision": precision,
        "crossing_recall": recall,
        "crossing_f1": f1,
        "crossings_per_line": {k: {"measured": v[0], "truth": v[1]} for k, v in sorted(per_line.items())},
        "queue_mae_m": float(np.mean(np.abs(tally.queue_errors))) if tally.queue_errors else None,
        "speed_rmse_mps": metrics.rmse(tally.speed_errors),
        "speed_median_abs_mps": metrics.median_abs(tally.speed_errors),
        "idf1": metrics.idf1(tally.id_pairs, tally.track_dets, tally.truth_dets),
        **_tracking(tally),
    }


def _tracking(tally: _Tally) -> dict[str, Any]:
    hota = tally.hota.result()
    switches = sum(s.switches for s in tally.id_switches.values())
    vehicles = sum(len(s.vehicles) for s in tally.id_switches.values())
    return {
        "hota": 100.0 * hota["hota"],
        "deta": 100.0 * hota["deta"],
        "assa": 100.0 * hota["assa"],
        "id_switches": switches,
        "id_switches_per_100": 100.0 * switches / vehicles if vehicles else None,
    }


def detection_metrics(
    weights: Path, data_yaml: Path, split: str = "test", imgsz: int = 320
) -> dict[str, float]:
    """mAP50 and mAP50-95 by ultralytics' validator on one split (no plots, offline)."""
    from trafficai.vision.offline import prepare_offline, settings_off

    prepare_offline()
    from ultralytics import YOLO  # type: ignore[attr-defined]

    settings_off()
    with tempfile.TemporaryDirectory(prefix="trafficai-val-") as scratch:  # not ultralytics' runs_dir
        result = YOLO(str(weights), task="detect").val(
            data=str(data_yaml),
            split=split,
            imgsz=imgsz,
            batch=16,
            plots=False,
            verbose=False,
            device="cpu",
            workers=0,
            project=scratch,
            name="val",
        )
    return {"map50": float(result.box.map50), "map50_95": float(result.box.map)}
