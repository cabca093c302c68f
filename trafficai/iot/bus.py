"""The transport seam: a ``Transport`` Protocol, the in-process bus (the default: no broker) and a
fake clock for tests.

The in-process bus behaves like a broker for one process: topic filters, retained messages and a
last will published when a client goes away without saying goodbye. Delivery is synchronous.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from trafficai.iot.topics import topic_matches

Handler = Callable[[str, bytes], object]
ConnectHandler = Callable[[], None]


class Transport(Protocol):
    """What devices and the ingest need from a message transport (in-process bus or MQTT)."""

    @property
    def connected(self) -> bool: ...

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> bool:
        """Hand a message to the transport; False when it certainly was not sent (not connected)."""
        ...

    def subscribe(self, topic_filter: str, handler: Handler) -> None: ...

    def on_connect(self, handler: ConnectHandler) -> None:
        """Call ``handler`` after every (re)connection: publishers resend their outbox then."""
        ...

    def close(self) -> None: ...


@dataclass
class FakeClock:
    """Epoch seconds that move only when told."""

    now_s: float = 1_704_067_200.0  # 2024-01-01T00:00:00Z

    def __call__(self) -> float:
        return self.now_s

    def advance(self, seconds: float) -> None:
        self.now_s += seconds


@dataclass(frozen=True, slots=True)
class Will:
    topic: str
    payload: bytes
    retain: bool = True


@dataclass
class InProcessBus:
    """A broker inside the process; ``client(name)`` gives a :class:`Transport`."""

    _subscriptions: list[tuple[str, Handler]] = field(default_factory=list)
    _retained: dict[str, bytes] = field(default_factory=dict)
    _routes: dict[str, list[Handler]] = field(default_factory=dict)
    delivered: int = 0

    def client(self, name: str, will: Will | None = None) -> BusClient:
        return BusClient(self, name, will)

    def deliver(self, topic: str, payload: bytes, retain: bool) -> None:
        if retain:
            if payload:
                self._retained[topic] = payload
            else:  # an empty retained message clears the topic, as in MQTT
                self._retained.pop(topic, None)
        handlers = self._routes.get(topic)
        if handlers is None:
            handlers = self._routes[topic] = [h for f, h in self._subscriptions if topic_matches(f, topic)]
        for handler in handlers:
            self.delivered += 1
            handler(topic, payload)

    def add_subscription(self, topic_filter: str, handler: Handler) -> None:
        self._subscriptions.append((topic_filter, handler))
        self._routes.clear()
        for topic, payload in list(self._retained.items()):
            if topic_matches(topic_filter, topic):
                handler(topic, payload)

    def remove_handlers(self, handlers: list[Handler]) -> None:
        self._subscriptions = [(f, h) for f, h in self._subscriptions if h not in handlers]
        self._routes.clear()

    def retained(self, topic: str) -> bytes | None:
        return self._retained.get(topic)


class BusClient:
    """One client of an :class:`InProcessBus`."""

    def __init__(self, bus: InProcessBus, name: str, will: Will | None) -> None:
        self.bus, self.name, self.will = bus, name, will
        self._handlers: list[Handler] = []
        self._open = True

    @property
    def connected(self) -> bool:
        return self._open

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> bool:
        if not self._open:
            return False
        self.bus.deliver(topic, payload, retain)
        return True

    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        self._handlers.append(handler)
        self.bus.add_subscription(topic_filter, handler)

    def on_connect(self, handler: ConnectHandler) -> None:
        handler()  # always connected

    def close(self) -> None:
        """A clean goodbye: no last will."""
        self._leave()

    def drop(self) -> None:
        """The link dies: the bus publishes the last will."""
        self._leave()
        if self.will is not None:
            self.bus.deliver(self.will.topic, self.will.payload, self.will.retain)

    def _leave(self) -> None:
        self._open = False
        self.bus.remove_handlers(self._handlers)
        self._handlers = []
