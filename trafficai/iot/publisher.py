"""The device side: publishes a device's bins, heartbeats and status, keeping every bin in the
outbox until the control center's watermark covers it.

``Gateway`` runs the devices of one process (one outbox file for all of them): each device has its
own transport (its own MQTT identity), so the broker's ACL holds per device.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from trafficai.iot.bus import Transport
from trafficai.iot.devices import Device, DeviceBin
from trafficai.iot.outbox import Outbox, Pending
from trafficai.iot.senml import decode_ack, encode_bin, encode_heartbeat, encode_status
from trafficai.iot.topics import ack_topic, device_topic

RESEND_AFTER_S = 5.0  # unacknowledged this long: resend (the link may have died silently)


class DevicePublisher:
    """One device on one transport. ``outbox`` None: fire and forget (the in-process bus)."""

    def __init__(
        self,
        device: Device,
        transport: Transport,
        outbox: Outbox | None,
        clock: Callable[[], float],
        link_clock: Callable[[], float] | None = None,
    ) -> None:
        """``clock``: the device's time (payloads); ``link_clock``: the time resends are timed by (a
        live run's device time runs as fast as the simulation, the network's does not; default
        ``clock``)."""
        self.device, self.transport, self.outbox, self.clock = device, transport, outbox, clock
        self.link_clock = link_clock or clock
        self.acked = 0
        self.sent_at: float | None = None  # when the oldest unacknowledged message was last sent
        self.started_at = clock()
        self.resends = 0
        transport.subscribe(ack_topic(device.id), self._on_ack)
        transport.on_connect(self._on_connect)

    def _on_connect(self) -> None:
        self.transport.publish(
            device_topic(self.device.id, "status"), encode_status("online", self.device.firmware), retain=True
        )
        self.resend()

    def _on_ack(self, _topic: str, payload: bytes) -> None:
        seq = decode_ack(payload)
        if seq is None or seq <= self.acked:
            return
        self.acked = seq
        if self.outbox is not None:
            self.outbox.ack(self.device.id, seq)
        self.sent_at = self.link_clock()

    def publish(self, items: Iterable[DeviceBin]) -> None:
        rows = pending_rows(items)
        if self.outbox is not None:
            self.outbox.add(rows)  # on disk before it is on the wire
        self.send(rows)

    def send(self, rows: Iterable[Pending]) -> None:
        """Put rows already in the outbox (or with none) on the wire. With an outbox and no link,
        nothing is handed to the transport: the reconnection resends the outbox (paho would also
        queue the message and send it twice)."""
        if self.outbox is not None and not self.transport.connected:
            return
        sent = False
        for row in rows:
            self.transport.publish(row.topic, row.payload, qos=1)
            sent = True
        if sent and self.sent_at is None:
            self.sent_at = self.link_clock()

    def heartbeat(self) -> None:
        now = self.clock()
        self.transport.publish(
            device_topic(self.device.id, "heartbeat"),
            encode_heartbeat(self.device.id, now, now - self.started_at),
            qos=0,
        )

    def tick(self) -> None:
        """Resend everything unacknowledged when the ack is overdue."""
        if self.outbox is None or self.sent_at is None:
            return
        if self.link_clock() - self.sent_at >= RESEND_AFTER_S:
            self.resend()

    def resend(self) -> int:
        if self.outbox is None:
            return 0
        pending = self.outbox.pending(self.device.id)
        for row in pending:
            if row.seq > self.acked and not self.transport.publish(row.topic, row.payload, qos=1):
                break
        self.resends += len(pending)
        self.sent_at = self.link_clock() if pending else None
        return len(pending)

    def close(self) -> None:
        self.transport.publish(
            device_topic(self.device.id, "status"),
            encode_status("offline", self.device.firmware),
            retain=True,
        )
        self.transport.close()


def offline_will(device: Device) -> tuple[str, bytes]:
    """The last will a device's transport registers: retained "offline" on its status topic."""
    return device_topic(device.id, "status"), encode_status("offline", device.firmware)


def field_line(item: DeviceBin) -> str:
    """One bin for a field process's feed (``headless field``): ``<device> <SenML>``."""
    return f"{item.device} {encode_bin(item).decode()}\n"


def pending_rows(items: Iterable[DeviceBin]) -> list[Pending]:
    return [Pending(b.device, b.seq, device_topic(b.device, "bins"), encode_bin(b)) for b in items]


def publish_closed_bins(
    publishers: Mapping[str, DevicePublisher], items: Iterable[DeviceBin], outbox: Outbox | None = None
) -> None:
    """Hand each bin to its device's publisher; with the publishers' shared ``outbox``, every bin
    of the interval is committed there in one transaction first (not one commit per device)."""
    rows = [r for r in pending_rows(items) if r.device in publishers]
    if outbox is not None:
        outbox.add(rows)
    by_device: dict[str, list[Pending]] = {}
    for row in rows:
        by_device.setdefault(row.device, []).append(row)
    for device, device_rows in by_device.items():
        publisher = publishers[device]
        if outbox is None and publisher.outbox is not None:
            publisher.outbox.add(device_rows)
        publisher.send(device_rows)
