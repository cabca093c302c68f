"""Issue 12 item 6 in the window: the actions a role may not take are disabled (the role each
needs is the worker's table); the worker's own check is tested in tests/runtime."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QLabel

from tests.access.conftest import CHEAP
from trafficai.access.roles import Role
from trafficai.access.users import UserStore
from trafficai.gui.main_window import MainWindow
from trafficai.gui.map.picking import Pick
from trafficai.gui.role_gate import GATED, RoleGate
from trafficai.runtime import commands as c
from trafficai.runtime.authorization import COMMAND_ROLES

from .conftest import TINY, cross_ready

pytestmark = pytest.mark.gui

OPERATE = (
    "signals_panel.apply_override",
    "incidents_panel.close_lane_button",
    "restart_action",
    "jump_button",
    "events_panel.ack_button",
    "whatif_action",
)
MANAGE = ("inject_fault_action", "controller_combo", "incidents_panel.demand_button")


@pytest.fixture
def window_as(qtbot, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], MainWindow]]:  # type: ignore[no-untyped-def]
    """The window over a fake bridge, logged in as one of vic (view), otto (operate), meg (manage)."""
    from tests.support.fake_bridge import FakeBridge
    from trafficai.runtime.worker_config import WorkerConfig

    with UserStore(hasher=CHEAP) as users:
        for name, role in (("vic", Role.VIEW), ("otto", Role.OPERATE), ("meg", Role.MANAGE)):
            users.add(name, role, "password1", by="test")
    monkeypatch.setattr("trafficai.gui.main_window.WorkerBridge", FakeBridge)
    opened: list[MainWindow] = []

    def open_as(user: str) -> MainWindow:
        win = MainWindow(WorkerConfig.for_scenario(TINY, speed=None, playing=False, user=user), user=user)
        qtbot.addWidget(win)
        win.bridge.ready.emit(cross_ready())
        opened.append(win)
        return win

    yield open_as
    for win in opened:
        win.close()


def _control(window: MainWindow, path: str) -> object:
    control: object = window
    for name in path.split("."):
        control = getattr(control, name)
    return control


def _enabled(window: MainWindow, path: str) -> bool:
    return bool(_control(window, path).isEnabled())  # type: ignore[attr-defined]


def test_every_gated_control_sends_a_command_of_the_workers_role_table() -> None:
    assert {kind for _, kind in GATED} <= set(COMMAND_ROLES)
    assert all(COMMAND_ROLES[kind] > Role.VIEW for _, kind in GATED)  # watching is never gated


def test_a_viewer_gets_no_operator_action_even_when_a_panel_would_enable_it(window_as) -> None:  # type: ignore[no-untyped-def]
    window = window_as("vic")
    window.signals_panel.select("C")
    window.signals_panel.reason.setText("police on site")  # the panel enables the button for this
    window.incidents_panel.set_target("N_in_0", 10.0)
    for path, _kind in GATED:
        assert not _enabled(window, path), path
    assert "needs the operate role (your role is view)" in window.signals_panel.apply_override.toolTip()
    assert window.play_action.isEnabled() and window.step_action.isEnabled()  # watching stays
    assert "vic (view)" in [label.text() for label in window.statusBar().findChildren(QLabel)]
    window._map_menu(Pick("e1", "e1_N", 0, 0.0, 20.0), QPoint(5, 5))
    actions = {a.text(): a.isEnabled() for a in window.context_menu.actions() if a.text()}
    assert actions["Mark detector e1_N failed"] is False and actions["Inject fault on e1_N…"] is False
    assert actions["Fit network"] is True


def test_an_operator_may_operate_but_not_manage_and_a_manager_may_do_both(window_as) -> None:  # type: ignore[no-untyped-def]
    otto = window_as("otto")
    otto.signals_panel.select("C")
    otto.signals_panel.reason.setText("police on site")
    otto.incidents_panel.set_target("N_in_0", 10.0)
    assert all(_enabled(otto, path) for path in OPERATE)
    assert not any(_enabled(otto, path) for path in MANAGE)
    meg = window_as("meg")
    assert all(_enabled(meg, path) for path in MANAGE)


def test_without_accounts_every_action_is_offered() -> None:
    gate = RoleGate.for_user("anyone")
    assert not gate.multi and all(gate.allows(kind) for kind in COMMAND_ROLES)
    assert RoleGate(Role.OPERATE, multi=True).allows(c.Override)
    assert not RoleGate(None, multi=True).allows(c.Play)  # an unknown user: nothing
