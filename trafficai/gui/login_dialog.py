"""The login asked for before the main window once operator accounts exist (multi-user mode).

A wrong password, code or a locked account is shown in the dialog, which stays open; cancelling
leaves without opening the control center. The role is checked again by the worker for every
command, so nothing here is the security boundary: it only says who is at the keyboard.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from trafficai.access.auth import login
from trafficai.access.users import UserStore
from trafficai.errors import TrafficAIError


class LoginDialog(QDialog):
    def __init__(self, store: UserStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.user = ""
        self.role = ""
        self.setWindowTitle("trafficai: log in")
        self.name = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.code = QLineEdit()
        self.code.setPlaceholderText("authenticator code or recovery code, if enrolled")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setObjectName("loginMessage")
        form = QFormLayout()
        form.addRow("User", self.name)
        form.addRow("Password", self.password)
        form.addRow("Second factor", self.code)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.try_login)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def try_login(self) -> None:
        """Accept on a good login; otherwise say why and keep the dialog open (never raise)."""
        try:
            user = login(self.store, self.name.text().strip(), self.password.text(), self.code.text())
        except TrafficAIError as exc:
            self.message.setText(str(exc))
            self.password.clear()
            self.code.clear()
            return
        self.user, self.role = user.name, user.role.label
        self.accept()


def ask_login() -> tuple[str, str] | None:
    """(user, role) after a good login, None when cancelled; logins are audited."""
    from trafficai.access.audit import AuditLog

    with AuditLog() as audit, UserStore(audit=audit) as store:
        dialog = LoginDialog(store)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.user, dialog.role
