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


def test_the_panel_never_reuses_a_folder_with_a_model_and_defaults_to_the_data_dir(
    qtbot, tmp_path: Path, isolated_data_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    panel = TrainingPanel(lambda: str(DATA / "tiny" / "scenario.toml"))
    qtbot.addWidget(panel)
    assert Path(panel.out.text()) == isolated_data_dir / "training"  # not relative to the cwd
    assert Path(panel.config().out) == isolated_data_dir / "training" / "tiny"
    panel.out.setText(str(tmp_path))
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "model.zip").write_bytes(b"first")
    assert Path(panel.config().out) == tmp_path / "tiny-2"


def test_the_episode_axis_has_whole_numbers_only() -> None:
    from trafficai.gui.widgets.axes import IntegerAxis, integer_ticks

    levels = [(0.5, [1.0, 1.5, 2.0, 2.5]), (0.1, [1.1, 1.2])]
    assert integer_ticks(levels, 1.0, 2.5) == [(1.0, [1.0, 2.0])]
    assert integer_ticks([(0.2, [1.2, 1.4])], 1.1, 1.9) == []  # no whole number in view: no tick
    assert integer_ticks([(0.5, [0.5])], 0.2, 2.7) == [(1.0, [1.0, 2.0])]
    axis = IntegerAxis("bottom")
    assert axis.tickStrings([1.0, 2.0], 1.0, 1.0) == ["1", "2"]
    for _, values in axis.tickValues(0.8, 3.2, 400):
        assert all(float(v).is_integer() for v in values)
