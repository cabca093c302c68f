"""Training in a child process, watched and stopped from another (the GUI's training panel).

    job = TrainingJob(config)          # a TrainConfig
    job.start()
    ...                                # on a timer:
    for message in job.poll():         # progress / episode / checkpoint / finished / failed ...
        ...
    job.stop()                         # asks training to stop at the next step; the model is saved

The child runs :func:`trafficai.control.rl.training.train` and reports through a queue; nothing
of torch or SUMO is loaded in the parent, which never blocks (``poll`` does not wait). Messages
are small picklable :class:`JobMessage` objects; the last one is always ``finished`` or ``failed``
(``failed`` also when the child dies without a word, e.g. killed by the OS).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import queue
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trafficai.control.rl.config import TrainConfig
from trafficai.errors import TrafficAIError
from trafficai.runtime.logs import configure_logging
from trafficai.runtime.logs import log_level as _level
from trafficai.storage.paths import default_data_dir

logger = logging.getLogger(__name__)
TRAINING_LOG = "training.log"  # in the training's output folder, beside its checkpoints

TERMINAL_KINDS = frozenset({"finished", "failed"})


@dataclass(frozen=True, slots=True)
class JobMessage:
    kind: str  # progress | episode | checkpoint | early_stop | stopped | finished | failed
    timesteps: int = 0
    total: int = 0
    episodes: int = 0
    mean_return: float | None = None
    episode_return: float | None = None
    fps: float = 0.0
    elapsed_s: float = 0.0
    message: str = ""
    model_path: str = ""
    status: str = ""  # finished: completed | early_stop | stopped
    log_path: str = ""  # failed: the job's log file, with the details


def _job_main(config_json: str, resume: str | None, messages: Any, stop: Any, level: str = "INFO") -> None:
    try:
        config = TrainConfig.model_validate_json(config_json)
    except ValueError as exc:  # the parent validated it: only a version mismatch gets here
        messages.put(JobMessage("failed", message=f"invalid training config: {exc}"))
        return
    log = configure_logging(level, Path(config.out).expanduser() / TRAINING_LOG)
    log_path = str(log) if log is not None else ""
    logger.info("training %s on %s started (output %s)", config.algo, config.env.scenario, config.out)
    try:
        from trafficai.control.rl.training import TrainProgress, train

        def report(p: TrainProgress) -> None:
            messages.put(
                JobMessage(
                    p.kind,
                    p.timesteps,
                    p.total,
                    p.episodes,
                    p.mean_return,
                    p.episode_return,
                    p.fps,
                    p.elapsed_s,
                    p.message,
                )
            )

        result = train(
            config, resume=Path(resume) if resume else None, on_progress=report, should_stop=stop.is_set
        )
        messages.put(
            JobMessage(
                "finished",
                result.timesteps,
                config.timesteps,
                len(result.returns),
                result.best_mean_return,
                None,
                0.0,
                result.wall_s,
                f"model saved to {result.model_path}",
                str(result.model_path),
                result.status,
            )
        )
        logger.info("training finished: %s", result.status)
    except TrafficAIError as exc:
        logger.error("training failed: %s", exc)
        messages.put(JobMessage("failed", message=str(exc), log_path=log_path))
    except BaseException as exc:  # reported, never silent
        logger.exception("training stopped by an unexpected error")
        where = traceback.format_exc(limit=3).strip().splitlines()[-1]
        messages.put(
            JobMessage("failed", message=f"{type(exc).__name__}: {exc} ({where})", log_path=log_path)
        )


class TrainingJob:
    def __init__(self, config: TrainConfig, resume: Path | None = None, log_level: str | None = None) -> None:
        self.config = config
        self.resume = resume
        self.log_level = _level(log_level)
        self._context = mp.get_context("spawn")
        self._messages: Any = self._context.Queue()
        self._stop: Any = self._context.Event()
        self._process: Any = None
        self._done = False
        self.last: JobMessage | None = None

    def start(self) -> None:
        if self._process is not None:
            raise TrafficAIError("this training job was started already")
        self._process = self._context.Process(
            target=_job_main,
            args=(
                self.config.model_dump_json(),
                str(self.resume) if self.resume else None,
                self._messages,
                self._stop,
                self.log_level,
            ),
            name="trafficai-training",
            daemon=False,
        )
        self._process.start()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def poll(self) -> list[JobMessage]:
        """Every message that arrived since the last call (never blocks)."""
        out: list[JobMessage] = []
        while True:
            try:
                out.append(self._messages.get_nowait())
            except queue.Empty:
                break
        if any(m.kind in TERMINAL_KINDS for m in out):
            self._done = True
        elif not self._done and self._process is not None and not self._process.is_alive():
            try:  # the child may have put its last message just before exiting
                out.append(self._messages.get(timeout=0.5))
            except queue.Empty:
                out.append(
                    JobMessage(
                        "failed",
                        message=f"training process ended unexpectedly (exit code {self._process.exitcode})",
                    )
                )
            self._done = True
        if out:
            self.last = out[-1]
        return out

    def stop(self) -> None:
        """Ask training to stop; it saves the model and reports ``finished`` (status ``stopped``)."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the child to end; True if it did."""
        if self._process is None:
            return True
        self._process.join(timeout)
        return not self._process.is_alive()

    def kill(self) -> None:
        """Last resort when ``stop`` is not honoured (the current checkpoints stay on disk)."""
        if self._process is not None and self._process.is_alive():
            self._process.terminate()
            self._process.join(5)


def default_training_dir() -> Path:
    """Where the GUI's trainings go unless told: ``<data dir>/training`` (beside the run store), not
    the working directory, which for a desktop launch is anywhere."""
    return default_data_dir() / "training"


def unused_folder(folder: Path) -> Path:
    """``folder`` if it holds no model yet, else the first free ``folder-2``, ``folder-3``, ...: a
    second training never overwrites the first one's ``model.zip`` or checkpoints."""

    def taken(path: Path) -> bool:
        return (path / "model.zip").exists() or (path / "checkpoints").is_dir()

    if not taken(folder):
        return folder
    n = 2
    while taken(folder.with_name(f"{folder.name}-{n}")):
        n += 1
    return folder.with_name(f"{folder.name}-{n}")
