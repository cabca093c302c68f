"""The what-if results dialog: branches side by side; "Apply controller" sends the chosen
branch's controller to the live run (and nothing for a branch that is not a controller)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from trafficai.gui.whatif_dialog import WhatIfDialog
from trafficai.runtime.commands import SetController
from trafficai.runtime.messages import WhatIfResults

pytestmark = pytest.mark.gui


def test_apply_controller_of_the_chosen_branch(qtbot) -> None:  # type: ignore[no-untyped-def]
    results = WhatIfResults(
        600.0,
        900.0,
        (
            ("unchanged", {"mean_delay_s": 70.0, "throughput_veh": 400.0}, ""),
            ("controller=max-pressure:A0,B0", {"mean_delay_s": 40.0}, ""),
            ("incident=close-lane:X_0", {}, "the network has no lane 'X_0'"),
        ),
        9.5,
    )
    dialog = WhatIfDialog(results, "ann")
    qtbot.addWidget(dialog)
    assert dialog.table.item(1, 1).text() == "40.00"
    assert dialog.table.item(2, 1 + 4).text() == "the network has no lane 'X_0'"
    sent: list[object] = []
    dialog.apply_controller.connect(sent.append)
    for row in (0, 1):
        dialog.table.setCurrentCell(row, 0)
        qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert sent == [SetController("max-pressure", ("A0", "B0"), "ann")]
