"""The MQTT transport (paho-mqtt 2.x): the only module that imports the MQTT client.

It connects to the one configured broker and nowhere else, always over mutual TLS (the broker's
CA, the identity's certificate and key; host name checked), registers the last will, reconnects by
itself, resubscribes after every reconnection and then calls the ``on_connect`` handlers (the
publishers resend their outboxes there). A broker that is down at start is not an error: the client
keeps trying in its network thread.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from trafficai.errors import ConfigError
from trafficai.iot.bus import ConnectHandler, Handler, Will
from trafficai.iot.topics import topic_matches

READ_BATCH = 64  # packets one network-loop turn reads at most before it writes (PUBACKs, acks)


class _Client(mqtt.Client):
    """paho's client, reading every packet already received in one network-loop turn.

    paho's ``loop_read`` reads as many packets as the client has QoS > 0 messages in flight, at
    least one: a subscriber with nothing in flight (the control center's ingest) gets one packet per
    turn of select(), pending-bytes check, write and keepalive checks. This reads until the socket
    has nothing more (at most ``READ_BATCH`` packets, or paho's own count if larger).
    """

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        for _ in range(max(READ_BATCH, len(self._out_messages) + len(self._in_messages))):
            if self._sock is None:
                return MQTTErrorCode.MQTT_ERR_NO_CONN
            rc = self._packet_read()
            if rc > 0:
                return self._loop_rc_handle(rc)
            if rc == MQTTErrorCode.MQTT_ERR_AGAIN:
                break
        return MQTTErrorCode.MQTT_ERR_SUCCESS


@dataclass(frozen=True, slots=True)
class MqttSettings:
    host: str
    port: int
    ca: Path
    cert: Path
    key: Path
    client_id: str
    keepalive_s: int = 10
    will: Will | None = None

    def check(self) -> None:
        for what, path in (("CA certificate", self.ca), ("certificate", self.cert), ("key", self.key)):
            if not path.is_file():
                raise ConfigError(f"{path}: {what} of MQTT identity {self.client_id} not found")


class MqttTransport:
    """A :class:`~trafficai.iot.bus.Transport` over one MQTT connection."""

    def __init__(self, settings: MqttSettings) -> None:
        settings.check()
        self.settings = settings
        self._handlers: list[tuple[str, Handler]] = []
        self._routes: dict[str, list[Handler]] = {}  # topic -> its handlers (filters matched once)
        self._connect_handlers: list[ConnectHandler] = []
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self.connections = 0
        client = _Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            protocol=mqtt.MQTTv311,
            clean_session=True,
        )
        try:
            client.tls_set(
                ca_certs=str(settings.ca),
                certfile=str(settings.cert),
                keyfile=str(settings.key),
                cert_reqs=ssl.CERT_REQUIRED,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise ConfigError(
                f"MQTT identity {settings.client_id}: cannot load its TLS files: {exc}"
            ) from exc
        if settings.will is not None:
            client.will_set(settings.will.topic, settings.will.payload, qos=1, retain=settings.will.retain)
        client.reconnect_delay_set(min_delay=1, max_delay=2)
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._client = client

    def start(self) -> MqttTransport:
        """Connect in the background (the network thread retries while the broker is away)."""
        self._client.connect_async(
            self.settings.host, self.settings.port, keepalive=self.settings.keepalive_s
        )
        self._client.loop_start()
        return self

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> bool:
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        return info.rc == mqtt.MQTT_ERR_SUCCESS

    def publish_and_wait(self, topic: str, payload: bytes, timeout_s: float = 5.0) -> bool:
        """QoS 1 and wait for the broker's PUBACK (which says nothing about who receives it)."""
        info = self._client.publish(topic, payload, qos=1)
        try:
            info.wait_for_publish(timeout_s)
        except (RuntimeError, ValueError):
            return False
        return info.is_published()

    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        with self._lock:
            self._handlers.append((topic_filter, handler))
            self._routes.clear()
        if self.connected:
            self._client.subscribe(topic_filter, qos=1)

    def on_connect(self, handler: ConnectHandler) -> None:
        with self._lock:
            self._connect_handlers.append(handler)
        if self.connected:
            handler()

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()

    # -- paho callbacks (network thread) ---------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            return
        sock = client.socket()
        if isinstance(sock, socket.socket):  # small messages leave at once (no Nagle delay)
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            filters = sorted({f for f, _ in self._handlers})
            handlers = list(self._connect_handlers)
        for topic_filter in filters:
            client.subscribe(topic_filter, qos=1)
        self.connections += 1
        self._connected.set()
        for handler in handlers:
            handler()

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, _reason: Any, _props: Any
    ) -> None:
        self._connected.clear()

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        topic = message.topic
        with self._lock:
            handlers = self._routes.get(topic)
            if handlers is None:
                handlers = [h for f, h in self._handlers if topic_matches(f, topic)]
                if len(self._routes) < 100_000:  # topics are per device: bounded, but never unbounded
                    self._routes[topic] = handlers
        for handler in handlers:
            handler(topic, bytes(message.payload))
