"""``trafficai bench gui``: the control center with thousands of vehicles, measured (offscreen).

One simulation (``city`` with its demand scaled until at least ``min_vehicles`` are on the network)
runs in the worker; the main window is open and shown. Measurement interleaves windows of the same
simulation, ``repeat`` pairs of them (``runtime.bench_stats``), side by side in one run:

* headless: frames off, so the worker steps exactly as a headless run does (no vehicle reads);
* rendering: frames on, the map animates every vehicle; render FPS is the map's repaints per second.

``sim_ratio`` is simulation steps per second while rendering over steps per second headless, both
timed by the worker's own clock, one ratio per pair of windows, then their median and range; its
CPU counterpart compares steps per CPU second of the worker process (Linux ``/proc``), which other
jobs on the machine barely move. ``max_stall_ms`` is the longest delay of a 10 ms heartbeat timer
in the GUI event loop beyond its interval (over the warm-up and all windows).
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QEventLoop, Qt, QTimer

from trafficai.errors import SimulationError
from trafficai.runtime.bench_stats import DEFAULT_REPEAT, Spread, cpu_seconds_of, ratio_spread
from trafficai.runtime.commands import Jump, Pause, Play, SetFrames
from trafficai.runtime.messages import Progress
from trafficai.runtime.worker_config import WorkerConfig

if TYPE_CHECKING:
    from trafficai.gui.main_window import MainWindow

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


@dataclass(frozen=True, slots=True)
class Window:
    """One measurement window: the worker's rate, what the GUI painted and the CPU both spent."""

    steps_per_s: float  # by the worker's own clock
    wall_s: float
    paints: int
    frames: int
    vehicles: int
    worker_steps: int
    worker_cpu_s: float | None
    gui_cpu_s: float

    @property
    def steps_per_cpu_s(self) -> float | None:
        if self.worker_cpu_s is None or self.worker_cpu_s <= 0:
            return None
        return self.worker_steps / self.worker_cpu_s


@dataclass
class Session:
    """The shown main window with the worker's messages collected."""

    window: MainWindow
    progress: list[Progress] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def check(self) -> None:
        if self.errors:
            raise SimulationError(f"bench gui: {self.errors[0]}")

    def latest(self) -> Progress | None:
        return self.progress[-1] if self.progress else None


def _warm_up(session: Session, min_vehicles: int) -> float:
    """Fill the network, headless, in jumps of WARMUP_STEP_S simulated seconds; returns wall s."""
    window, progress = session.window, session.progress
    assert window.ready is not None
    end_s = window.ready.end_s
    warm_start = time.perf_counter()
    while True:
        last = session.latest()
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
            return done or bool(session.errors)

        _wait_until(jumped, 120.0, "the warm-up jump")
        session.check()
    return time.perf_counter() - warm_start


def _measure(session: Session, beat: Heartbeat, frames: bool, window_s: float) -> Window:
    window, progress = session.window, session.progress
    beat.phase = "rendering" if frames else "headless"
    window.send(SetFrames(frames))
    window.send(Play())
    _run_for(SETTLE_S)
    pid = window.bridge.pid
    paints0, shown0, first = window.map.paint_count, window.bridge.frames_shown, len(progress)
    before = session.latest()
    worker_cpu0 = cpu_seconds_of(pid) if pid is not None else None
    gui_cpu0, t0 = time.process_time(), time.perf_counter()
    _run_for(window_s)
    wall, gui_cpu = time.perf_counter() - t0, time.process_time() - gui_cpu0
    worker_cpu1 = cpu_seconds_of(pid) if pid is not None else None
    after = session.latest()
    paints, shown = window.map.paint_count - paints0, window.bridge.frames_shown - shown0
    window.send(Pause())
    samples = progress[first:]
    if len(samples) < 2 or before is None or after is None:
        raise SimulationError("bench gui: no progress from the worker during a window")
    a, b = samples[0], samples[-1]
    worker_cpu = None if worker_cpu0 is None or worker_cpu1 is None else worker_cpu1 - worker_cpu0
    _run_for(0.3)
    return Window(
        steps_per_s=(b.steps_total - a.steps_total) / max(b.wall_s - a.wall_s, 1e-9),
        wall_s=wall,
        paints=paints,
        frames=shown,
        vehicles=min(p.running for p in samples),
        worker_steps=after.steps_total - before.steps_total,
        worker_cpu_s=worker_cpu,
        gui_cpu_s=gui_cpu,
    )


def _all_known(values: list[float | None]) -> list[float] | None:
    known = [v for v in values if v is not None]
    return known if len(known) == len(values) else None


def _spread(values: list[float]) -> dict[str, float]:
    return Spread.of(values).as_dict()


def _summary(headless: list[Window], rendering: list[Window], beat: Heartbeat) -> dict[str, Any]:
    """The figures, each the median over the windows with its range under ``spreads``."""
    fps = [w.paints / w.wall_s for w in rendering]
    frames = [w.frames / w.wall_s for w in rendering]
    gui_load = [w.gui_cpu_s / w.wall_s for w in rendering]
    sim_ratio: dict[str, dict[str, float]] = {
        "wall": ratio_spread([w.steps_per_s for w in rendering], [w.steps_per_s for w in headless]).as_dict()
    }
    rendering_cpu = _all_known([w.steps_per_cpu_s for w in rendering])
    headless_cpu = _all_known([w.steps_per_cpu_s for w in headless])
    if rendering_cpu is not None and headless_cpu is not None:
        sim_ratio["cpu"] = ratio_spread(rendering_cpu, headless_cpu).as_dict()
    spreads: dict[str, Any] = {
        "fps": _spread(fps),
        "frames_per_s": _spread(frames),
        "sim_ratio": sim_ratio,
        "headless_steps_per_s": _spread([w.steps_per_s for w in headless]),
        "gui_steps_per_s": _spread([w.steps_per_s for w in rendering]),
        "gui_cpu_load": _spread(gui_load),
    }
    return {
        "fps": Spread.of(fps).median,
        "sim_ratio": sim_ratio["wall"]["median"],
        "sim_ratio_cpu": sim_ratio["cpu"]["median"] if "cpu" in sim_ratio else None,
        "max_stall_ms": max(beat.max_stall_ms, 0.0),
        "max_stall_ms_by_phase": {k: round(v, 1) for k, v in beat.by_phase.items()},
        "stall_p99_ms": float(np.percentile(beat.gaps, 99)) if beat.gaps else 0.0,
        "vehicles": int(min(w.vehicles for w in [*headless, *rendering])),
        "frames_per_s": Spread.of(frames).median,
        "headless_steps_per_s": Spread.of([w.steps_per_s for w in headless]).median,
        "gui_steps_per_s": Spread.of([w.steps_per_s for w in rendering]).median,
        "spreads": spreads,
    }


def bench_gui(
    scenario: str = "city",
    *,
    min_vehicles: int = 5000,
    demand_scale: float = 20.0,
    window_s: float = 6.0,
    rounds: int = DEFAULT_REPEAT,
    max_depart_delay_s: float = 30.0,
) -> dict[str, Any]:
    """Measure; returns fps, sim_ratio, max_stall_ms, vehicles and the details behind them.

    ``rounds`` pairs of windows, headless then rendering, each pair giving one ratio."""
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
    session = Session(window)
    window.bridge.progress.connect(session.progress.append)
    window.bridge.failed.connect(session.errors.append)
    window.bridge.died.connect(session.errors.append)
    started = time.perf_counter()
    try:
        _wait_until(lambda: window.ready is not None or bool(session.errors), 120.0, "the simulation to load")
        session.check()
        assert window.ready is not None
        app.processEvents()
        gc.freeze()
        beat = Heartbeat()
        beat.start()
        warmup_wall = _warm_up(session, min_vehicles)
        headless: list[Window] = []
        rendering: list[Window] = []
        for _ in range(max(1, rounds)):
            headless.append(_measure(session, beat, False, window_s))
            rendering.append(_measure(session, beat, True, window_s))
        last = session.latest()
        return {
            **_summary(headless, rendering, beat),
            "scenario": window.ready.scenario,
            "demand_scale": demand_scale,
            "window_s": window_s,
            "rounds": max(1, rounds),
            "warmup_s": warmup_wall,
            "sim_time_s": last.time_s if last is not None else 0.0,
            "total_s": time.perf_counter() - started,
        }
    finally:
        window.close()
        app.processEvents()
