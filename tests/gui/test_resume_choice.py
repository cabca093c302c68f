"""Restart after a SUMO failure offers to resume from the last saved state (worker side:
tests/runtime/test_resume.py)."""

from __future__ import annotations

import pytest

from trafficai.gui.main_window import MainWindow
from trafficai.runtime import commands as c
from trafficai.runtime import messages as m

pytestmark = [pytest.mark.gui, pytest.mark.sumo]


@pytest.mark.parametrize("choose_resume", [True, False])
def test_restart_after_a_failure_offers_the_saved_state(
    window: MainWindow, choose_resume: bool, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    sent: list[c.Command] = []
    asked: list[float] = []
    monkeypatch.setattr(window, "send", sent.append)

    def choose(time_s: float) -> bool:
        asked.append(time_s)
        return choose_resume

    monkeypatch.setattr(window, "_resume_chosen", choose)
    window.bridge.last_failed = m.Failed("SUMO: simulation step failed", resume_from_s=600.0)
    window.restart()
    assert asked == [600.0]
    assert sent == [c.Resume("ann")] if choose_resume else sent == [c.Restart("ann")]


def test_restart_without_a_saved_state_just_restarts(window: MainWindow, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sent: list[c.Command] = []
    monkeypatch.setattr(window, "send", sent.append)
    monkeypatch.setattr(window, "_resume_chosen", lambda _t: pytest.fail("nothing to resume: no question"))
    window.bridge.last_failed = m.Failed("SUMO: failed before the first saved state")
    window.restart()
    assert sent == [c.Restart("ann")]
