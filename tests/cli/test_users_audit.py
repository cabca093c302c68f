"""``trafficai users`` and ``trafficai audit``: bad input is one line; tampering exits non-zero."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from tests.cli.support import assert_one_line_error, cli_app, trafficai
from trafficai.access.audit import AuditLog
from trafficai.errors import AccessError, AuditError

runner = CliRunner()


def _invoke(*args: str, stdin: str = ""):  # type: ignore[no-untyped-def]
    return runner.invoke(cli_app(), list(args), input=stdin)


def test_users_add_list_and_the_audit_trail(isolated_data_dir: Path) -> None:
    first = _invoke("users", "add", "ann", "--role", "configure", stdin="password1\npassword1\n")
    assert first.exit_code == 0, first.output
    refused = _invoke("users", "add", "bob", "--role", "view")
    assert isinstance(refused.exception, AccessError) and "--as NAME" in str(refused.exception)
    wrong = _invoke("users", "add", "bob", "--role", "view", "--as", "ann", stdin="nope-nope\n")
    assert isinstance(wrong.exception, AccessError) and "login failed" in str(wrong.exception)
    ok = _invoke(
        "users", "add", "bob", "--role", "view", "--as", "ann", stdin="password1\nbobspass1\nbobspass1\n"
    )
    assert ok.exit_code == 0, ok.output
    listed = _invoke("users", "list")
    assert "ann" in listed.stdout and "configure" in listed.stdout and "bob" in listed.stdout
    shown = _invoke("audit", "show")
    assert [line.split()[3:5] for line in shown.stdout.splitlines()] == [
        ["user.add", "ann"],
        ["login.failed", "ann"],
        ["login", "ann"],
        ["user.add", "bob"],
    ]
    assert _invoke("audit", "verify").exit_code == 0


def test_a_viewer_may_not_change_accounts(isolated_data_dir: Path) -> None:
    _invoke("users", "add", "ann", "--role", "configure", stdin="password1\npassword1\n")
    _invoke("users", "add", "vic", "--role", "view", "--as", "ann", stdin="password1\nvicspass1\nvicspass1\n")
    result = _invoke("users", "role", "vic", "--role", "configure", "--as", "vic", stdin="vicspass1\n")
    assert isinstance(result.exception, AccessError)
    assert "vic (view) may not change accounts: it needs configure" in str(result.exception)


def test_the_first_user_must_be_a_configure_user(isolated_data_dir: Path) -> None:
    result = _invoke("users", "add", "vic", stdin="password1\npassword1\n")
    assert isinstance(result.exception, AccessError) and "--role configure" in str(result.exception)


def test_a_bad_role_and_an_unknown_user_are_one_line_errors(isolated_data_dir: Path) -> None:
    assert_one_line_error(
        trafficai("users", "add", "ann", "--role", "boss"), "unknown role 'boss'", "configure"
    )
    assert_one_line_error(trafficai("users", "remove", "nobody"), "unknown user 'nobody'")


def test_audit_verify_names_an_edited_row_and_a_cut_tail(isolated_data_dir: Path, tmp_path: Path) -> None:
    with AuditLog() as log:
        for i in range(6):
            log.record("ann", "command.Override", f"C{i}", {"outcome": "applied"})
        path = log.path
    assert _invoke("audit", "checkpoint", "--out", str(tmp_path / "cp.json")).exit_code == 0
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM audit WHERE seq = 6")
        db.execute("DELETE FROM checkpoints")
    assert _invoke("audit", "verify").exit_code == 0  # a cut tail: only a checkpoint can tell
    cut = _invoke("audit", "verify", "--checkpoint", str(tmp_path / "cp.json"))
    assert isinstance(cut.exception, AuditError) and "truncated: it ends at row 5" in str(cut.exception)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE audit SET target = 'D' WHERE seq = 2")
    proc = trafficai("audit", "verify")
    assert_one_line_error(proc, "audit log broken at row 2", "edited")


def test_audit_show_without_a_log_is_one_line(isolated_data_dir: Path) -> None:
    assert_one_line_error(trafficai("audit", "show"), "no audit log at")
