"""The permanent labels of the main window's status bar: time, real-time factor, vehicles, render
rate, run state, unacknowledged alarms and the device network's link (each sized for its widest
text, so none shifts)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar

from trafficai.gui import theme
from trafficai.gui.panels.events import clock


class StatusLabels:
    def __init__(self, bar: QStatusBar) -> None:
        self.time_label = theme.steady(QLabel("sim time --:--:--"), "sim time 00:00:00 (000,000 s)")
        self.rtf_label = theme.steady(QLabel("real-time factor -"), "real-time factor 0,000.0x")
        self.vehicles_label = theme.steady(QLabel("vehicles -"), "vehicles 000,000")
        self.fps_label = theme.steady(QLabel("render - fps"), "render 000 fps")
        self.state_label = theme.steady(QLabel("starting"), "finished")
        self.alarm_label = theme.steady(QLabel("alarms: 0"), "alarms: 00000")
        self.broker_label = theme.steady(QLabel("devices -"), "broker 000.000.000.000:00000 disconnected")
        for label in (
            self.time_label,
            self.rtf_label,
            self.vehicles_label,
            self.fps_label,
            self.state_label,
            self.alarm_label,
            self.broker_label,
        ):
            label.setStyleSheet("padding: 0 10px;")
            bar.addPermanentWidget(label)

    def show_time(self, time_s: float, vehicles: int, rtf: float | None) -> None:
        """``rtf`` None: not advancing (paused), shown as '-'."""
        self.time_label.setText(f"sim time {clock(time_s)} ({time_s:,.0f} s)")
        self.vehicles_label.setText(f"vehicles {vehicles:,}")
        self.rtf_label.setText(f"real-time factor {rtf:,.1f}x" if rtf is not None else "real-time factor -")

    def show_alarms(self, unacknowledged: int) -> None:
        self.alarm_label.setText(f"alarms: {unacknowledged}")

    def show_devices(self, transport: str, broker: str, connected: bool) -> None:
        """The device network's link: the in-process bus, or the broker and whether it is connected."""
        if transport != "mqtt":
            self.broker_label.setText("devices in-process")
            self.broker_label.setStyleSheet("padding: 0 10px;")
            return
        state = "connected" if connected else "disconnected"
        self.broker_label.setText(f"broker {broker} {state}")
        color = "" if connected else f" color: {theme.SEVERITY_COLORS['warning']};"
        self.broker_label.setStyleSheet(f"padding: 0 10px;{color}")
