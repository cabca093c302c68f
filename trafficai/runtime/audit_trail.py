"""The worker's side of the audit log: one row per operator action it applied or refused.

Opened on the first action (a run nobody touches writes nothing). An audit log that cannot be
opened or written is logged once and the simulation goes on: the run itself must not stop because
of it, and the failure is visible in the worker's log and to ``trafficai audit verify``.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from trafficai.access.audit import AuditLog
from trafficai.errors import TrafficAIError
from trafficai.runtime.authorization import AUDITED, command_user
from trafficai.runtime.commands import describe

logger = logging.getLogger(__name__)

TARGET_FIELDS = ("signal_id", "lane_id", "edge_id", "incident_id", "detector", "device", "name", "key")


def command_target(command: Any) -> str:
    for name in TARGET_FIELDS:
        value = getattr(command, name, None)
        if value:
            return str(value)
    return ""


class AuditTrail:
    def __init__(self) -> None:
        self.log: AuditLog | None = None
        self.broken = False

    def command(
        self, command: Any, session_user: str, outcome: str, time_s: float, *, denied: bool = False
    ) -> None:
        """One row for an operator action (applied, refused or failed) or any command the role check
        denied; the clock and view commands are not recorded."""
        if type(command) not in AUDITED and not denied:
            return
        detail: dict[str, Any] = {"outcome": outcome, "sim_time_s": time_s}
        if dataclasses.is_dataclass(command) and not isinstance(command, type):
            detail["command"] = dataclasses.asdict(command)
        action = f"command.{describe(command)}"
        self.record(command_user(command, session_user), action, command_target(command), detail)

    def record(self, user: str, action: str, target: str, detail: dict[str, Any]) -> None:
        if self.broken:
            return
        try:
            if self.log is None:
                self.log = AuditLog()
            self.log.record(user, action, target, detail)
        except TrafficAIError as exc:
            self.broken = True
            logger.error("audit log unavailable, operator actions are not audited: %s", exc)
