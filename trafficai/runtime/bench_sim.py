"""``trafficai bench sim``: bare SUMO vs trafficai, side by side in one invocation.

(a) the ``sumo`` binary on the scenario, (b) trafficai stepping with a full snapshot every step:
every vehicle (position, angle, speed, lane, type, waiting), every lane (vehicles, halting,
occupancy, mean speed), every signal and the network counters, as numpy arrays, (c) trafficai
with a max-pressure controller observing every 5 simulated seconds through the safety layer.
Each variant's wall time includes loading the network, as the bare binary's does.
"""

from __future__ import annotations

import subprocess
import time
from typing import Any

from trafficai.control.baselines import MaxPressureController
from trafficai.control.loop import ControlLoop
from trafficai.core.scenario import resolve_scenario
from trafficai.core.snapshot import LANE_COUNTS, LANE_FLOW
from trafficai.errors import SimulationError
from trafficai.sim.factory import open_backend
from trafficai.sim.sumo_command import SumoOptions, sumo_args, sumo_binary

FULL_PARTS = frozenset({LANE_COUNTS, LANE_FLOW})


def _bare(args: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [str(sumo_binary("sumo")), *args, "--no-warnings", "true"], capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SimulationError(
            f"bare sumo failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr else proc.returncode}"
        )
    return elapsed


def bench_sim(name: str, end_s: float | None = None, repeat: int = 1) -> dict[str, Any]:
    scenario = resolve_scenario(name)
    options = SumoOptions(end_s=scenario.begin_s + end_s if end_s else None, extra=("--no-warnings", "true"))
    bare_opts = SumoOptions(end_s=options.end_s)
    args = sumo_args(scenario, bare_opts)
    bare, bare_lib, subscribed, full, control = [], [], [], [], []
    steps = max_vehicles = 0
    for _ in range(max(1, repeat)):
        bare.append(_bare(args))

        start = time.perf_counter()  # the ceiling: libsumo stepping, nothing read
        backend = open_backend(scenario, options, vehicles=False)
        while backend.step < backend.end_step:
            backend.advance()
        backend.close()
        bare_lib.append(time.perf_counter() - start)

        start = time.perf_counter()  # the ceiling of (b): SUMO evaluating vehicle subscriptions
        backend = open_backend(scenario, options, vehicles=True)
        while backend.step < backend.end_step:
            backend.advance()
        backend.close()
        subscribed.append(time.perf_counter() - start)

        start = time.perf_counter()
        backend = open_backend(scenario, options, vehicles=True)
        while backend.step < backend.end_step:
            backend.advance()
            snap = backend.snapshot(vehicles=True, parts=FULL_PARTS)
            max_vehicles = max(max_vehicles, len(snap.vehicles))
        steps = backend.step
        backend.close()
        full.append(time.perf_counter() - start)

        start = time.perf_counter()
        backend = open_backend(scenario, options, vehicles=False)
        loop = ControlLoop(backend, decision_interval_s=5.0)
        loop.assign(MaxPressureController())
        while backend.step < backend.end_step:
            loop.step()
        backend.close()
        control.append(time.perf_counter() - start)
    b, lib, sub, f, c = min(bare), min(bare_lib), min(subscribed), min(full), min(control)
    return {
        "scenario": scenario.name,
        "steps": steps,
        "max_vehicles": max_vehicles,
        "bare_s": b,
        "full_s": f,
        "control_s": c,
        "libsumo_only_s": lib,
        "ratio_libsumo_only": b / lib,
        "subscribed_only_s": sub,
        "ratio_subscribed_only": b / sub,
        "ratio_full": b / f,
        "ratio_control": b / c,
        "repeat": max(1, repeat),
    }
