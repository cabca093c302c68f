"""Headless device and ingest processes against a broker (``python -m trafficai.iot.headless``).

``publisher``: devices of one process, each with its own MQTT identity, publishing numbered bins
from one outbox (resuming their sequence numbers after a crash), then waiting until the control
center has acknowledged everything. ``ingest``: the control center's ingest into a run of the
store, flushing every few milliseconds, until SIGTERM. Used by the no-loss tests, the benchmark and
``trafficai iot`` commands; SIGKILL at any moment loses nothing.
"""

from __future__ import annotations

import argparse
import queue
import signal
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from trafficai.iot.bus import Will
from trafficai.iot.devices import Device, DeviceBin, by_id
from trafficai.iot.ingest import Ingest, IngestLimits
from trafficai.iot.mqtt_client import MqttSettings, MqttTransport
from trafficai.iot.outbox import Outbox, Pending
from trafficai.iot.pki import Pki
from trafficai.iot.publisher import DevicePublisher, offline_will, publish_closed_bins
from trafficai.iot.senml import decode_bin
from trafficai.iot.topics import device_topic
from trafficai.storage.devices import DeviceStore

FLUSH_EVERY_S = 0.005
ACK_EVERY_S = 0.05  # acknowledgements per device at most this often (see IngestLimits.ack_every_s)


def settings(
    pki: Pki, port: int, identity: str, will: Will | None = None, host: str = "localhost"
) -> MqttSettings:
    return MqttSettings(
        host, port, pki.ca_cert, pki.client_cert(identity), pki.client_key(identity), identity,
        keepalive_s=5, will=will,
    )  # fmt: skip


def plain_device(device_id: str) -> Device:
    return Device(device_id, device_id.split(".", 1)[0], device_id, "", "", 0.0, 0.0)


def run_publisher(
    pki: Pki,
    port: int,
    outbox_path: Path,
    device_ids: Sequence[str],
    bins: int,
    every_s: float,
    per_round: int = 1,
    window: int = 0,
) -> int:
    """Publish ``bins`` bins per device (one round every ``every_s``), then wait for every ack;
    ``window`` > 0: pause while more than that many bins are unacknowledged (a sustained rate is
    what the ingest absorbs, not a backlog the broker drops for a slow subscriber)."""
    outbox = Outbox(outbox_path)
    last = outbox.last_seqs()
    publishers = []
    for device_id in device_ids:
        device = plain_device(device_id)
        topic, payload = offline_will(device)
        transport = MqttTransport(settings(pki, port, device_id, Will(topic, payload))).start()
        publishers.append(DevicePublisher(device, transport, outbox, time.time))
    by_device = {p.device.id: p for p in publishers}
    next_round = time.monotonic()
    while True:
        if window and outbox.size() > window:  # flow control: never more than this unacknowledged
            for publisher in publishers:
                publisher.tick()
            time.sleep(0.002)
            continue
        produced_all = True
        items = []
        now = time.time()
        for publisher in publishers:
            first = last.get(publisher.device.id, 0) + 1
            seqs = range(first, min(bins, first + per_round - 1) + 1)
            if seqs:
                produced_all = False
                device_id = publisher.device.id
                items += [DeviceBin(device_id, s, now - 30.0, now, {"count": float(s % 50)}) for s in seqs]
                last[device_id] = seqs[-1]
        publish_closed_bins(by_device, items, outbox)  # one outbox commit per round
        for publisher in publishers:
            publisher.tick()
        if produced_all and outbox.size() == 0:
            break
        next_round += every_s
        time.sleep(max(0.0, next_round - time.monotonic()))
    for publisher in publishers:
        publisher.close()
    return 0


def _lines(stream: TextIO, into: queue.Queue[str | None]) -> None:
    for line in stream:
        into.put(line)
    into.put(None)


def _take_rows(
    lines: queue.Queue[str | None], publishers: Mapping[str, DevicePublisher], most: int = 1000
) -> tuple[list[Pending], bool]:
    """The bins waiting on the feed (waiting a little for the first); True once the feed ended."""
    rows: list[Pending] = []
    timeout: float | None = 0.05
    while len(rows) < most:
        try:
            line = lines.get(timeout=timeout) if timeout else lines.get_nowait()
        except queue.Empty:
            return rows, False
        timeout = None
        if line is None:
            return rows, True
        device_id, _, payload = line.strip().partition(" ")
        item = decode_bin(payload.encode(), device_id) if device_id in publishers else None
        if isinstance(item, DeviceBin):  # the feed is ours; anything else is a bug upstream: skipped
            rows.append(Pending(device_id, item.seq, device_topic(device_id, "bins"), payload.encode()))
    return rows, False


def run_field(
    pki: Pki, host: str, port: int, outbox_path: Path, device_ids: Sequence[str], feed: TextIO, drain_s: float
) -> int:
    """Field devices of one process: each its own MQTT identity, one outbox; they publish the bins
    the control center's simulation feeds on ``feed`` (``field_line``), until it ends, then wait
    (up to ``drain_s``) until everything is acknowledged."""
    outbox = Outbox(outbox_path)
    publishers = {}
    for device_id in device_ids:
        device = plain_device(device_id)
        will = Will(*offline_will(device))
        transport = MqttTransport(settings(pki, port, device_id, will, host)).start()
        publishers[device_id] = DevicePublisher(device, transport, outbox, time.time, time.monotonic)
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_lines, args=(feed, lines), daemon=True).start()
    ended = False
    while not ended:
        rows, ended = _take_rows(lines, publishers)
        outbox.add(rows)  # what arrived together is committed together
        for row in rows:
            publishers[row.device].send([row])
            publishers[row.device].heartbeat()
        for publisher in publishers.values():
            publisher.tick()
    deadline = time.monotonic() + drain_s
    while outbox.size() and time.monotonic() < deadline:
        for publisher in publishers.values():
            publisher.tick()
        time.sleep(0.01)
    left = outbox.size()
    for publisher in publishers.values():
        publisher.close()
    outbox.close()
    return 0 if left == 0 else 3


def run_ingest(pki: Pki, port: int, store_path: Path, run_id: str, device_ids: Sequence[str]) -> int:
    store = DeviceStore(store_path)
    devices = by_id(plain_device(d) for d in device_ids)
    ingest = Ingest(store, run_id, devices, time.time, IngestLimits(rate_per_s=None, ack_every_s=ACK_EVERY_S))
    transport = MqttTransport(settings(pki, port, "control-center")).start()
    ingest.attach(transport)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    while not stop:
        ingest.flush()
        time.sleep(FLUSH_EVERY_S)
    ingest.flush()
    transport.close()
    store.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trafficai.iot.headless")
    parser.add_argument("role", choices=("publisher", "ingest", "field"))
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--drain", type=float, default=15.0, help="field: seconds to wait for acks")
    parser.add_argument("--pki", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--devices", required=True, help="comma-separated device ids")
    parser.add_argument("--outbox", type=Path)
    parser.add_argument("--bins", type=int, default=100)
    parser.add_argument("--every", type=float, default=0.01)
    parser.add_argument("--per-round", type=int, default=1, help="bins per device per round (one commit)")
    parser.add_argument("--window", type=int, default=0, help="most bins unacknowledged (0: no limit)")
    parser.add_argument("--store", type=Path)
    parser.add_argument("--run", default="")
    args = parser.parse_args(argv)
    pki, devices = Pki(args.pki), [d for d in args.devices.split(",") if d]
    if args.role == "field":
        return run_field(pki, args.host, args.port, args.outbox, devices, sys.stdin, args.drain)
    if args.role == "publisher":
        return run_publisher(
            pki, args.port, args.outbox, devices, args.bins, args.every, args.per_round, args.window
        )
    return run_ingest(pki, args.port, args.store, args.run, devices)


if __name__ == "__main__":
    sys.exit(main())
