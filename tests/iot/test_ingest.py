"""The ingest on the in-process bus with a fake clock: exactly once, acks, drops by reason."""

from __future__ import annotations

from pathlib import Path

from tests.iot.helpers import EPOCH, a_bin, device_map, devices, new_run
from trafficai.iot.bus import FakeClock, InProcessBus, Will
from trafficai.iot.ingest import Ingest, IngestLimits
from trafficai.iot.outbox import Outbox
from trafficai.iot.publisher import DevicePublisher, offline_will
from trafficai.iot.senml import DropReason, encode_bin, encode_status
from trafficai.iot.topics import ack_topic, device_topic
from trafficai.storage import RunStore


def _setup(tmp_path: Path, limits: IngestLimits | None = None) -> tuple[InProcessBus, Ingest, FakeClock]:
    store, run_id = new_run(tmp_path / "runs.sqlite")
    clock = FakeClock(EPOCH + 60.0)
    bus = InProcessBus()
    ingest = Ingest(store, run_id, device_map(), clock, limits or IngestLimits())
    ingest.attach(bus.client("control-center"))
    return bus, ingest, clock


def test_bins_are_stored_once_and_acknowledged(tmp_path: Path) -> None:
    bus, ingest, _ = _setup(tmp_path)
    sender = bus.client("e1.d0")
    acks: list[bytes] = []
    sender.subscribe(ack_topic("e1.d0"), lambda _t, p: acks.append(p))
    for seq in (1, 2, 2, 3, 1):
        sender.publish(device_topic("e1.d0", "bins"), encode_bin(a_bin(seq=seq)))
    assert acks == []  # nothing is acknowledged before it is committed
    assert ingest.flush() == 3
    assert [b.seq for b in ingest.store.bins(ingest.run_id)] == [1, 2, 3]
    assert ingest.counters[DropReason.DUPLICATE] == 2
    assert acks[-1] == b'{"seq": 3}'
    assert ingest.store.drops(ingest.run_id) == {("e1.d0", "duplicate"): 2}


def test_watermark_waits_for_a_gap_and_survives_a_restart(tmp_path: Path) -> None:
    bus, ingest, clock = _setup(tmp_path)
    sender = bus.client("e1.d1")
    for seq in (1, 2, 4):
        sender.publish(device_topic("e1.d1", "bins"), encode_bin(a_bin("e1.d1", seq)))
    ingest.flush()
    assert ingest.watermarks()["e1.d1"] == 2
    again = Ingest(ingest.store, ingest.run_id, device_map(), clock)
    assert again.watermarks()["e1.d1"] == 2
    again.handle(device_topic("e1.d1", "bins"), encode_bin(a_bin("e1.d1", 3)))
    again.flush()
    assert again.watermarks()["e1.d1"] == 4
    assert again.counters == {}


def test_stateful_checks_drop_with_reasons(tmp_path: Path) -> None:
    bus, ingest, _ = _setup(tmp_path)
    sender = bus.client("x")
    sender.publish(device_topic("e1.nobody", "bins"), encode_bin(a_bin("e1.nobody")))
    ingest.handle("trafficai/v1/elsewhere", b"[]")  # not subscribed; handled if it came
    sender.publish(device_topic("e1.d0", "bins"), encode_bin(a_bin(t_end=EPOCH + 100_000.0)))
    sender.publish(device_topic("e1.d0", "bins"), encode_bin(a_bin(t_end=EPOCH - 90_000.0)))
    sender.publish(device_topic("e1.d0", "bins"), encode_bin(a_bin(seq=50_000)))
    sender.publish(device_topic("e1.d0", "bins"), encode_bin(a_bin("e1.d1")))  # d1's bin under d0
    ingest.flush()
    assert dict(ingest.counters) == {
        DropReason.UNKNOWN_DEVICE: 1,
        DropReason.UNKNOWN_TOPIC: 1,
        DropReason.BAD_TIMESTAMP: 2,
        DropReason.SEQ_IMPLAUSIBLE: 1,
        DropReason.DEVICE_MISMATCH: 1,
    }
    assert ingest.store.bins(ingest.run_id) == []
    with RunStore(ingest.store.path) as store:
        kinds = [e.kind for e in store.events(ingest.run_id)]
    assert kinds.count("iot_drop") == 5  # one per (device, reason); unknown senders share one


def test_a_flood_is_rate_limited_and_others_are_unaffected(tmp_path: Path) -> None:
    bus, ingest, clock = _setup(tmp_path, IngestLimits(rate_per_s=1.0, burst=5.0))
    flooder, honest = bus.client("e1.d0"), bus.client("e1.d1")
    for seq in range(1, 101):
        flooder.publish(device_topic("e1.d0", "bins"), encode_bin(a_bin(seq=seq)))
    for seq in range(1, 4):
        clock.advance(30.0)
        honest.publish(device_topic("e1.d1", "bins"), encode_bin(a_bin("e1.d1", seq, clock())))
    ingest.flush()
    assert ingest.counters[DropReason.RATE_LIMITED] == 95
    assert [b.seq for b in ingest.store.bins(ingest.run_id, "e1.d1")] == [1, 2, 3]


def test_publisher_outbox_empties_on_ack_and_resends_what_was_lost(tmp_path: Path) -> None:
    bus, ingest, clock = _setup(tmp_path)
    device = devices()[0]
    topic, payload = offline_will(device)
    client = bus.client(device.id, Will(topic, payload))
    outbox = Outbox(tmp_path / "outbox.sqlite")
    publisher = DevicePublisher(device, client, outbox, clock)
    assert bus.retained(device_topic(device.id, "status")) == encode_status("online", device.firmware)
    publisher.publish([a_bin(seq=1), a_bin(seq=2)])
    assert outbox.size() == 2
    ingest.flush()
    assert outbox.size() == 0
    ingest._pending.clear()  # simulate the ingest losing what it had not committed
    ingest._pending_keys.clear()
    publisher.publish([a_bin(seq=3)])
    ingest._pending.clear()
    ingest._pending_keys.clear()
    assert outbox.size() == 1
    clock.advance(10.0)
    publisher.tick()  # the ack is overdue: resend
    ingest.flush()
    assert outbox.size() == 0 and [b.seq for b in ingest.store.bins(ingest.run_id)] == [1, 2, 3]
    client.drop()
    assert bus.retained(device_topic(device.id, "status")) == payload
    ingest.flush()
    assert ingest.store.devices(ingest.run_id) == []  # nothing registered in this test


def test_status_and_heartbeat_update_the_inventory(tmp_path: Path) -> None:
    from trafficai.iot.ingest import device_row

    bus, ingest, clock = _setup(tmp_path)
    ingest.store.register(ingest.run_id, [device_row(d, "ab:cd") for d in devices()])
    device = devices()[1]
    publisher = DevicePublisher(device, bus.client(device.id), None, clock)
    clock.advance(5.0)
    publisher.heartbeat()
    ingest.flush()
    row = {r.device_id: r for r in ingest.store.devices(ingest.run_id)}[device.id]
    assert (row.status, row.last_seen, row.fingerprint) == ("online", clock(), "ab:cd")
    publisher.close()
    ingest.flush()
    row = {r.device_id: r for r in ingest.store.devices(ingest.run_id)}[device.id]
    assert row.status == "offline"
