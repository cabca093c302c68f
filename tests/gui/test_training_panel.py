"""Training from the control center: starts in its own process, draws returns, stops cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import DATA
from trafficai.gui.panels.training import TrainingPanel

pytestmark = pytest.mark.gui


def test_training_runs_in_the_background_and_reports(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    panel = TrainingPanel(lambda: str(DATA / "tiny" / "scenario.toml"))
    qtbot.addWidget(panel)
    panel.timesteps.setValue(300)
    panel.episode.setValue(100)
    panel.out.setText(str(tmp_path))
    panel.start()
    assert panel.running and not panel.start_button.isEnabled()  # the call returned at once
    qtbot.waitUntil(lambda: not panel.running, timeout=180_000)
    message = panel.last_message
    assert message is not None and message.kind == "finished", panel.status.text()
    assert Path(message.model_path).is_file()
    assert len(panel.returns) >= 2  # one point per finished episode on the curve
    assert panel.start_button.isEnabled() and panel.status.text().startswith("Training completed")


def test_stop_saves_the_model(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    panel = TrainingPanel(lambda: str(DATA / "tiny" / "scenario.toml"))
    qtbot.addWidget(panel)
    panel.timesteps.setValue(1_000_000)
    panel.episode.setValue(100)
    panel.out.setText(str(tmp_path))
    panel.start()
    qtbot.waitUntil(
        lambda: panel.last_message is not None and panel.last_message.timesteps > 0, timeout=120_000
    )
    panel.stop()
    qtbot.waitUntil(lambda: not panel.running, timeout=120_000)
    message = panel.last_message
    assert message is not None and message.kind == "finished" and message.status == "stopped", (
        panel.status.text()
    )
    assert Path(message.model_path).is_file()
