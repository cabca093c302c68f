"""How much a loop's count bias can be seen against its area detector (docs/benchmarks.md, *Count
bias*), and the count-bias rule replayed on recorded healthy runs with a synthetic bias.

    python scripts/bias_information.py SCENARIO [SEEDS] [NAME=VALUE[,NAME=VALUE] ...]

SEEDS: e.g. ``10-14`` (default; ``trafficai iot faults eval`` measures on 0..N-1, so these are not
the seeds it reports). Each further argument is one variant of the ``HealthSection`` count-bias
settings replayed beside the defaults (e.g. ``bias_history_vehicles=20``).

Per seed, one healthy fixed-time run records every sample's loop counts and the witness (E2 area
detector ending at each stop-line loop): its flow (vehicles x mean speed / length, the rule's
witness) and its departures at green (vehicles fewer than the sample before). Printed per loop:
vehicles per hour, and the spread (sd) of ``log(count / witness)`` per block of 15 witness vehicles
for both witnesses; a +30 % bias is 0.26.

The replay feeds ``sensors.health_bias.CountBiasTest`` the recorded samples of each loop, healthy,
and then with its counts scaled by 1 + b from seeded onsets in the run's second quarter (as the
``bias`` fault does: ``onset + int(since x (1 + b))``), b = +0.3 and -0.3; it prints recall, median
time to detect and false alarms per 100 healthy detector-hours. The traffic is the healthy run's
(fixed time: a fault does not change it), so this measures the rule, not the simulation.
"""

from __future__ import annotations

import math
import statistics
import sys

import numpy as np

from trafficai.config import HealthSection, RunConfig, SimConfig
from trafficai.control.registry import make_controller
from trafficai.core.scenario import resolve_scenario
from trafficai.runtime.lifecycle import RunLifecycle
from trafficai.sensors.health import _loop_links, could_move
from trafficai.sensors.health_bias import CountBiasTest, area_flow, witness_lengths
from trafficai.sensors.health_rules import area_witness

ONSETS = (0.25, 0.33, 0.42, 0.5)  # share of the run
BLOCK = 15.0


def record(scenario: str, seed: int) -> dict[str, np.ndarray]:
    """One healthy fixed-time run: per sample t, dt, hits, witness vehicles / speed / flow /
    departures at green (arrays samples x loops)."""
    spec = resolve_scenario(scenario)
    life = RunLifecycle(RunConfig(scenario=scenario, controller="fixed", sim=SimConfig(seed=seed)), spec)
    life.record(None, "fixed")
    rows: dict[str, list[np.ndarray]] = {k: [] for k in ("t", "hits", "vehicles", "speed", "flow", "dep")}
    try:
        backend = life.open(warnings=False).backend
        life.attach(make_controller("fixed"))
        geometry = backend.geometry
        witness = area_witness(geometry)
        lengths = witness_lengths(geometry, witness)
        links = _loop_links(geometry)
        idx = np.maximum(witness, 0)
        last: tuple[float, np.ndarray, np.ndarray] | None = None
        while backend.step < backend.end_step:
            snap, _ = life.step()
            if snap is None or snap.detectors.e1_count.size != len(geometry.e1):
                continue
            det = snap.detectors
            count = det.e1_count.astype(np.float64)
            vehicles = np.where(witness >= 0, det.e2_vehicles[idx], np.nan).astype(np.float64)
            speed = np.where(witness >= 0, det.e2_speed[idx], np.nan).astype(np.float64)
            if last is not None:
                t0, count0, vehicles0 = last
                dt = float(snap.time_s) - t0
                moving = could_move(len(geometry.e1), links, snap.signals.state)
                rows["t"].append(np.array([snap.time_s]))
                rows["hits"].append(count - count0)
                rows["vehicles"].append(vehicles)
                rows["speed"].append(speed)
                rows["flow"].append(area_flow(dt, vehicles, speed, lengths))
                left = np.nan_to_num(np.maximum(vehicles0 - vehicles, 0.0))
                rows["dep"].append(np.where(moving, left, 0.0))
            last = (float(snap.time_s), count, vehicles)
    finally:
        life.close_simulation()
    out = {k: np.array(v) for k, v in rows.items()}
    out["t"] = out["t"][:, 0]
    out["dt"] = np.diff(np.concatenate([[out["t"][0] - 5.0], out["t"]]))
    out["ids"] = np.array(geometry.e1.ids)
    out["length"] = lengths
    return out


def block_spread(hits: np.ndarray, witness: np.ndarray) -> float:
    xs, h, w = [], 0.0, 0.0
    for a, b in zip(hits, witness, strict=True):
        h, w = h + a, w + b
        if w >= BLOCK:
            xs.append(math.log((h + 0.5) / (w + 0.5)))
            h = w = 0.0
    return float(np.std(xs)) if len(xs) >= 2 else math.nan


def biased(hits: np.ndarray, k0: int, b: float) -> np.ndarray:
    out = hits.copy()
    reported = np.floor(np.cumsum(hits[k0:]) * max(0.0, 1.0 + b))
    out[k0:] = np.diff(np.concatenate([[0.0], reported]))
    return out


def first_alarm(run: dict[str, np.ndarray], i: int, hits: np.ndarray, limits: HealthSection) -> float | None:
    """When CountBiasTest flags loop ``i`` fed these counts (None: never)."""
    test = CountBiasTest.__new__(CountBiasTest)  # one loop, no geometry: only its per-loop state
    test.n, test.limits = 1, limits
    test.length = run["length"][i : i + 1]
    test.reset()
    healthy = np.ones(1, dtype=bool)
    for k, t in enumerate(run["t"]):
        vehicles, speed = run["vehicles"][k, i : i + 1], run["speed"][k, i : i + 1]
        if test.sample(float(run["dt"][k]), hits[k : k + 1].astype(np.int64), vehicles, speed, healthy)[0]:
            return float(t)
    return None


def replay(runs: list[dict[str, np.ndarray]], limits: HealthSection, b: float) -> tuple[float, float, float]:
    found, trials, ttd, alarms, hours = 0, 0, [], 0, 0.0
    for run in runs:
        t = run["t"]
        for i in range(run["hits"].shape[1]):
            if not np.isfinite(run["vehicles"][:, i]).any():
                continue
            hours += (t[-1] - t[0]) / 3600.0
            alarms += first_alarm(run, i, run["hits"][:, i], limits) is not None
            for share in ONSETS:
                k0 = int(share * len(t))
                trials += 1
                at = first_alarm(run, i, biased(run["hits"][:, i], k0, b), limits)
                if at is not None and at >= t[k0]:
                    found += 1
                    ttd.append(at - t[k0])
    median = statistics.median(ttd) if ttd else math.nan
    return found / max(trials, 1), median, 100.0 * alarms / max(hours, 1e-9)


def main(argv: list[str]) -> None:
    scenario = argv[0]
    seeds_text = argv[1] if len(argv) > 1 and "=" not in argv[1] else "10-14"
    lo, _, hi = seeds_text.partition("-")
    seeds = range(int(lo), int(hi or lo) + 1)
    variants: list[dict[str, float]] = [{}]
    for arg in (a for a in argv[1:] if "=" in a):
        variants.append({k: float(v) for k, v in (p.split("=", 1) for p in arg.split(","))})
    runs = [record(scenario, s) for s in seeds]
    print(f"{scenario}, seeds {seeds_text}: sd of log(count / witness) per {BLOCK:.0f}-vehicle block")
    print(f"{'loop':<14} {'veh/h':>6} {'flow':>6} {'departures':>10}")
    for i, loop in enumerate(runs[0]["ids"]):
        per_h = np.mean([r["hits"][:, i].sum() / ((r["t"][-1] - r["t"][0]) / 3600.0) for r in runs])
        flow = np.nanmean([block_spread(r["hits"][:, i], r["flow"][:, i]) for r in runs])
        dep = np.nanmean([block_spread(r["hits"][:, i], r["dep"][:, i]) for r in runs])
        print(f"{loop:<14} {per_h:6.0f} {flow:6.2f} {dep:10.2f}")
    for overrides in variants:
        limits = HealthSection().model_copy(update=overrides)
        print(f"replay of the count-bias rule, {overrides or 'defaults'}:")
        for b in (0.3, -0.3):
            recall, ttd, fa = replay(runs, limits, b)
            print(f"  bias {b:+.0%}: recall {recall:.1%}, median TTD {ttd:.0f} s, {fa:.1f} FA per 100 h")


if __name__ == "__main__":
    main(sys.argv[1:])
