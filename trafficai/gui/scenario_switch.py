"""Opening another scenario while one runs: a second worker starts it, and only once it is ready
does it replace the running one (which runs on meanwhile); a failure leaves it as it was."""

from __future__ import annotations

from typing import TYPE_CHECKING

from trafficai.core.events import Event
from trafficai.core.scenario import resolve_scenario
from trafficai.errors import TrafficAIError
from trafficai.gui.bridge import WorkerBridge
from trafficai.runtime.messages import Ready

if TYPE_CHECKING:
    from trafficai.gui.main_window import MainWindow


def open_scenario(window: MainWindow, name_or_path: str) -> None:
    """Start the scenario in a new worker; the current simulation runs on until it is ready."""
    try:
        resolve_scenario(name_or_path)
    except TrafficAIError as exc:
        window.show_error("Cannot open scenario", name_or_path, str(exc))
        return
    if window.candidate is not None:
        window.candidate.stop(1.0)
    config = window.config.with_scenario(name_or_path)
    candidate = WorkerBridge(config, window)
    candidate.ready.connect(lambda ready: _candidate_ready(window, ready))
    candidate.failed.connect(lambda message: _candidate_failed(window, message))
    candidate.died.connect(lambda message: _candidate_failed(window, message))
    window.candidate = candidate
    window.candidate_source = name_or_path
    window.statusBar().showMessage(f"Opening {name_or_path}...", 10000)
    candidate.start()


def _candidate_ready(window: MainWindow, ready: Ready) -> None:
    candidate = window.candidate
    if candidate is None:
        return
    window.candidate = None
    for signal in (candidate.ready, candidate.failed, candidate.died):
        signal.disconnect()
    window.events_panel.add_events(
        [Event(ready.begin_s, "info", "gui", f"opened {window.candidate_source}", "", window.user)]
    )
    window.replace_bridge(candidate, ready)


def _candidate_failed(window: MainWindow, message: str) -> None:
    candidate = window.candidate
    if candidate is None:
        return
    window.candidate = None
    candidate.stop(1.0)
    candidate.deleteLater()
    window.show_error("Cannot open scenario", window.candidate_source, message)
