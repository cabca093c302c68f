"""A scripted operator session in a real window (run under Xvfb by test_operator_session.py).

    python -m tests.gui.operator_session SCENARIO OUT.json

Opens the control center on SCENARIO with the platform the environment sets (xcb under Xvfb),
then does what an operator does: play, jump, override a signal with an expiry, close a lane,
block a lane, clear the incidents, acknowledge an alarm. After each step it checks the simulation
still runs (simulated time moves, no failure) and writes what it saw to OUT.json for the test to
judge. Nothing is asserted here: a failure of one step must not hide what the others saw.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from trafficai.gui.main_window import MainWindow
from trafficai.runtime import commands as c
from trafficai.runtime.worker_config import WorkerConfig

USER = "operator-session"


def wait_until(predicate: Callable[[], bool], timeout_s: float) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate():
            return True
        QTest.qWait(50)
    return predicate()


def sim_time(win: MainWindow) -> float:
    return win.last_frame.snapshot.time_s if win.last_frame is not None else -1.0


def still_running(win: MainWindow, advance_s: float = 5.0, seconds: float = 30.0) -> bool:
    """Simulated time moves on by ``advance_s`` within ``seconds`` of wall time, and the worker has
    not failed."""
    before = sim_time(win)
    moved = wait_until(lambda: sim_time(win) >= before + advance_s, seconds)
    return moved and win.state not in ("failed", "died")


def events(win: MainWindow) -> list[dict[str, Any]]:
    return [
        {"kind": r.event.kind, "severity": r.event.severity, "message": r.event.message, "user": r.event.user}
        for r in win.events_panel.model.rows
    ]


def busy_lanes(win: MainWindow, count: int) -> list[str]:
    """Lanes carrying vehicles now, most loaded first (an incident on an empty lane tests nothing)."""
    frame = win.last_frame
    assert frame is not None and win.ready is not None
    lanes = win.ready.geometry.lanes
    loads: dict[str, int] = {}
    for lane in frame.snapshot.vehicles.lane:
        name = lanes.ids[int(lane)] if int(lane) >= 0 else ""
        if name and not name.startswith(":"):
            loads[name] = loads.get(name, 0) + 1
    return sorted(loads, key=lambda k: -loads[k])[:count]


def session(win: MainWindow, report: dict[str, Any]) -> None:
    report["opened"] = wait_until(lambda: win.last_frame is not None, 60.0)
    if not report["opened"]:
        return
    report["window"] = [win.width(), win.height()]
    win.play_action.trigger()
    report["plays"] = still_running(win)

    win.jump_edit.setText("00:10:00")
    win.jump_button.click()
    report["jumped"] = wait_until(lambda: sim_time(win) >= 600.0, 60.0)
    if not win.last_progress or not win.last_progress.playing:
        win.play_action.trigger()
    report["runs_after_jump"] = still_running(win)

    assert win.ready is not None
    signal = win.ready.controllable[0]
    report["override_held"] = False
    for _ in range(10):  # refused during clearance: an operator tries again a moment later
        win.send(c.Override(signal, "hold", 30.0, "scripted session", USER))
        report["override_held"] = wait_until(
            lambda: win.last_frame is not None and any(v.override == "hold" for v in win.last_frame.signals),
            3.0,
        )
        if report["override_held"]:
            break
    report["override_expired"] = wait_until(
        lambda: win.last_frame is not None and all(v.override == "" for v in win.last_frame.signals), 60.0
    )

    lanes = busy_lanes(win, 2)
    report["lanes"] = lanes
    win.send(c.CloseLane(lanes[0], USER, "scripted closure"))
    report["closed"] = wait_until(lambda: len(win.incidents_panel.incidents) >= 1, 20.0)
    report["runs_after_close"] = still_running(win, 120.0)  # vehicles reach the closed lane
    edge = win.ready.geometry.lanes.edges[win.ready.geometry.lanes.index()[lanes[1]]]
    report["edge"] = edge
    win.send(c.CloseEdge(edge, USER, "scripted edge closure"))  # grid4x4's A2B2 stopped runs before
    report["edge_closed"] = wait_until(lambda: len(win.incidents_panel.incidents) >= 2, 20.0)
    report["runs_after_edge"] = still_running(win, 120.0)
    win.send(c.BlockLane(lanes[1], 5.0, 120.0, USER, "scripted breakdown"))
    report["blocked"] = wait_until(lambda: len(win.incidents_panel.incidents) >= 3, 20.0)
    report["block_refusal"] = win.last_refusal
    report["runs_after_block"] = still_running(win, 120.0)
    win.send(c.RestoreAll(USER))
    report["cleared"] = wait_until(lambda: len(win.incidents_panel.incidents) == 0, 20.0)
    report["runs_after_clear"] = still_running(win)

    win.open_scenario(str(Path(report["data_dir"]) / "no-such.sumocfg"))  # a bad file: an alarm
    report["alarm_raised"] = wait_until(lambda: win.alarm_banner.isVisible(), 10.0)
    if win.error_dialog is not None:
        win.error_dialog.accept()
    win.alarm_banner.ack_button.click()
    report["acknowledged"] = wait_until(
        lambda: any(r.event.kind == "ack" and r.event.user == USER for r in win.events_panel.model.rows), 10.0
    )
    report["banner_gone"] = wait_until(lambda: not win.alarm_banner.isVisible(), 5.0)
    report["runs_after_ack"] = still_running(win)
    report["state"] = win.state
    report["time_s"] = sim_time(win)


def main(argv: list[str]) -> int:
    scenario, out = argv[0], Path(argv[1])
    app = QApplication.instance() or QApplication([])
    report: dict[str, Any] = {"platform": QApplication.platformName(), "data_dir": str(out.parent)}
    win = MainWindow(WorkerConfig.for_scenario(scenario, speed=10.0, playing=False), user=USER)
    win.resize(1366, 768)
    win.show()
    try:
        session(win, report)
    except Exception as exc:  # the report says where the session stopped
        report["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        report["events"] = events(win)
        out.write_text(json.dumps(report, indent=1))
        win.close()
        app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
