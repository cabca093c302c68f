"""Who may send which command: the role table, checked by the worker before any handler runs.

The GUI hides what a role may not do, but the check that counts is here, where the command is
executed (:meth:`SimWorker.apply`): a viewer's override reaching the worker is refused with a
``Refused`` message and an event, and the refusal is in the audit log. Without users (no
``users.sqlite``, or an empty one) every command is allowed and the sender's name (the OS user) is
recorded as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trafficai.access.roles import Role
from trafficai.access.users import multi_user, role_of
from trafficai.errors import AccessError
from trafficai.runtime import commands as c
from trafficai.runtime.commands import describe

COMMAND_ROLES: dict[type, Role] = {
    # watching the simulation: the clock, frames, details
    c.Play: Role.VIEW,
    c.Pause: Role.VIEW,
    c.Step: Role.VIEW,
    c.SetSpeed: Role.VIEW,
    c.SetFrames: Role.VIEW,
    c.Inspect: Role.VIEW,
    c.Shutdown: Role.VIEW,  # closing one's own window
    # acting on the street and on the run
    c.Override: Role.OPERATE,
    c.ClearOverride: Role.OPERATE,
    c.CloseLane: Role.OPERATE,
    c.CloseEdge: Role.OPERATE,
    c.OpenLane: Role.OPERATE,
    c.BlockLane: Role.OPERATE,
    c.ClearIncident: Role.OPERATE,
    c.RestoreAll: Role.OPERATE,
    c.RouteDemand: Role.OPERATE,
    c.AcknowledgeAlarm: Role.OPERATE,
    c.Jump: Role.OPERATE,
    c.Restart: Role.OPERATE,
    c.Resume: Role.OPERATE,
    c.ForkWhatIf: Role.OPERATE,  # runs branches beside the live run; applying one is SetController
    # changing how the network is run
    c.SetController: Role.MANAGE,
    c.DemandScale: Role.MANAGE,
    c.MarkDetector: Role.MANAGE,
    c.InjectFault: Role.MANAGE,  # the devices' data changes under the controllers that read it
    c.ClearFault: Role.MANAGE,
}

# commands worth an audit row (the clock and the view are not operator actions)
AUDITED = frozenset(kind for kind, role in COMMAND_ROLES.items() if role > Role.VIEW)


def required_role(command: Any) -> Role:
    try:
        return COMMAND_ROLES[type(command)]
    except KeyError:
        raise AccessError(f"{describe(command)} has no role in the role table: refused") from None


def command_user(command: Any, session_user: str) -> str:
    """The user a command acts for: its own ``user`` field, else the worker's logged-in user."""
    return str(getattr(command, "user", "") or session_user)


def authorize(command: Any, session_user: str, users_path: Path | None = None) -> str:
    """The user the command runs for, when their role allows it; else :class:`AccessError`."""
    needed = required_role(command)
    user = command_user(command, session_user)
    if isinstance(command, c.Shutdown):
        return user  # always: a worker that cannot be stopped (users file unreadable) is worse
    if not multi_user(users_path):
        return user
    if not user:
        raise AccessError(f"{describe(command)} refused: no user logged in")
    role = role_of(user, users_path)
    if role is None:
        raise AccessError(f"{describe(command)} refused: unknown user {user!r}")
    if role < needed:
        raise AccessError(f"{user} ({role.label}) may not {describe(command)}: it needs {needed.label}")
    return user
