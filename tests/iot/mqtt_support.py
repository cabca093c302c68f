"""A real Mosquitto for the broker tests: a PKI per module, a broker on a free port per test,
ended by its pid; raw paho clients for attackers (the product's own client refuses to misbehave)."""

from __future__ import annotations

import contextlib
import os
import signal
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from trafficai.iot.broker import MOSQUITTO_PATHS, free_port, start_broker, write_broker_files
from trafficai.iot.bus import Will
from trafficai.iot.mqtt_client import MqttSettings, MqttTransport
from trafficai.iot.pki import Pki

HAVE_MOSQUITTO = any(Path(p).is_file() for p in MOSQUITTO_PATHS)
needs_mosquitto = pytest.mark.skipif(
    not HAVE_MOSQUITTO, reason="Mosquitto is not installed (apt-get install mosquitto; .ci/run does it)"
)


@dataclass
class Broker:
    pki: Pki
    port: int
    conf: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = start_broker(self.conf, log=self.log)

    def kill(self) -> None:
        """SIGKILL by pid: no goodbye, no persistence."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def transport(
        self, identity: str, client_id: str | None = None, will: Will | None = None
    ) -> MqttTransport:
        settings = MqttSettings(
            "localhost",
            self.port,
            self.pki.ca_cert,
            self.pki.client_cert(identity),
            self.pki.client_key(identity),
            client_id or identity,
            keepalive_s=5,
            will=will,
        )
        return MqttTransport(settings).start()


def run_broker(pki: Pki, tmp_path: Path) -> Iterator[Broker]:
    port = free_port()
    conf = write_broker_files(pki, port, tmp_path / "mosquitto.conf")
    broker = Broker(pki, port, conf, tmp_path / "mosquitto.log")
    broker.start()
    try:
        yield broker
    finally:
        broker.kill()


@dataclass
class Received:
    """Everything one subscriber got, with a way to wait for a marker message."""

    messages: list[tuple[str, bytes]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def __call__(self, topic: str, payload: bytes) -> None:
        with self.arrived:
            self.messages.append((topic, payload))
            self.arrived.notify_all()

    def wait_for(self, payload: bytes, timeout_s: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout_s
        with self.arrived:
            while not any(p == payload for _, p in self.messages):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.arrived.wait(left)
        return True

    def payloads(self) -> list[bytes]:
        with self.arrived:
            return [p for _, p in self.messages]


@dataclass(frozen=True)
class Identity:
    cert: Path | None
    key: Path | None
    ca: Path | None  # to check the broker (an attacker would skip that; we keep it to reach the broker)


class RawClient:
    """A paho client that does whatever the test asks; its own results are never asserted on."""

    def __init__(self, port: int, who: Identity | None, client_id: str = "attacker", **login: str) -> None:
        self.port, self.received = port, Received()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
        self.connected, self.subscribed = threading.Event(), threading.Event()
        self.settled = threading.Event()  # connected, refused or cut off: no need to wait longer
        self.client.on_connect = lambda *_a: (self.connected.set(), self.settled.set())
        self.client.on_disconnect = lambda *_a: self.settled.set()
        self.client.on_connect_fail = lambda *_a: self.settled.set()
        self.client.on_subscribe = lambda *_a: self.subscribed.set()
        self.client.on_message = lambda _c, _u, m: self.received(m.topic, bytes(m.payload))
        if login:
            self.client.username_pw_set(login["username"], login.get("password"))
        if who is not None:
            context = ssl.create_default_context(cafile=str(who.ca) if who.ca else None)
            context.check_hostname = False
            if who.ca is None:
                context.verify_mode = ssl.CERT_NONE
            if who.cert is not None and who.key is not None:
                context.load_cert_chain(str(who.cert), str(who.key))
            self.client.tls_set_context(context)
        try:
            self.client.connect("localhost", port, keepalive=5)
        except (OSError, ssl.SSLError):
            return
        self.client.loop_start()
        self.settled.wait(2.0)

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        if not self.connected.is_set():
            return  # refused: nothing can be sent (the receiver-side check still runs)
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        with contextlib.suppress(RuntimeError, ValueError):
            info.wait_for_publish(2.0)

    def subscribe(self, topic_filter: str) -> None:
        self.subscribed.clear()
        self.client.subscribe(topic_filter, qos=1)
        self.subscribed.wait(2.0)  # a refused subscription is acknowledged all the same

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
