"""``trafficai incidents eval``: every incident detector measured against simulated ground truth.

Plan: per demand level, ``runs`` incident runs and as many incident-free runs with the same seeds
(evaluation seeds), plus ``tuning_runs`` of each on separate seeds. Each run blocks one lane at a
random time and place (``incident_runs.draw_incident``) and records every loop's 30 s bins; the
detectors are then replayed over the recordings for each detector spacing (subsets of the loops:
the scenario's stop-line loops only, or with mid-block loops every 200 m or 100 m).

Thresholds are tuned on the tuning runs only: for each detector, the setting of its grid that
detects most tuning incidents while staying within the false-alarm budget on the tuning
incident-free runs (all detectors at the same budget: the matched false-alarm rate). The
evaluation runs are then scored once with the chosen settings.

An alarm *detects* an incident when it comes between the incident's start and one minute after its
end, on a loop pair whose lanes include the blocked edge or an edge feeding it (the queue may have
spilled back). False alarms: every alarm after the warm-up in the incident-free runs, per
network-hour of evaluated time.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import pickle
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from trafficai.core.geometry import NetGeometry
from trafficai.core.scenario import resolve_scenario
from trafficai.runtime.eval_workers import nice_worker
from trafficai.runtime.incident_camera_eval import cameras_of, evaluate_cameras
from trafficai.runtime.incident_runs import (
    EXTRA_LOOP_PREFIX,
    QUEUE_SAMPLE_S,
    Recording,
    RunTask,
    derived_scenario,
    draw_camera_incident,
    draw_incident,
    simulate,
)
from trafficai.sensors.incident_detection import DETECTORS, Alarm, PairDetector, fit_held_bounds
from trafficai.sensors.loop_pairs import F64, LoopBin, LoopPair, loop_pairs
from trafficai.sim.net_loader import lane_successors

DETECT_GRACE_S = 60.0
SUSTAIN_S = 60.0  # the queue must cover the loop this long, without a break, to have "reached" it
EVAL_SEED0, TUNING_SEED0 = 1000, 50_000
DEMAND_LEVELS = (0.8, 1.0, 1.2)  # demand scale factors of every evaluation (and fit) by default
CAMERA_EVAL_SEED0, CAMERA_TUNING_SEED0 = 3000, 60_000

# the grids searched on the tuning runs (every other parameter: the detector's published default)
GRIDS: dict[str, dict[str, Sequence[Any]]] = {
    "california8": {
        "t1": (0.35, 0.5, 0.65),
        "t2": (0.5, 0.7, 0.85),
        "t3": (0.15, 0.3, 0.5),
        "persistence": (2, 3),
    },
    "fixed-threshold": {"occupancy": (0.6, 0.7, 0.8, 0.9), "speed": (1.0, 3.0), "persistence": (1, 2, 3)},
    "baseline-anomaly": {
        "z": (2.5, 3.0, 4.0),
        "min_occupancy": (0.2, 0.3),
        "down_excess": (0.05, 0.15),
        "persistence": (1, 2),
        "window": (2, 3),
    },
    "flow-balance": {
        "z": (2.5, 4.0, 99.0),  # 99: the input-output test alone
        "min_missing": (4.0, 6.0, 8.0, 12.0, 16.0),
        "drift": (0.5, 1.0, 2.0),
        "down_occupancy": (0.1, 0.2),
    },
    "held-vehicles": {
        "z": (2.5, 99.0),
        "min_missing": (8.0, 99.0),  # 99: the flow test off
        "held_margin": (0.5, 1.0, 2.0),
        "quiet_bins": (3, 4, 6),
    },
}
# every parameter not in the grid: the detector's default (flow-balance's queue test: baseline-anomaly's
# setting chosen on corridor, below)
FIXED: dict[str, dict[str, Any]] = {
    "flow-balance": {"min_occupancy": 0.2, "down_excess": 0.05, "persistence": 1, "window": 2},
    # held-vehicles: flow-balance's queue and flow tests as chosen on corridor's first tuning runs
    "held-vehicles": {
        "min_occupancy": 0.2,
        "down_excess": 0.05,
        "persistence": 1,
        "window": 2,
        "drift": 1.0,
        "down_occupancy": 0.1,
        "held_min": 1.0,
    },
}
# detectors with per-pair bounds fitted on the incident-free tuning runs (each of those runs scored,
# while tuning, with the bounds of the others)
FITTED = ("held-vehicles",)
UNFITTED = ("held_min", "held_margin", "quiet_bins")  # the bounds do not depend on these
BEST, BASELINES = "held-vehicles", ("california8", "fixed-threshold")


@dataclass(frozen=True, slots=True)
class EvalPlan:
    scenario: str
    levels: tuple[float, ...] = DEMAND_LEVELS
    runs: int = 40
    tuning_runs: int = 10
    duration_s: float = 1500.0
    warmup_s: float = 300.0
    incident_s: float = 600.0
    spacing_m: float = 100.0
    spacings: tuple[str, ...] = ("stop-line", "200 m", "100 m")
    fa_budget_per_hour: float = 0.5
    jobs: int = 2
    camera_runs: int = 8  # per level: incident runs with the stopped vehicle inside a camera's view


@dataclass
class Score:
    incidents: int = 0
    reached: int = 0  # incidents whose queue covered a loop of this spacing for SUSTAIN_S
    touched: int = 0  # incidents whose queue touched such a loop at least once (the old criterion)
    detected: int = 0
    detected_reached: int = 0
    ttd_s: list[float] = field(default_factory=list)
    false_alarms: int = 0
    network_hours: float = 0.0
    misses: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        """Count ``other``'s runs in this score too."""
        for name in ("incidents", "reached", "touched", "detected", "detected_reached", "false_alarms"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.network_hours += other.network_hours
        self.ttd_s += other.ttd_s
        self.misses += other.misses

    def summary(self) -> dict[str, Any]:
        return {
            "detection_rate": _ratio(self.detected_reached, self.reached),
            "detection_rate_all": _ratio(self.detected, self.incidents),
            "mttd_s": round(float(np.mean(self.ttd_s)), 1) if self.ttd_s else None,
            "false_alarms_per_network_hour": round(self.false_alarms / max(self.network_hours, 1e-9), 3),
            "incidents": self.incidents,
            "queue_reached_detector": self.reached,
            "queue_touched_detector": self.touched,
            "false_alarms": self.false_alarms,
            "network_hours": round(self.network_hours, 2),
        }


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 3) if b else None


# -- one spacing's view of the recordings ---------------------------------------------------------


class SpacingView:
    """The loops of one detector spacing and their pairs."""

    def __init__(
        self, name: str, geometry: NetGeometry, successors: Mapping[str, Sequence[str]], spacing_m: float
    ):
        self.name = name
        ids = geometry.e1.ids
        if name == "stop-line":
            keep = [i for i, d in enumerate(ids) if not d.startswith(EXTRA_LOOP_PREFIX)]
        elif name == "100 m":
            keep = list(range(len(ids)))
        else:  # every second mid-block loop: about 200 m
            keep = [
                i
                for i, d in enumerate(ids)
                if not d.startswith(EXTRA_LOOP_PREFIX) or int(d.rsplit("_", 1)[1]) % 2 == 0
            ]
        self.loops = np.array(keep, dtype=np.int64)
        self.pairs = loop_pairs(geometry, successors, keep)
        self.geometry, self.successors = geometry, successors
        self._feeders: dict[str, set[str]] = {}

    def affected_edges(self, lane: str) -> set[str]:
        """The blocked lane's edge and the edges up to two lanes upstream of it (queue spill-back)."""
        if lane not in self._feeders:
            edges_of = dict(zip(self.geometry.lanes.ids, self.geometry.lanes.edges, strict=True))
            preds: dict[str, set[str]] = {}
            for src, outs in self.successors.items():
                for out in outs:
                    preds.setdefault(out, set()).add(src)
            level, seen = {lane}, {lane}
            for _ in range(2):
                level = {p for x in level for p in preds.get(x, ())} - seen
                seen |= level
            self._feeders[lane] = {edges_of[x] for x in seen if x in edges_of}
        return self._feeders[lane]

    def reached_loop_note(self, rec: Recording) -> str:
        """For a missed incident: the peak occupancy, while the lane was blocked, of the loop the
        queue reached (the nearest loop of this spacing upstream of the block on its lane)."""
        inc = rec.task.incident
        if inc is None:
            return ""
        e1, lane_i = self.geometry.e1, self.geometry.lanes.index()[inc.target]
        upstream = [
            int(i)
            for i in self.loops
            if int(e1.lanes[i]) == lane_i and float(e1.positions[i]) < (inc.position or 0.0)
        ]
        if not upstream:
            return ""
        loop = max(upstream, key=lambda i: float(e1.positions[i]))
        blocked = (rec.end_s > inc.at) & (rec.end_s <= inc.at + (inc.duration or 0.0))
        peak = float(rec.occupancy[blocked, loop].max()) if blocked.any() else 0.0
        return f", loop {e1.ids[loop]} peak occupancy {peak:.2f}"

    def queue_reach_m(self, lane: str, position: float) -> float:
        """How long the blocked lane's standing queue must be to reach a loop of this spacing."""
        e1, lanes = self.geometry.e1, self.geometry.lanes
        lane_i = lanes.index()[lane]
        on_lane = [float(e1.positions[i]) for i in self.loops if int(e1.lanes[i]) == lane_i]
        upstream = [p for p in on_lane if p < position]
        return position - max(upstream) if upstream else position + 2.0


def replay(detector: PairDetector, rec: Recording) -> list[Alarm]:
    alarms: list[Alarm] = []
    for loop_bin in bins_of(rec):
        alarms += detector.update(loop_bin)
    return alarms


def score(
    view: SpacingView,
    make: Callable[[Sequence[LoopPair]], PairDetector],
    recs: Sequence[Recording],
    plan: EvalPlan,
) -> Score:
    out = Score()
    for rec in recs:
        alarms = replay(make(view.pairs), rec)
        inc = rec.task.incident
        if inc is None:
            out.false_alarms += sum(1 for a in alarms if a.time_s >= plan.warmup_s)
            out.network_hours += (plan.duration_s - plan.warmup_s) / 3600.0
            continue
        out.incidents += 1
        reach_m = view.queue_reach_m(inc.target, inc.position or 0.0)
        reached = sustained_s(rec.queue_samples, reach_m) >= SUSTAIN_S
        out.reached += reached
        out.touched += bool(rec.queue_samples.size) and float(rec.queue_samples.max()) >= reach_m
        edges = view.affected_edges(inc.target)
        end = inc.at + (inc.duration or plan.incident_s) + DETECT_GRACE_S
        hits = [
            a.time_s for a in alarms if inc.at <= a.time_s <= end and edges & set(view.pairs[a.pair].edges)
        ]
        if hits:
            out.detected += 1
            out.detected_reached += reached
            out.ttd_s.append(min(hits) - inc.at)
        elif reached:
            out.misses.append(
                f"seed {rec.task.seed} demand {rec.task.demand:g}: {inc.describe()} at {inc.position:g} m, "
                f"queue {rec.queue_m.max():.0f} m{view.reached_loop_note(rec)}"
            )
    return out


def sustained_s(queue_m: np.ndarray, reach_m: float, sample_s: float = QUEUE_SAMPLE_S) -> float:
    """The longest time (s) the queue samples stay at or beyond ``reach_m`` without a break."""
    longest = run = 0
    for covered in queue_m >= reach_m:
        run = run + 1 if covered else 0
        longest = max(longest, run)
    return longest * sample_s


def _settings(name: str) -> Iterator[dict[str, Any]]:
    grid = GRIDS[name]
    for values in itertools.product(*grid.values()):
        yield {**FIXED.get(name, {}), **dict(zip(grid.keys(), values, strict=True))}


Factory = Callable[[Sequence[LoopPair]], PairDetector]


def _factory(cls: type[PairDetector], setting: dict[str, Any]) -> Factory:
    def make(pairs: Sequence[LoopPair]) -> PairDetector:
        return cls(pairs, **setting)

    return make


def tune(
    view: SpacingView, name: str, recs: Sequence[Recording], plan: EvalPlan
) -> tuple[dict[str, Any], Score]:
    """The setting that detects most tuning incidents within the false-alarm budget (ties: the
    faster, then fewer false alarms); the strictest setting when none is within it. A fitted
    detector's per-pair bounds come from the incident-free tuning runs, and each of those runs
    is scored with the bounds fitted on the others (leave one out)."""
    cls = DETECTORS[name]
    maxima: dict[tuple[Any, ...], F64] = {}
    best: tuple[tuple[float, ...], dict[str, Any], Score] | None = None
    for setting in _settings(name):
        if name in FITTED:
            setting, s = _fitted_score(view, setting, recs, plan, maxima)
        else:
            s = score(view, _factory(cls, setting), recs, plan)
        far = s.false_alarms / max(s.network_hours, 1e-9)
        within = far <= plan.fa_budget_per_hour
        mttd = float(np.mean(s.ttd_s)) if s.ttd_s else 1e9
        key = (float(within), s.detected_reached if within else -far, -mttd, -far)
        if best is None or key > best[0]:
            best = (key, setting, s)
    assert best is not None
    return best[1], best[2]


def _fitted_score(
    view: SpacingView,
    setting: dict[str, Any],
    recs: Sequence[Recording],
    plan: EvalPlan,
    cache: dict[tuple[Any, ...], F64],
) -> tuple[dict[str, Any], Score]:
    """``setting`` with its per-pair bounds fitted on every incident-free run of ``recs``, and its
    score on ``recs``: the incident runs with those bounds, each incident-free run with the bounds
    of the others. Per run maxima do not depend on ``UNFITTED``: ``cache`` keeps them across those."""
    free_recs = [r for r in recs if r.task.incident is None]
    key = tuple(sorted((k, v) for k, v in setting.items() if k not in UNFITTED))
    if key not in cache:
        fits = [fit_held_bounds(view.pairs, setting, [bins_of(r)]) for r in free_recs]
        cache[key] = np.stack(fits) if fits else np.zeros((0, len(view.pairs), 1))
    per_run = cache[key]
    cls = DETECTORS["held-vehicles"]
    full = {**setting, "held_bounds": per_run.max(axis=0) if len(free_recs) else None}
    out = score(view, _factory(cls, full), [r for r in recs if r.task.incident is not None], plan)
    for i, rec in enumerate(free_recs):
        others = np.delete(per_run, i, axis=0)
        bounds = others.max(axis=0) if others.size else None
        out.add(score(view, _factory(cls, {**setting, "held_bounds": bounds}), [rec], plan))
    return full, out


def bins_of(rec: Recording) -> list[LoopBin]:
    return [
        LoopBin(float(rec.end_s[k]), rec.occupancy[k], rec.speed[k], rec.count[k])
        for k in range(len(rec.end_s))
    ]


def shown(setting: dict[str, Any]) -> dict[str, Any]:
    """A setting as reported: fitted per-pair bounds summarised, not listed."""
    out = {k: v for k, v in setting.items() if k != "held_bounds"}
    raw = setting.get("held_bounds")
    b = np.asarray(raw if raw is not None else [], dtype=np.float64)
    if b.size:
        out["held_bounds"] = (
            f"{b.shape[0]} pairs x {b.shape[1] if b.ndim > 1 else 1} quiet times, "
            f"median {np.median(b):.1f}, max {b.max():.1f} vehicles"
        )
    return out


# -- running --------------------------------------------------------------------------------------


def _cpu(t: os.times_result) -> float:
    return t.user + t.system + t.children_user + t.children_system


def plan_tasks(plan: EvalPlan, scenario_dir: str) -> tuple[list[RunTask], list[RunTask]]:
    """(tuning tasks, evaluation tasks): per level and seed an incident run and an incident-free one."""
    scenario = resolve_scenario(scenario_dir)
    start = (plan.warmup_s + 120.0, max(plan.warmup_s + 120.0, plan.duration_s - plan.incident_s - 60.0))
    out: tuple[list[RunTask], list[RunTask]] = ([], [])
    for which, (seed0, n) in enumerate(((TUNING_SEED0, plan.tuning_runs), (EVAL_SEED0, plan.runs))):
        for seed, level in level_seeds(seed0, n, plan.levels):
            inc = draw_incident(scenario, seed, start, plan.incident_s)
            out[which].append(RunTask(scenario_dir, seed, level, plan.duration_s, inc))
            out[which].append(RunTask(scenario_dir, seed, level, plan.duration_s, None))
    return out


def level_seeds(seed0: int, n: int, levels: Sequence[float]) -> Iterator[tuple[int, float]]:
    """(seed, demand level) of ``n`` runs per level: seeds ``seed0 + 100 x level index + i``
    (the incident-free tuning runs of ``plan_tasks`` are ``level_seeds(TUNING_SEED0, ...)``)."""
    for li, level in enumerate(levels):
        for i in range(n):
            yield seed0 + 100 * li + i, level


def camera_tasks(plan: EvalPlan, scenario_dir: str) -> tuple[list[RunTask], list[RunTask]]:
    """(tuning, evaluation) incident runs whose stopped vehicle stands inside a camera's view, for
    the camera detector only (its false alarms come from the incident-free runs): ``camera_runs``
    per level, half as many for tuning, on seeds of their own."""
    scenario = resolve_scenario(scenario_dir)
    if plan.camera_runs <= 0 or not scenario.cameras:
        return [], []
    start = (plan.warmup_s + 120.0, max(plan.warmup_s + 120.0, plan.duration_s - plan.incident_s - 60.0))
    out: tuple[list[RunTask], list[RunTask]] = ([], [])
    counts = ((CAMERA_TUNING_SEED0, max(1, plan.camera_runs // 2)), (CAMERA_EVAL_SEED0, plan.camera_runs))
    for which, (seed0, n) in enumerate(counts):
        for seed, level in level_seeds(seed0, n, plan.levels):
            inc = draw_camera_incident(scenario, seed, start, plan.incident_s)
            if inc is not None:
                out[which].append(RunTask(scenario_dir, seed, level, plan.duration_s, inc))
    return out


def _cache_name(task: RunTask) -> str:
    inc = f"{task.incident.describe()}@{task.incident.position}" if task.incident is not None else "none"
    key = f"{task.seed}-{task.demand:g}-{task.end_s:g}-{inc}"
    return hashlib.sha1(key.encode()).hexdigest()[:16] + ".pkl"


def run_tasks(tasks: Sequence[RunTask], jobs: int, cache: Path | None = None) -> list[Recording]:
    """Every task's recording, ``jobs`` processes at nice 10; with ``cache``, recordings already
    there are reused and new ones kept (an interrupted evaluation goes on where it stopped)."""
    done: dict[int, Recording] = {}
    todo = []
    for i, task in enumerate(tasks):
        path = cache / _cache_name(task) if cache is not None else None
        if path is not None and path.is_file():
            done[i] = pickle.loads(path.read_bytes())
        else:
            todo.append(i)

    def keep(i: int, rec: Recording) -> None:
        done[i] = rec
        if cache is not None:
            cache.mkdir(parents=True, exist_ok=True)
            (cache / _cache_name(tasks[i])).write_bytes(pickle.dumps(rec))

    if jobs <= 1:
        for i in todo:
            keep(i, simulate(tasks[i]))
    else:
        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn"), initializer=nice_worker) as pool:
            futures = {pool.submit(simulate, tasks[i]): i for i in todo}
            for future in as_completed(futures):
                keep(futures[future], future.result())
    return [done[i] for i in range(len(tasks))]


def evaluate(
    plan: EvalPlan, progress: Callable[[str], None] = lambda _: None, cache: Path | None = None
) -> dict[str, Any]:
    started = time.perf_counter()
    cpu0 = os.times()
    with tempfile.TemporaryDirectory(prefix="trafficai-incidents-") as tmp:
        folder = derived_scenario(plan.scenario, Path(tmp) / "scenario", plan.spacing_m)
        tuning_tasks, eval_tasks = plan_tasks(plan, str(folder))
        cam_tuning_tasks, cam_eval_tasks = camera_tasks(plan, str(folder))
        every = tuning_tasks + eval_tasks + cam_tuning_tasks + cam_eval_tasks
        progress(f"simulating {len(every)} runs on {plan.jobs} processes")
        recs = run_tasks(every, plan.jobs, cache)
        successors = lane_successors(resolve_scenario(str(folder)).net)
        cameras = cameras_of(str(folder))
    sim_s = time.perf_counter() - started
    n_tuning, n_eval, n_cam = len(tuning_tasks), len(eval_tasks), len(cam_tuning_tasks)
    tuning, evaluation = recs[:n_tuning], recs[n_tuning : n_tuning + n_eval]
    cam_tuning = recs[n_tuning + n_eval : n_tuning + n_eval + n_cam]
    cam_eval = recs[n_tuning + n_eval + n_cam :]
    geometry = recs[0].geometry
    result: dict[str, Any] = {"scenario": plan.scenario, "spacings": {}}
    for spacing in plan.spacings:
        view = SpacingView(spacing, geometry, successors, plan.spacing_m)
        rows: dict[str, Any] = {}
        for name in DETECTORS:
            setting, tuned = tune(view, name, tuning, plan)
            cls = DETECTORS[name]
            s = score(view, _factory(cls, setting), evaluation, plan)
            rows[name] = {
                **s.summary(),
                "setting": shown(setting),
                "tuning_false_alarms_per_network_hour": tuned.summary()["false_alarms_per_network_hour"],
                "misses": s.misses[:10],
            }
            progress(f"{spacing}: {name} {rows[name]['detection_rate']} {rows[name]['mttd_s']}")
        result["spacings"][spacing] = {
            "pairs": len(view.pairs),
            "loops": int(view.loops.size),
            "detectors": rows,
        }
    result["cameras"] = evaluate_cameras(
        cameras,
        [*tuning, *cam_tuning],
        [*evaluation, *cam_eval],
        plan.warmup_s,
        plan.duration_s,
        plan.fa_budget_per_hour,
    )
    headline = plan.spacings[-1]
    rows = result["spacings"][headline]["detectors"]
    result.update(
        headline_spacing=headline,
        best={
            "detector": BEST,
            **{k: rows[BEST][k] for k in ("detection_rate", "mttd_s", "false_alarms_per_network_hour")},
        },
        baselines={
            n: {k: rows[n][k] for k in ("detection_rate", "mttd_s", "false_alarms_per_network_hour")}
            for n in BASELINES
        },
        detection_rate=rows[BEST]["detection_rate"],
        mttd_s=rows[BEST]["mttd_s"],
        false_alarms_per_network_hour=rows[BEST]["false_alarms_per_network_hour"],
        runs={
            "tuning": len(tuning_tasks),
            "evaluation": len(eval_tasks),
            "levels": list(plan.levels),
            "camera_tuning": len(cam_tuning_tasks),
            "camera_evaluation": len(cam_eval_tasks),
        },
        simulated_s_per_run=plan.duration_s,
        wall_s=round(time.perf_counter() - started, 1),
        simulation_wall_s=round(sim_s, 1),
        cpu_s=round(_cpu(os.times()) - _cpu(cpu0), 1),
    )
    return result
