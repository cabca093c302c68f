"""Roles are checked where commands are executed: in the worker, before any handler runs."""

from __future__ import annotations

import json
import typing

import pytest

from tests.access.conftest import CHEAP
from trafficai.access.audit import AuditLog, verify
from trafficai.access.roles import Role
from trafficai.access.users import UserStore
from trafficai.errors import AccessError
from trafficai.runtime import commands as c
from trafficai.runtime import messages as m
from trafficai.runtime.authorization import COMMAND_ROLES, authorize
from trafficai.runtime.sim_worker import SimWorker
from trafficai.runtime.worker_config import WorkerConfig

TINY_OVERRIDE = c.Override("C", "hold", 60.0, "test", "vic")


def _users(**roles: Role) -> None:
    with UserStore(hasher=CHEAP) as store:
        for name, role in roles.items():
            store.add(name, role, "password1", by="test")


def _worker(user: str) -> tuple[SimWorker, list[m.Message]]:
    sent: list[m.Message] = []
    config = WorkerConfig.for_scenario("tiny", user=user, record=False)
    return SimWorker(config, sent.append, lambda: 0), sent


def test_every_command_type_has_a_role() -> None:
    assert set(COMMAND_ROLES) == set(typing.get_args(c.Command))


def test_without_users_every_command_is_allowed_for_the_sender() -> None:
    assert authorize(TINY_OVERRIDE, "os-user") == "vic"
    assert authorize(c.Play(), "os-user") == "os-user"


def test_a_viewers_override_is_refused_by_the_worker_and_audited() -> None:
    _users(vic=Role.VIEW, otto=Role.OPERATE)
    worker, sent = _worker("vic")
    worker.apply(TINY_OVERRIDE)
    refusals = [x for x in sent if isinstance(x, m.Refused)]
    assert refusals == [m.Refused("Override", "vic (view) may not Override: it needs operate")]
    worker.apply(c.Override("C", "hold", 60.0, "test", "otto"))  # the role check passes: the handler runs
    assert "the simulation is not running" in [x for x in sent if isinstance(x, m.Refused)][-1].message
    with AuditLog() as log:
        rows = list(log.rows())
        assert verify(log).rows == 2
    assert [(r.user, r.action, r.target) for r in rows] == [
        ("vic", "command.Override", "C"),
        ("otto", "command.Override", "C"),
    ]
    assert json.loads(rows[0].detail)["outcome"].startswith("denied: vic (view) may not Override")


def test_the_role_table_ranks_manage_above_operate_and_view_may_watch() -> None:
    _users(vic=Role.VIEW, otto=Role.OPERATE, meg=Role.MANAGE)
    assert authorize(c.Play(), "vic") == "vic"
    with pytest.raises(AccessError, match="otto \\(operate\\) may not SetController: it needs manage"):
        authorize(c.SetController("max-pressure", (), "otto"), "otto")
    assert authorize(c.SetController("max-pressure", (), "meg"), "otto") == "meg"
    with pytest.raises(AccessError, match="unknown user 'eve'"):
        authorize(c.MarkDetector("d", False, "eve"), "meg")
    with pytest.raises(AccessError, match="no user logged in"):
        authorize(c.Play(), "")
    assert authorize(c.Shutdown(), "") == ""  # a window can always close its worker


def test_a_viewer_in_a_real_worker_cannot_override(worker_factory) -> None:  # type: ignore[no-untyped-def]
    _users(vic=Role.VIEW)
    worker = worker_factory(user="vic")
    worker.wait(lambda: bool(worker.of(m.Ready)), what="ready")
    signal = worker.of(m.Ready)[0].controllable[0]
    worker.handle.send(c.Override(signal, "hold", 60.0, "test", "vic"))
    worker.handle.send(c.Step(2))
    worker.wait(lambda: bool(worker.of(m.Refused)), what="the refusal")
    assert worker.of(m.Refused)[0].message == "vic (view) may not Override: it needs operate"
    worker.wait(lambda: bool(worker.of(m.SimFrame)) and worker.of(m.SimFrame)[-1].snapshot.time_s >= 2.0)
    assert all(view.override == "" for view in worker.of(m.SimFrame)[-1].signals)
