"""How fast the live simulation runs and how much of its time goes into frames.

* :class:`Rate` measures simulated seconds and steps per wall second (for the status bar).
* :class:`Pacer` holds a real-time factor: each step is due at ``anchor + simulated time / speed``;
  falling behind by more than a quarter second re-anchors instead of catching up in a burst.
* :class:`FrameBudget` decides when a frame is due: never more than ``MAX_UNACKED_FRAMES`` ahead of
  the client, at most ``max_fps``, and at most ``budget`` of the worker's time spent on frames,
  so the simulation keeps most of its speed however fast the client renders.
"""

from __future__ import annotations

import time
from collections import deque

MAX_UNACKED_FRAMES = 2
BEHIND_LIMIT_S = 0.25  # further behind than this: run on from here


class Rate:
    """Simulated seconds and steps per wall second over the last second or so."""

    def __init__(self) -> None:
        self.marks: deque[tuple[float, float, int]] = deque()

    def reset(self) -> None:
        self.marks.clear()

    def add(self, wall: float, sim_s: float, steps: int) -> None:
        if self.marks and wall - self.marks[-1][0] < 0.05:
            return
        self.marks.append((wall, sim_s, steps))
        while len(self.marks) > 2 and wall - self.marks[0][0] > 1.0:
            self.marks.popleft()

    def rates(self) -> tuple[float, float]:
        if len(self.marks) < 2:
            return 0.0, 0.0
        (w0, s0, n0), (w1, s1, n1) = self.marks[0], self.marks[-1]
        dt = w1 - w0
        return ((s1 - s0) / dt, (n1 - n0) / dt) if dt > 0 else (0.0, 0.0)


class Pacer:
    """Keeps simulated time at ``speed`` times wall time (``speed`` None: as fast as possible)."""

    def __init__(self, speed: float | None) -> None:
        self.speed = speed
        self.anchor_wall = 0.0
        self.anchor_sim = 0.0

    def reanchor(self, sim_s: float) -> None:
        """Count from here: ``sim_s`` is now."""
        self.anchor_wall = time.perf_counter()
        self.anchor_sim = sim_s

    def wait(self, now: float, sim_s: float, step_s: float) -> float:
        """Wall seconds until the step from ``sim_s`` (``step_s`` long) is due (0: due now)."""
        if self.speed is None:
            return 0.0
        wait = self.anchor_wall + (sim_s + step_s - self.anchor_sim) / self.speed - now
        if wait < -BEHIND_LIMIT_S:  # cannot keep up: run on from here instead of catching up
            self.reanchor(sim_s)
            return 0.0
        return max(0.0, wait)


class FrameBudget:
    """When the next frame is due, from the client's acknowledgements and the frames' cost."""

    def __init__(self, max_fps: float, budget: float) -> None:
        self.min_interval_s = 1.0 / max_fps
        self.budget = min(max(budget, 0.01), 1.0)
        self.cost_s = 0.0  # smoothed wall time one frame takes
        self.last_wall = 0.0
        self.last_end = 0.0
        self.last_step = -1
        self.dirty = True  # something changed that the client must see (a frame is due at once)

    def due(self, now: float, step: int, unacked: int) -> bool:
        if unacked >= MAX_UNACKED_FRAMES:
            return False  # the client has not taken the last ones: never queue more
        if self.dirty:
            return True
        if step == self.last_step or now - self.last_wall < self.min_interval_s:
            return False
        return now - self.last_end >= self.cost_s * (1.0 - self.budget) / self.budget

    def sent(self, started: float, ended: float, step: int) -> None:
        cost = ended - started
        self.cost_s = cost if self.cost_s == 0.0 else 0.8 * self.cost_s + 0.2 * cost
        self.last_wall = started
        self.last_end = ended
        self.last_step = step
        self.dirty = False
