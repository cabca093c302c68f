"""The training callbacks, one job each (stable-baselines3's ``BaseCallback``).

They share one :class:`TrainingLog` (episode returns, best, checkpoints, why training ended) that
:func:`trafficai.control.rl.training.train` reads when ``learn()`` returns, and report through one
``Report`` function (timesteps, kind, message, value) that turns the log into progress messages.
Imported only when training starts: this module loads stable-baselines3.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback, CallbackList

Report = Callable[[int, str, str, float | None], None]  # timesteps, kind, message, value
SaveFn = Callable[[Any, Path, int], None]  # model, path, timesteps


@dataclass
class TrainingLog:
    recent: deque[float] = field(default_factory=lambda: deque(maxlen=20))
    returns: list[float] = field(default_factory=list)
    episodes: int = 0
    best: float | None = None
    since_best: int = 0
    status: str = "completed"  # completed | early_stop | stopped
    checkpoints: list[Path] = field(default_factory=list)

    def mean_recent(self) -> float | None:
        return float(np.mean(self.recent)) if self.recent else None


class EpisodeReturns(BaseCallback):  # type: ignore[misc]
    """One episode of the simulation ends when every signal's agent has reported its return; the
    episode's value is their mean (the return per signal)."""

    def __init__(self, log: TrainingLog, n_signals: int, min_delta: float, report: Report) -> None:
        super().__init__(verbose=0)
        self.log, self.n_signals, self.min_delta, self.report = log, n_signals, min_delta, report
        self._agents: list[float] = []

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", ()):
            episode = info.get("episode")
            if episode is not None:
                self._agents.append(float(episode["r"]))
                if len(self._agents) == self.n_signals:
                    self._finish(float(np.mean(self._agents)))
                    self._agents = []
        return True

    def _finish(self, value: float) -> None:
        log = self.log
        log.episodes += 1
        log.recent.append(value)
        log.returns.append(value)
        self.logger.record("trafficai/episode_mean_return", value)
        if log.best is None or value > log.best + self.min_delta:
            log.best, log.since_best = value, 0
        else:
            log.since_best += 1
        self.report(self.num_timesteps, "episode", "", value)


class Checkpoints(BaseCallback):  # type: ignore[misc]
    """Saves the model every ``every`` timesteps and keeps the last ``keep``."""

    def __init__(
        self,
        log: TrainingLog,
        folder: Path,
        every: int,
        keep: int,
        start_steps: int,
        save: SaveFn,
        report: Report,
    ) -> None:
        super().__init__(verbose=0)
        self.log, self.folder, self.every, self.keep, self.save, self.report = (
            log,
            folder,
            every,
            keep,
            save,
            report,
        )
        self.next_at = (start_steps // every + 1) * every

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next_at:
            self.next_at += self.every
            path = self.folder / f"step_{self.num_timesteps}.zip"
            self.save(self.model, path, self.num_timesteps)
            self.log.checkpoints.append(path)
            while len(self.log.checkpoints) > self.keep:
                old = self.log.checkpoints.pop(0)
                old.unlink(missing_ok=True)
                old.with_suffix(".json").unlink(missing_ok=True)
            self.report(self.num_timesteps, "checkpoint", str(path), None)
        return True


class Progress(BaseCallback):  # type: ignore[misc]
    """A progress report at most every ``every_s`` wall seconds."""

    def __init__(self, report: Report, every_s: float = 0.5) -> None:
        super().__init__(verbose=0)
        self.report, self.every_s, self.last = report, every_s, 0.0

    def _on_step(self) -> bool:
        now = time.perf_counter()
        if now - self.last >= self.every_s:
            self.last = now
            self.report(self.num_timesteps, "progress", "", None)
        return True


class StopConditions(BaseCallback):  # type: ignore[misc]
    """Ends training when asked from outside, or after ``patience`` episodes without a better mean."""

    def __init__(
        self, log: TrainingLog, should_stop: Callable[[], bool] | None, patience: int | None, report: Report
    ) -> None:
        super().__init__(verbose=0)
        self.log, self.should_stop, self.patience, self.report = log, should_stop, patience, report

    def _on_step(self) -> bool:
        if self.should_stop is not None and self.should_stop():
            self.log.status = "stopped"
            self.report(self.num_timesteps, "stopped", "stop requested", None)
            return False
        if self.patience is not None and self.log.since_best >= self.patience:
            self.log.status = "early_stop"
            self.report(
                self.num_timesteps, "early_stop", f"no better mean return for {self.patience} episodes", None
            )
            return False
        return True


def training_callbacks(
    log: TrainingLog,
    *,
    n_signals: int,
    min_delta: float,
    checkpoint_folder: Path,
    checkpoint_every: int,
    keep_checkpoints: int,
    start_steps: int,
    save: SaveFn,
    should_stop: Callable[[], bool] | None,
    patience: int | None,
    report: Report,
) -> CallbackList:
    """In the order they must see each step: returns, then checkpoints, progress, stop."""
    return CallbackList(
        [
            EpisodeReturns(log, n_signals, min_delta, report),
            Checkpoints(
                log, checkpoint_folder, checkpoint_every, keep_checkpoints, start_steps, save, report
            ),
            Progress(report),
            StopConditions(log, should_stop, patience, report),
        ]
    )
