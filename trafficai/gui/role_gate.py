"""What the logged-in operator's role allows in the window: a control whose command their role may
not send is disabled, with a tooltip naming the role it needs.

The worker checks every command again, where it is executed (``runtime/authorization.py``): this
only keeps the window from offering what will be refused. One table, :data:`GATED`, maps each gated
control of the window to the command it sends; the role each command needs is the worker's own
table (``COMMAND_ROLES``), never restated here. Context menus and dialogs built later gate their
actions with :meth:`RoleGate.gate` and the command type they send.

Panels enable their buttons (and set their tooltips) by their own state (a signal selected, a
reason given); a gated widget stays disabled, saying why, whatever they do (:class:`_StayDisabled`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from trafficai.access.roles import Role
from trafficai.access.users import multi_user, role_of
from trafficai.errors import TrafficAIError
from trafficai.runtime import commands as c
from trafficai.runtime.authorization import COMMAND_ROLES

if TYPE_CHECKING:
    from trafficai.gui.main_window import MainWindow

logger = logging.getLogger(__name__)

# each gated control (an attribute path from the main window) and the command it sends
GATED: tuple[tuple[str, type], ...] = (
    ("signals_panel.apply_override", c.Override),
    ("signals_panel.clear_override", c.ClearOverride),
    ("signals_panel.apply_controller", c.SetController),
    ("controller_combo", c.SetController),
    ("incidents_panel.close_lane_button", c.CloseLane),
    ("incidents_panel.close_edge_button", c.CloseEdge),
    ("incidents_panel.block_button", c.BlockLane),
    ("incidents_panel.route_demand_button", c.RouteDemand),
    ("incidents_panel.clear_button", c.ClearIncident),
    ("incidents_panel.restore_button", c.RestoreAll),
    ("incidents_panel.demand_button", c.DemandScale),
    ("events_panel.ack_button", c.AcknowledgeAlarm),
    ("events_panel.ack_all_button", c.AcknowledgeAlarm),
    ("events_panel.incident_button", c.CloseLane),
    ("alarm_banner.ack_button", c.AcknowledgeAlarm),
    ("restart_action", c.Restart),
    ("jump_edit", c.Jump),
    ("jump_button", c.Jump),
    ("whatif_action", c.ForkWhatIf),
    ("inject_fault_action", c.InjectFault),
)


REASON = "roleGateReason"  # the property of a gated widget that holds why it is off


class _StayDisabled(QObject):
    """Turns a gated widget off again whenever its panel turns it on, and keeps its tooltip."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not isinstance(watched, QWidget):
            return False
        if event.type() == QEvent.Type.EnabledChange and watched.isEnabled():
            watched.setEnabled(False)
        elif event.type() == QEvent.Type.ToolTipChange:
            reason = str(watched.property(REASON) or "")
            if reason and watched.toolTip() != reason:
                watched.setToolTip(reason)
        return False


class RoleGate:
    """``role`` None: single-user mode, every action is offered (the worker allows them all)."""

    def __init__(self, role: Role | None, multi: bool = False) -> None:
        self.role, self.multi = role, multi
        self._filter = _StayDisabled()

    @classmethod
    def for_user(cls, user: str) -> RoleGate:
        """The gate of ``user``: their role from the users file (multi-user mode), else none."""
        try:
            if not multi_user():
                return cls(None)
            return cls(role_of(user), multi=True)
        except TrafficAIError as exc:  # the worker will refuse too; offer nothing that would be
            logger.warning("role of %s unknown, operator actions disabled: %s", user, exc)
            return cls(None, multi=True)

    def allows(self, kind: type) -> bool:
        if not self.multi:
            return True
        return self.role is not None and self.role >= COMMAND_ROLES[kind]

    def why_not(self, kind: type) -> str:
        who = f"your role is {self.role.label}" if self.role is not None else "your role is unknown"
        return f"needs the {COMMAND_ROLES[kind].label} role ({who})"

    def gate(self, control: QWidget | QAction, kind: type) -> None:
        """Disable ``control`` (for good) when the role may not send ``kind``."""
        if self.allows(kind):
            return
        control.setEnabled(False)
        control.setToolTip(self.why_not(kind))
        if isinstance(control, QWidget):
            control.setProperty(REASON, self.why_not(kind))
            control.installEventFilter(self._filter)

    def apply(self, window: MainWindow) -> None:
        """Gate every control of :data:`GATED`."""
        for path, kind in GATED:
            control: object = window
            for name in path.split("."):
                control = getattr(control, name)
            if not isinstance(control, QWidget | QAction):
                raise TypeError(f"{path} is not a widget or an action")
            self.gate(control, kind)

    def describe(self, user: str) -> str:
        """For the status bar: who is logged in, as what."""
        if not self.multi:
            return user
        return f"{user} ({self.role.label})" if self.role is not None else f"{user} (no role)"
