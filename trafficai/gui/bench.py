"""``trafficai bench gui``: the control center with thousands of vehicles, measured (offscreen).

One simulation (``city`` with its demand scaled until at least ``min_vehicles`` are on the network)
runs in the worker; the main window is open and shown. Measurement alternates windows of the same
simulation, side by side in one run:

* headless: frames off, so the worker steps exactly as a headless run does (no vehicle reads);
* rendering: frames on, the map animates every vehicle; render FPS is the map's repaints per second.

``sim_ratio`` is simulation steps per second while rendering over steps per second headless, both
timed by the worker's own clock; ``max_stall_ms`` is the longest delay of a 10 ms heartbeat timer
in the GUI event loop beyond its interval (over the warm-up and all windows).
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QEventLoop, Qt, QTimer

from trafficai.errors import SimulationError
from trafficai.runtime.commands import Jump, Pause, Play, SetFrames
from trafficai.runtime.messages import Progress
from trafficai.runtime.worker_config import WorkerConfig

HEARTBEAT_MS = 10
WARMUP_STEP_S = 100.0
WARMUP_LIMIT_S = 100.0  # wall seconds at most to fill the network
SETTLE_S = 0.6


@dataclass
class Heartbeat:
    """Largest gap between timer ticks beyond the interval: how long the event loop was blocked."""

    interval_ms: int = HEARTBEAT_MS
    max_stall_ms: float = 0.0
    last: float = 0.0
    phase: str = "warmup"
    by_phase: dict[str, float] = field(default_factory=dict)
    gaps: list[float] = field(default_factory=list)
    timer: QTimer = field(default_factory=QTimer)

    def start(self) -> None:
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(self.interval_ms)
        self.timer.timeout.connect(self._tick)
        self.last = time.perf_counter()
        self.timer.start()

    def reset(self) -> None:
        self.last = time.perf_counter()

    def _tick(self) -> None:
        now = time.perf_counter()
        stall = (now - self.last) * 1000.0 - self.interval_ms
        self.max_stall_ms = max(self.max_stall_ms, stall)
        self.by_phase[self.phase] = max(self.by_phase.get(self.phase, 0.0), stall)
        self.gaps.append(stall)
        self.last = now


def _run_for(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def _wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.perf_counter() + timeout_s
    while not predicate():
        if time.perf_counter() > deadline:
            raise SimulationError(f"bench gui: timed out waiting for {what}")
        _run_for(0.02)


def bench_gui(
    scenario: str = "city",
    *,
    min_vehicles: int = 5000,
    demand_scale: float = 20.0,
    window_s: float = 6.0,
    rounds: int = 2,
    max_depart_delay_s: float = 30.0,
) -> dict[str, Any]:
    """Measure; returns fps, sim_ratio, max_stall_ms, vehicles and the details behind them."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from trafficai.gui.app import application
    from trafficai.gui.main_window import MainWindow

    app = application()
    config = WorkerConfig.for_scenario(
        scenario,
        speed=None,
        playing=False,
        frames=False,
        record=False,
        demand_scale=demand_scale,
        max_depart_delay_s=max_depart_delay_s,
        warnings=False,
    )
    window = MainWindow(config, user="bench")
    window.resize(1600, 1000)
    window.show()
    progress: list[Progress] = []
    errors: list[str] = []
    window.bridge.progress.connect(progress.append)
    window.bridge.failed.connect(errors.append)
    window.bridge.died.connect(errors.append)
    started = time.perf_counter()
    try:
        _wait_until(lambda: window.ready is not None or bool(errors), 120.0, "the simulation to load")
        if errors:
            raise SimulationError(f"bench gui: {errors[0]}")
        assert window.ready is not None
        app.processEvents()
        gc.freeze()
        beat = Heartbeat()
        beat.start()

        def latest() -> Progress | None:
            return progress[-1] if progress else None

        # fill the network, headless, in jumps of WARMUP_STEP_S simulated seconds
        end_s = window.ready.end_s
        warm_start = time.perf_counter()
        while True:
            last = latest()
            now_s = last.time_s if last is not None else window.ready.begin_s
            if last is not None and last.running >= min_vehicles:
                break
            if now_s >= end_s - 1 or time.perf_counter() - warm_start > WARMUP_LIMIT_S:
                break
            target = now_s + WARMUP_STEP_S
            count = len(progress)
            window.send(Jump(target, "bench"))

            def jumped(c: int = count, t: float = target) -> bool:
                done = len(progress) > c and progress[-1].busy == "" and progress[-1].time_s >= t - 1e-6
                return done or bool(errors)

            _wait_until(jumped, 120.0, "the warm-up jump")
            if errors:
                raise SimulationError(f"bench gui: {errors[0]}")
        warmup_wall = time.perf_counter() - warm_start

        def measure(frames: bool) -> tuple[float, float, int, int, float]:
            beat.phase = "rendering" if frames else "headless"
            window.send(SetFrames(frames))
            window.send(Play())
            _run_for(SETTLE_S)
            paints0 = window.map.paint_count
            shown0 = window.bridge.frames_shown
            first = len(progress)
            t0 = time.perf_counter()
            _run_for(window_s)
            wall = time.perf_counter() - t0
            paints = window.map.paint_count - paints0
            shown = window.bridge.frames_shown - shown0
            window.send(Pause())
            samples = progress[first:]
            if len(samples) < 2:
                raise SimulationError("bench gui: no progress from the worker during a window")
            a, b = samples[0], samples[-1]
            rate = (b.steps_total - a.steps_total) / max(b.wall_s - a.wall_s, 1e-9)
            vehicles = min(p.running for p in samples)
            _run_for(0.3)
            return rate, wall, paints, shown, float(vehicles)

        headless_rates: list[float] = []
        gui_rates: list[float] = []
        paints = shown = 0
        gui_wall = 0.0
        vehicles: list[float] = []
        for _ in range(max(1, rounds)):
            rate, _, _, _, veh = measure(False)
            headless_rates.append(rate)
            vehicles.append(veh)
            rate, wall, p, s, veh = measure(True)
            gui_rates.append(rate)
            vehicles.append(veh)
            paints += p
            shown += s
            gui_wall += wall
        headless = sum(headless_rates) / len(headless_rates)
        rendering = sum(gui_rates) / len(gui_rates)
        return {
            "fps": paints / gui_wall if gui_wall else 0.0,
            "sim_ratio": rendering / headless if headless else 0.0,
            "max_stall_ms": max(beat.max_stall_ms, 0.0),
            "max_stall_ms_by_phase": {k: round(v, 1) for k, v in beat.by_phase.items()},
            "stall_p99_ms": float(np.percentile(beat.gaps, 99)) if beat.gaps else 0.0,
            "vehicles": int(min(vehicles)),
            "scenario": window.ready.scenario,
            "demand_scale": demand_scale,
            "frames_per_s": shown / gui_wall if gui_wall else 0.0,
            "headless_steps_per_s": headless,
            "gui_steps_per_s": rendering,
            "window_s": window_s,
            "rounds": max(1, rounds),
            "warmup_s": warmup_wall,
            "sim_time_s": progress[-1].time_s if progress else 0.0,
            "total_s": time.perf_counter() - started,
        }
    finally:
        window.close()
        app.processEvents()
