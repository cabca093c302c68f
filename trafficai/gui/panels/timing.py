"""The signal timing of an intersection as the net file defines it: program, cycle, offset, the split
of each green phase and the phase sequence (what a timing sheet shows). Shown in the inspector when a
signal is picked; the values come from ``Ready.timings`` (read from the net file in ``sim/``)."""

from __future__ import annotations

from PySide6.QtWidgets import QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from trafficai.core.timing import SignalTiming

COLUMNS = ("phase", "state", "kind", "duration (s)", "min-max (s)", "split")


def _s(seconds: float) -> str:
    return f"{seconds:g}"


def timing_summary(timing: SignalTiming) -> str:
    """One line: program, kind, cycle, offset, and the splits of the green phases."""
    splits = ", ".join(f"phase {s.phase + 1}: {_s(s.split_s)} s ({s.share:.0%})" for s in timing.splits())
    return (
        f"program {timing.program_id or '-'} ({timing.kind}) · cycle {_s(timing.cycle_s)} s · "
        f"offset {_s(timing.offset_s)} s" + (f" · splits {splits}" if splits else "")
    )


def timing_rows(timing: SignalTiming) -> list[tuple[str, ...]]:
    """One row per phase, in sequence; a green phase's row carries its split."""
    splits = {s.phase: s for s in timing.splits()}
    rows: list[tuple[str, ...]] = []
    for i, phase in enumerate(timing.phases):
        bounds = f"{_s(phase.min_s)}-{_s(phase.max_s)}" if phase.min_s >= 0 and phase.max_s >= 0 else ""
        split = splits.get(i)
        rows.append(
            (
                str(i + 1) + (f" {phase.name}" if phase.name else ""),
                phase.state,
                phase.kind,
                _s(phase.duration_s),
                bounds,
                f"{_s(split.split_s)} s ({split.share:.0%})" if split else "",
            )
        )
    return rows


class TimingView(QWidget):
    """Summary line plus the phase table of one signal's program."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("<b>Signal timing (net file)</b>"))
        layout.addWidget(self.summary)
        layout.addWidget(self.table)
        self.timing: SignalTiming | None = None

    def set_timing(self, timing: SignalTiming | None) -> None:
        self.timing = timing
        if timing is None:
            self.summary.setText("The net file defines no program for this signal.")
            self.table.setRowCount(0)
            return
        self.summary.setText(timing_summary(timing))
        rows = timing_rows(timing)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
