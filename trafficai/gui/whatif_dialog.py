"""What-if from the control center: ask for the branches, fork them from now (the worker saves
SUMO's state and runs them in separate processes while the live run goes on), then show their
KPIs side by side; "Apply controller" gives the live run the chosen branch's controller."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QInputDialog,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from trafficai.runtime.commands import ForkWhatIf, SetController
from trafficai.runtime.messages import WhatIfResults

KPIS = ("mean_delay_s", "mean_waiting_s", "throughput_veh", "mean_queue_veh")
DEFAULT_BRANCHES = "controller=max-pressure; controller=actuated; demand=1.2"


def ask_branches(parent: QWidget, user: str) -> ForkWhatIf | None:
    """The branches to fork, separated by ';' (each as for ``trafficai whatif --branch``)."""
    text, ok = QInputDialog.getText(
        parent,
        "What-if from now",
        "Branches (;-separated), 15 simulated minutes each:",
        text=DEFAULT_BRANCHES,
    )
    if not ok:
        return None
    return ForkWhatIf(tuple(b.strip() for b in text.split(";") if b.strip()), 900.0, user)


class WhatIfDialog(QDialog):
    apply_controller = Signal(object)  # SetController for the live run

    def __init__(self, results: WhatIfResults, user: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.user = user
        self.setWindowTitle(
            f"What-if at {results.at_s:g} s (+{results.horizon_s:g} s, {results.wall_s:g} s wall)"
        )
        self.rows = results.rows
        self.table = QTableWidget(len(self.rows), 2 + len(KPIS))
        self.table.setHorizontalHeaderLabels(["branch", *KPIS, "error"])
        for r, (branch, kpis, error) in enumerate(self.rows):
            self.table.setItem(r, 0, QTableWidgetItem(branch))
            for c, key in enumerate(KPIS, start=1):
                self.table.setItem(r, c, QTableWidgetItem(f"{kpis[key]:.2f}" if key in kpis else "-"))
            self.table.setItem(r, 1 + len(KPIS), QTableWidgetItem(error))
        self.table.resizeColumnsToContents()
        self.apply_button = QPushButton("Apply controller")
        self.apply_button.setToolTip("Give the live run the selected branch's controller")
        self.apply_button.clicked.connect(self._apply)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.apply_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(buttons)

    def _apply(self) -> None:
        row = self.table.currentRow()
        if row < 0:
            return
        branch = self.rows[row][0]
        if branch.startswith("controller="):
            name, _, signals = branch.removeprefix("controller=").partition(":")
            self.apply_controller.emit(
                SetController(name, tuple(s for s in signals.split(",") if s), self.user)
            )
