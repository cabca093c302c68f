"""Attacks on a real Mosquitto configured by ``trafficai iot init``: each case asserts on what the
receiving side got (the control center, the ingest's store, or the attacker as a subscriber) after
a legitimate marker message that the broker handled later; never on the attacker's return codes
(a broker with an ACL acknowledges a forbidden publish all the same)."""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from tests.iot.helpers import EPOCH, a_bin
from tests.iot.mqtt_support import Broker, Identity, RawClient, Received, needs_mosquitto, run_broker
from trafficai.iot.devices import Device, by_id
from trafficai.iot.ingest import Ingest, IngestLimits
from trafficai.iot.pki import Pki, init_pki, issue, new_ca, revoke
from trafficai.iot.senml import DropReason, encode_bin
from trafficai.iot.topics import ack_topic, device_topic, signal_command_topic
from trafficai.storage import RunStore
from trafficai.storage.devices import DeviceStore

pytestmark = [pytest.mark.mqtt, needs_mosquitto]

DEVICES = ("e1.d0", "e1.d1", "e1.d2", "e1.revoked")
IDENTITIES = ("control-center", "reader", *DEVICES, "e1.rogue")
SECRET = b"attack-payload"


def _write_pair(folder: Path, name: str, pair: tuple[object, object]) -> Identity:
    key, cert = pair
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.key").write_bytes(
        key.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    (folder / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))  # type: ignore[attr-defined]
    return Identity(folder / f"{name}.pem", folder / f"{name}.key", None)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    root = tmp_path_factory.mktemp("pki")
    pki = init_pki(root, IDENTITIES)
    revoke(pki, "e1.revoked")
    # forged identities, outside the PKI folder
    bad = root.parent / (root.name + "-bad")
    other_key, other_ca = new_ca("another CA")
    _write_pair(bad, "other-ca-device", issue(other_key, other_ca, "e1.d0"))
    _write_pair(bad, "other-ca-cc", issue(other_key, other_ca, "control-center"))
    _write_pair(bad, "self-signed-cc", new_ca("control-center"))
    ca_key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), None)
    from cryptography import x509

    ca_cert = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    now = dt.datetime.now(dt.UTC)
    past = {"not_before": now - dt.timedelta(days=30), "not_after": now - dt.timedelta(days=1)}
    future = {"not_before": now + dt.timedelta(days=1), "not_after": now + dt.timedelta(days=30)}
    _write_pair(bad, "expired", issue(ca_key, ca_cert, "e1.d0", **past))  # type: ignore[arg-type]
    _write_pair(bad, "not-yet-valid", issue(ca_key, ca_cert, "e1.d0", **future))  # type: ignore[arg-type]
    return pki


def _bad(pki: Pki, name: str) -> Identity:
    folder = pki.root.parent / (pki.root.name + "-bad")
    return Identity(folder / f"{name}.pem", folder / f"{name}.key", pki.ca_cert)


def _own(pki: Pki, identity: str) -> Identity:
    return Identity(pki.client_cert(identity), pki.client_key(identity), pki.ca_cert)


@pytest.fixture
def broker(pki: Pki, tmp_path: Path) -> Iterator[Broker]:
    yield from run_broker(pki, tmp_path)


@pytest.fixture
def center(broker: Broker) -> Iterator[Received]:
    """The control center, subscribed to everything it may read."""
    received = Received()
    transport = broker.transport("control-center")
    transport.subscribe("trafficai/#", received)
    assert transport.wait_connected(5.0)
    yield received
    transport.close()


def _marker(broker: Broker, received: Received, tag: str = "marker") -> None:
    """A legitimate message after the attack: once it arrived, the attack's would have, too."""
    honest = broker.transport("e1.d2")
    assert honest.wait_connected(5.0)
    payload = f"{tag}-{id(received)}".encode()
    assert honest.publish_and_wait(device_topic("e1.d2", "heartbeat"), payload)
    assert received.wait_for(payload), "the legitimate marker never arrived: the test proves nothing"
    honest.close()


# -- who may connect -----------------------------------------------------------------------------

CONNECT_ATTACKS = {
    "anonymous_plain_tcp": lambda pki: (None, {}),
    "plain_tcp_with_username_and_password": lambda pki: (
        None,
        {"username": "control-center", "password": "guess"},
    ),
    "anonymous_over_tls": lambda pki: (Identity(None, None, pki.ca_cert), {}),
    "wrong_password_over_tls": lambda pki: (
        Identity(None, None, pki.ca_cert),
        {"username": "control-center", "password": "wrong"},
    ),
    "certificate_from_another_ca": lambda pki: (_bad(pki, "other-ca-device"), {}),
    "control_center_cn_from_another_ca": lambda pki: (_bad(pki, "other-ca-cc"), {}),
    "self_signed_control_center": lambda pki: (_bad(pki, "self-signed-cc"), {}),
    "expired_certificate": lambda pki: (_bad(pki, "expired"), {}),
    "not_yet_valid_certificate": lambda pki: (_bad(pki, "not-yet-valid"), {}),
    "revoked_certificate": lambda pki: (_own(pki, "e1.revoked"), {}),
    "broker_certificate_as_client": lambda pki: (
        Identity(pki.server_cert, pki.server_key, pki.ca_cert),
        {},
    ),
}


@pytest.mark.parametrize("attack", sorted(CONNECT_ATTACKS))
def test_refused_identities_deliver_nothing(attack: str, pki: Pki, broker: Broker, center: Received) -> None:
    who, login = CONNECT_ATTACKS[attack](pki)
    attacker = RawClient(broker.port, who, "e1.d0", **login)
    payload = SECRET + attack.encode()
    attacker.publish(device_topic("e1.d0", "bins"), payload)
    attacker.publish(signal_command_topic("J1"), payload)
    attacker.close()
    _marker(broker, center)
    assert payload not in center.payloads()


# -- what a legitimate device may do -------------------------------------------------------------

PUBLISH_ATTACKS = {
    "publish_under_another_devices_bins": device_topic("e1.d1", "bins"),
    "publish_another_devices_status": device_topic("e1.d1", "status"),
    "forge_another_devices_ack": ack_topic("e1.d1"),
    "publish_own_ack": ack_topic("e1.d0"),
    "publish_signal_command": signal_command_topic("J1"),
    "publish_an_unknown_channel": "trafficai/v1/devices/e1.d0/firmware",
    "publish_above_the_device_tree": "trafficai/v1/devices",
}


@pytest.mark.parametrize("attack", sorted(PUBLISH_ATTACKS))
def test_a_device_publishes_only_under_its_own_topics(
    attack: str, pki: Pki, broker: Broker, center: Received
) -> None:
    attacker = RawClient(broker.port, _own(pki, "e1.d0"), "e1.d0")
    payload = SECRET + attack.encode()
    attacker.publish(PUBLISH_ATTACKS[attack], payload, retain=True)
    attacker.close()
    _marker(broker, center)
    assert payload not in center.payloads()


@pytest.mark.parametrize(
    "topic_filter", ["#", "trafficai/#", "trafficai/v1/devices/+/bins", "trafficai/v1/acks/e1.d1", "$SYS/#"]
)
def test_a_device_reads_nothing_of_the_others(
    topic_filter: str, pki: Pki, broker: Broker, center: Received
) -> None:
    spy = RawClient(broker.port, _own(pki, "e1.d0"), "e1.d0")
    spy.subscribe(topic_filter)
    cc = broker.transport("control-center", client_id="control-center-2")
    assert cc.wait_connected(5.0)
    assert cc.publish_and_wait(ack_topic("e1.d1"), b'{"seq": 1}')
    assert cc.publish_and_wait(signal_command_topic("J1"), b"hold")
    own_ack = b'{"seq": 7}'
    assert cc.publish_and_wait(ack_topic("e1.d0"), own_ack)
    _marker(broker, center)  # e1.d2's heartbeat: the spy may not read it either
    if topic_filter in ("#", "trafficai/#"):
        assert spy.received.wait_for(own_ack)  # it may read its own acks: the subscription worked
    spy.close()
    cc.close()
    assert all(t == ack_topic("e1.d0") for t, _ in spy.received.messages)


def test_the_reader_reads_the_stream_but_cannot_publish(pki: Pki, broker: Broker, center: Received) -> None:
    sub = subprocess.Popen(
        ["mosquitto_sub", "-h", "localhost", "-p", str(broker.port), "--cafile", str(pki.ca_cert),
         "--cert", str(pki.client_cert("reader")), "--key", str(pki.client_key("reader")),
         "-t", "trafficai/v1/devices/+/heartbeat", "-C", "1", "-W", "10"],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    reader = RawClient(broker.port, _own(pki, "reader"), "reader")
    reader.publish(device_topic("e1.d1", "bins"), SECRET + b"reader")
    reader.publish(signal_command_topic("J1"), SECRET + b"reader")
    reader.close()
    for _ in range(20):  # mosquitto_sub subscribes in its own time: repeat the marker until it has one
        _marker(broker, center, "stream")
        if sub.poll() is not None:
            break
    out, _ = sub.communicate(timeout=10)
    assert out.startswith(b"stream-")
    assert not any(p.startswith(SECRET) for p in center.payloads())


def test_reusing_another_devices_client_id_spoofs_nothing(pki: Pki, broker: Broker, center: Received) -> None:
    victim = broker.transport("e1.d1")
    assert victim.wait_connected(5.0)
    attacker = RawClient(broker.port, _own(pki, "e1.d0"), "e1.d1")  # takes over the session
    attacker.publish(device_topic("e1.d1", "bins"), SECRET + b"takeover")
    attacker.close()
    assert victim.wait_connected(10.0)  # the victim reconnects by itself
    assert victim.publish_and_wait(device_topic("e1.d1", "heartbeat"), b"victim-back")
    _marker(broker, center)
    victim.close()
    assert center.wait_for(b"victim-back")
    assert SECRET + b"takeover" not in center.payloads()


# -- what reaches the ingest ---------------------------------------------------------------------


@pytest.fixture
def ingest(broker: Broker, tmp_path: Path) -> Iterator[Ingest]:
    with RunStore(tmp_path / "runs.sqlite") as runs:
        run_id = runs.create_run("attack", "fixed", 1, {})
    devices = by_id(Device(d, "e1", d, "", "", 0.0, 0.0) for d in DEVICES)
    store = DeviceStore(tmp_path / "runs.sqlite")
    now = EPOCH + 60.0
    ingest = Ingest(store, run_id, devices, lambda: now, IngestLimits(rate_per_s=0.001, burst=20))
    transport = broker.transport("control-center")
    ingest.attach(transport)
    assert transport.wait_connected(5.0)
    yield ingest
    transport.close()
    store.close()


def _send_then_flush(
    broker: Broker, ingest: Ingest, identity: str, messages: list[tuple[str, bytes]]
) -> None:
    device = RawClient(broker.port, _own(broker.pki, identity), identity)
    for topic, payload in messages:
        device.publish(topic, payload)
    device.close()
    marker_bin = encode_bin(a_bin("e1.d2", 1))
    honest = broker.transport("e1.d2")
    assert honest.wait_connected(5.0)
    honest.publish_and_wait(device_topic("e1.d2", "bins"), marker_bin)
    honest.close()
    for _ in range(100):
        ingest.flush()
        if any(b.device_id == "e1.d2" for b in ingest.store.bins(ingest.run_id)):
            return
        time.sleep(0.05)
    raise AssertionError("the marker bin never reached the ingest")


def _bins(ingest: Ingest, device: str) -> list[int]:
    return [b.seq for b in ingest.store.bins(ingest.run_id, device)]


def test_a_replayed_bin_is_stored_once(broker: Broker, ingest: Ingest) -> None:
    payload = encode_bin(a_bin("e1.d0", 1))
    _send_then_flush(broker, ingest, "e1.d0", [(device_topic("e1.d0", "bins"), payload)] * 3)
    assert _bins(ingest, "e1.d0") == [1]
    assert ingest.counters[DropReason.DUPLICATE] == 2


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"[" + b" " * 8000 + b"]", DropReason.OVERSIZED),  # under the broker's limit, over the ingest's
        (b'[{"bn": "trafficai:e1.d0:", "bt": ', DropReason.NOT_JSON),
        (
            b'[{"bn": "trafficai:e1.d0:", "bt": 1704067230, "n": "seq", "v": 1}, {"n": "x"}]',
            DropReason.MISSING_FIELD,
        ),
        (encode_bin(a_bin("e1.d1", 1)), DropReason.DEVICE_MISMATCH),  # another device's bin, own topic
        (encode_bin(a_bin("e1.d0", 1, t_end=EPOCH + 86_400.0)), DropReason.BAD_TIMESTAMP),
        (encode_bin(a_bin("e1.d0", 1_000_000)), DropReason.SEQ_IMPLAUSIBLE),
    ],
)
def test_bad_payloads_are_dropped_with_their_reason(
    payload: bytes, reason: DropReason, broker: Broker, ingest: Ingest
) -> None:
    _send_then_flush(broker, ingest, "e1.d0", [(device_topic("e1.d0", "bins"), payload)])
    assert _bins(ingest, "e1.d0") == []
    assert ingest.counters[reason] == 1
    assert ingest.store.drops(ingest.run_id) == {("e1.d0", reason.value): 1}


def test_a_message_over_the_broker_limit_never_arrives(broker: Broker, ingest: Ingest) -> None:
    _send_then_flush(broker, ingest, "e1.d0", [(device_topic("e1.d0", "bins"), b"[" + b" " * 40_000 + b"]")])
    assert ingest.counters == {}  # the broker cut the attacker off; nothing reached the ingest


def test_a_device_with_a_valid_certificate_but_not_in_the_inventory(broker: Broker, ingest: Ingest) -> None:
    _send_then_flush(
        broker, ingest, "e1.rogue", [(device_topic("e1.rogue", "bins"), encode_bin(a_bin("e1.rogue")))]
    )
    assert ingest.counters[DropReason.UNKNOWN_DEVICE] == 1
    assert _bins(ingest, "e1.rogue") == []


def test_a_flood_is_rate_limited_and_others_are_unaffected(broker: Broker, ingest: Ingest) -> None:
    flood = [(device_topic("e1.d0", "bins"), encode_bin(a_bin("e1.d0", s))) for s in range(1, 201)]
    _send_then_flush(broker, ingest, "e1.d0", flood)
    assert len(_bins(ingest, "e1.d0")) == 20  # the burst allowance
    assert ingest.counters[DropReason.RATE_LIMITED] == 180
    assert _bins(ingest, "e1.d2") == [1]
    with RunStore(ingest.store.path) as runs:
        assert any(e.kind == "iot_drop" and "rate_limited" in e.message for e in runs.events(ingest.run_id))
