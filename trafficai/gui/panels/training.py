"""Training panel: start an RL training run on the open scenario and watch it, without blocking.

Training runs in its own process (:class:`~trafficai.runtime.training_job.TrainingJob`); the panel
polls its messages on a timer, draws the episode returns and offers a stop button (the job saves
its model when stopped).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from trafficai.control.rl.config import EnvConfig, TrainConfig
from trafficai.errors import TrafficAIError
from trafficai.gui.widgets.axes import IntegerAxis
from trafficai.runtime.training_job import JobMessage, TrainingJob, default_training_dir, unused_folder


def scenario_stem(scenario: str) -> str:
    """A folder name for the scenario: 'grid4x4', or the folder of a 'scenario.toml' path."""
    path = Path(scenario)
    return path.parent.name if path.name == "scenario.toml" and path.parent.name else path.stem


class TrainingPanel(QWidget):
    """Algorithm, budget and episode length; Start / Stop; a live reward curve."""

    finished = Signal(str)  # the status line of a finished or failed job

    def __init__(self, scenario_of: Callable[[], str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scenario_of = scenario_of
        self.job: TrainingJob | None = None
        self.returns: list[float] = []
        self.last_message: JobMessage | None = None

        form = QFormLayout()
        self.algo = QComboBox()
        self.algo.addItems(["ppo", "dqn", "a2c"])
        form.addRow("Algorithm:", self.algo)
        self.timesteps = QSpinBox()
        self.timesteps.setRange(100, 50_000_000)
        self.timesteps.setSingleStep(10_000)
        self.timesteps.setValue(100_000)
        form.addRow("Timesteps (agent decisions):", self.timesteps)
        self.episode = QSpinBox()
        self.episode.setRange(60, 86_400)
        self.episode.setSuffix(" s")
        self.episode.setValue(1_800)
        form.addRow("Episode length:", self.episode)
        self.out = QLineEdit(str(default_training_dir()))
        self.out.setToolTip(
            "Each training gets its own folder <output>/<scenario>; when that holds a model already,"
            " <scenario>-2, -3, ... (nothing is overwritten)"
        )
        form.addRow("Output folder:", self.out)

        self.start_button = QPushButton("Start training")
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        self.status = QLabel("Not started. Trains a shared policy for every signal of the open scenario.")
        self.status.setWordWrap(True)

        self.plot = pg.PlotWidget(axisItems={"bottom": IntegerAxis("bottom")})
        self.plot.setLabel("bottom", "episode")
        self.plot.setLabel("left", "episode return")
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.curve = self.plot.plot([], [], pen=pg.mkPen("#4aa3ff", width=2), symbol="o", symbolSize=4)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.plot, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(500)
        self.timer.timeout.connect(self.poll)

    @property
    def running(self) -> bool:
        return self.job is not None and self.timer.isActive()

    def config(self) -> TrainConfig:
        scenario = self.scenario_of()
        base = (
            Path(self.out.text().strip()).expanduser() if self.out.text().strip() else default_training_dir()
        )
        folder = unused_folder(base / scenario_stem(scenario))
        return TrainConfig(
            env=EnvConfig(scenario=scenario, episode_s=float(self.episode.value())),
            algo=self.algo.currentText(),  # type: ignore[arg-type]
            timesteps=int(self.timesteps.value()),
            out=str(folder),
            checkpoint_every=max(1, int(self.timesteps.value()) // 4),
        )

    def start(self) -> None:
        if self.running:
            return
        try:
            job = TrainingJob(self.config())
            job.start()
        except (TrafficAIError, ValueError) as exc:
            self.status.setText(f"Cannot start: {exc}")
            return
        self.job = job
        self.returns = []
        self.curve.setData([], [])
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.status.setText(
            f"Starting {job.config.algo.upper()} on {job.config.env.scenario}; model and checkpoints go to"
            f" {job.config.out}"
        )
        self.timer.start()

    def stop(self) -> None:
        if self.job is not None:
            self.job.stop()
            self.status.setText("Stopping: the model is being saved ...")
            self.stop_button.setEnabled(False)

    def poll(self) -> None:
        if self.job is None:
            return
        for message in self.job.poll():
            self.last_message = message
            if message.episode_return is not None and message.kind == "episode":
                self.returns.append(message.episode_return)
                self.curve.setData(list(range(1, len(self.returns) + 1)), self.returns)
            if message.kind in ("finished", "failed"):
                self._done(message)
                return
            if message.total:
                self.status.setText(
                    f"{message.timesteps:,} / {message.total:,} timesteps · {message.episodes} episodes · "
                    f"{message.fps:,.0f} steps/s · {message.elapsed_s:,.0f} s"
                )

    def _done(self, message: JobMessage) -> None:
        self.timer.stop()
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        text = (
            f"Training {message.status or 'finished'}: {message.message}"
            if message.kind == "finished"
            else f"Training failed: {message.message}"
        )
        self.status.setText(text)
        self.finished.emit(text)
        if self.job is not None:
            self.job.join(5.0)

    def shutdown(self) -> None:
        """On window close: ask the job to stop and save, then make sure it is gone."""
        if self.job is not None and self.job.running:
            self.job.stop()
            if not self.job.join(10.0):
                self.job.kill()
        self.timer.stop()
