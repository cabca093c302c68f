"""Transport faults on a live run's device messages, and the control center noticing a device gone
quiet.

:class:`MessageFaults` asks ``sensors.faults.message_fate`` once per message (a bin, with its
heartbeat) and applies it: dropped bins never reach the publisher (dropout, packet loss), late ones
wait until their delay has passed (latency), skewed ones carry shifted times (clock skew), and a
device under heartbeat loss (or dropout) sends no heartbeat. Seeded: the same run and faults lose
the same messages.

:class:`HeartbeatWatch` reads the ingest's heartbeat times: a device not heard beating for
``periods`` heartbeat periods raises one warning event (``iot_heartbeat``), and one info event when
it beats again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from trafficai.config import TRANSPORT_FAULT_KINDS, FaultSection
from trafficai.core.events import Event
from trafficai.iot.devices import Device, DeviceBin
from trafficai.sensors.faults import message_fate

HEARTBEAT_PERIODS = 3  # a device is reported after this many heartbeat periods without one


@dataclass
class MessageFaults:
    """The transport faults of one run (``faults`` name detectors; ``begin_s`` is the scenario's)."""

    faults: Sequence[FaultSection]
    seed: int
    begin_s: float
    anchor: float = 0.0  # epoch seconds of simulation time 0 (device time = anchor + simulation)
    late: list[tuple[float, DeviceBin]] = field(default_factory=list)  # (due simulation s, bin)
    lost: int = 0

    def __post_init__(self) -> None:
        self.faults = tuple(f for f in self.faults if f.kind in TRANSPORT_FAULT_KINDS)

    def __bool__(self) -> bool:
        return bool(self.faults)

    def route(
        self, items: Iterable[DeviceBin], devices: Mapping[str, Device], now_s: float
    ) -> tuple[list[DeviceBin], set[str]]:
        """The bins to send now (fresh ones not dropped or delayed, and late ones now due) and the
        devices that send no heartbeat with this interval."""
        send, silent = [], set()
        for item in items:
            source = devices[item.device].source if item.device in devices else item.device
            fate = message_fate(self.faults, source, now_s - self.begin_s, item.seq, self.seed)
            if not fate.heartbeat:
                silent.add(item.device)
            if fate.dropped:
                self.lost += 1
                continue
            if fate.clock_skew_s:
                skew = fate.clock_skew_s
                item = replace(item, t_begin=item.t_begin + skew, t_end=item.t_end + skew)
            if fate.delay_s > 0:
                self.late.append((now_s + fate.delay_s, item))
            else:
                send.append(item)
        return send + self.due(now_s), silent

    def due(self, now_s: float) -> list[DeviceBin]:
        """The late bins whose delay has passed (taken out of the queue)."""
        ready = [b for t, b in self.late if t <= now_s]
        self.late = [(t, b) for t, b in self.late if t > now_s]
        return ready


@dataclass
class HeartbeatWatch:
    """Reports devices whose heartbeats stopped (simulation seconds throughout)."""

    period_s: float
    periods: int = HEARTBEAT_PERIODS
    quiet: set[str] = field(default_factory=set)

    def check(self, last_beat: Mapping[str, float], now_s: float) -> list[Event]:
        limit = self.period_s * self.periods
        events = []
        for device, at in sorted(last_beat.items()):
            if now_s - at > limit and device not in self.quiet:
                self.quiet.add(device)
                message = f"device {device}: no heartbeat for {now_s - at:.0f} s ({self.periods} periods)"
                events.append(Event(now_s, "warning", "iot_heartbeat", message, device))
            elif now_s - at <= limit and device in self.quiet:
                self.quiet.discard(device)
                back = f"device {device}: heartbeat back"
                events.append(Event(now_s, "info", "iot_heartbeat", back, device))
        return events
