"""The login dialog: a wrong password is said in the dialog, which stays open; a good one accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.access.conftest import CHEAP
from trafficai.access.auth import enrol_second_factor, totp_code
from trafficai.access.roles import Role
from trafficai.access.users import UserStore
from trafficai.gui.login_dialog import LoginDialog

pytestmark = [pytest.mark.gui]


def test_login_dialog_refuses_then_accepts(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with UserStore(tmp_path / "users.sqlite", hasher=CHEAP) as store:
        store.add("ann", Role.OPERATE, "password1", by="test")
        secret, _ = enrol_second_factor(store, "ann", by="test")
        dialog = LoginDialog(store)
        qtbot.addWidget(dialog)
        dialog.name.setText("ann")
        dialog.password.setText("wrong-one")
        dialog.try_login()
        assert dialog.result() == 0 and "login failed" in dialog.message.text()
        assert dialog.password.text() == ""
        dialog.password.setText("password1")
        dialog.try_login()
        assert "needs a second factor" in dialog.message.text()
        dialog.password.setText("password1")
        dialog.code.setText(totp_code(secret, store.clock()))
        dialog.try_login()
        assert (dialog.user, dialog.role, dialog.result()) == ("ann", "operate", 1)
