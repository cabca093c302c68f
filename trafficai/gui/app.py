"""Starting the control center: QApplication setup, the main window, screenshot mode."""

from __future__ import annotations

import gc
import os
import sys
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSize, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from trafficai.access.users import multi_user
from trafficai.gui import theme, window_layout
from trafficai.gui.login_dialog import ask_login
from trafficai.gui.main_window import MainWindow
from trafficai.gui.window_layout import PREFERRED_SIZE
from trafficai.runtime.logs import log_level as resolve_log_level
from trafficai.runtime.worker_config import WorkerConfig

ICON = Path(__file__).resolve().parents[2] / "assets" / "icons" / "trafficai.png"


def application() -> QApplication:
    """The process's QApplication (created once, themed)."""
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    app = QApplication(sys.argv[:1])
    app.setApplicationName("trafficai")
    app.setOrganizationName("trafficai")
    app.setApplicationDisplayName("trafficai control center")
    if ICON.is_file():
        app.setWindowIcon(QIcon(str(ICON)))
    theme.apply(app)
    return app


def main(
    scenario: str = "grid4x4",
    controller: str | None = None,
    screenshot: str | Path | None = None,
    after: float = 5.0,
    *,
    speed: float | None = 1.0,
    start_at: float | None = None,
    demand: float = 1.0,
    playing: bool = True,
    lanes: str = "speed",
    select_signal: str | None = None,
    log_level: str | None = None,
    worker: WorkerConfig | None = None,
    window_size: tuple[int, int] | None = None,
) -> int:
    """Open the control center on ``scenario``; with ``screenshot``, save a PNG after ``after`` wall
    seconds and exit. ``worker``, when given (the CLI's resolved config), replaces the keywords that
    describe the run. ``window_size`` (width, height): the window's size (default: 1600x1000 cut to
    the screen; for a screenshot 1600x1000). Returns the process exit code."""
    if screenshot is not None and "QT_QPA_PLATFORM" not in os.environ and not os.environ.get("DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    app = application()
    config = worker or WorkerConfig.for_scenario(
        scenario,
        controller=controller,
        speed=speed,
        start_at_s=start_at,
        demand_scale=demand,
        playing=playing,
        log_level=resolve_log_level(log_level),  # --log-level, else $TRAFFICAI_LOG_LEVEL, else INFO
    )
    user = None
    if multi_user():  # operator accounts exist: who is at the keyboard, before anything opens
        logged_in = ask_login()
        if logged_in is None:
            return 1
        user = logged_in[0]
        config = replace(config, user=user)
    window = MainWindow(config, user=user)
    if window_size is None and screenshot is not None:
        window_size = (PREFERRED_SIZE.width(), PREFERRED_SIZE.height())  # not the offscreen 800x600
    if window_size is not None:
        window_layout.fit(window, QSize(*window_size))
    window.map.set_lane_scheme(lanes)
    if select_signal:
        window.bridge.ready.connect(lambda _r: window.signals_panel.select(select_signal))
    window.show()
    gc.freeze()  # what exists now lives as long as the window: keep it out of every full collection
    code = 0
    if screenshot is not None:
        target = Path(screenshot)

        def shoot() -> None:
            nonlocal code
            try:
                window.save_screenshot(target)
            except Exception as exc:  # reported as one line, exit code 1
                sys.stderr.write(f"error: {exc}\n")
                code = 1
            if window.state in ("failed", "died"):
                sys.stderr.write(f"error: {window.banner_text.text()}\n")
                code = 1
            window.close()
            app.quit()

        QTimer.singleShot(int(max(after, 0.0) * 1000), shoot)
    result = app.exec()
    return code or int(result)
