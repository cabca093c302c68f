"""Resume points of the live simulation: SUMO saves its state every few simulated minutes, so that
after a SUMO failure the operator can go on from the last saved state instead of from t=0.

What a resumed run has: SUMO's whole traffic state at the saved time (vehicles and their routes,
signal programs and phases, random number generators). What it has not: the operator's incidents
and overrides (they are listed in an event) and what the controllers had learnt; it is a new run in
the run store, its KPIs from the resume time on.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from trafficai.config import RunConfig
from trafficai.core.scenario import Scenario
from trafficai.sim.state_files import SavedState, latest_state
from trafficai.sim.sumo_command import StateSaving

STATE_PREFIX = "state"
PROC_FD = "/proc/self/fd"


class ResumePoints:
    """One folder per simulation started by a worker (``generation``), removed when the worker ends;
    only the folder resumed from is kept beside the current one."""

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self.root: Path | None = None
        self.dir_fd: int | None = None  # the current folder, open (see sumo_prefix)

    def saving(self, generation: int, keep: SavedState | None = None) -> StateSaving | None:
        """Where SUMO saves the states of ``generation`` (None: saving is off)."""
        if self.every_s <= 0:
            return None
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix="trafficai-states-"))
        folder = self.root / f"sim{generation}"
        kept = keep.path.parent if keep is not None else None
        for old in self.root.iterdir():
            if old != folder and old != kept:
                shutil.rmtree(old, ignore_errors=True)
        folder.mkdir(exist_ok=True)
        return StateSaving(self.sumo_prefix(folder) / STATE_PREFIX, self.every_s)

    def sumo_prefix(self, folder: Path) -> Path:
        """The folder as SUMO is told it: on Linux through a descriptor of this process
        (``/proc/self/fd/N``), so that a what-if branch forked from the live run
        (``runtime/whatif_fork.py``), which points N at a folder of its own, never writes or
        removes the live run's resume points; the files are ``folder``'s all the same."""
        self._close_dir()
        if not Path(PROC_FD).is_dir():
            return folder
        self.dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        return Path(PROC_FD) / str(self.dir_fd)

    def _close_dir(self) -> None:
        if self.dir_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.dir_fd)
            self.dir_fd = None

    def latest(self, generation: int) -> SavedState | None:
        if self.root is None:
            return None
        return latest_state(self.root / f"sim{generation}" / STATE_PREFIX)

    def close(self) -> None:
        self._close_dir()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None


def resumed(scenario: Scenario, run: RunConfig, state: SavedState) -> tuple[Scenario, RunConfig]:
    """The scenario beginning at the state's time (same end), and the run config with its end
    (counted from the begin) moved accordingly."""
    shift = state.time_s - scenario.begin_s
    later = replace(scenario, begin_s=state.time_s, duration_s=max(scenario.end_s - state.time_s, 1.0))
    if run.end_s is None:
        return later, run
    return later, run.model_copy(update={"end_s": max(run.end_s - shift, 1.0)})


def clock(time_s: float) -> str:
    """``HH:MM:SS`` of a simulation time."""
    total = round(time_s)
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"
