"""The control center's ingest: validates every inbound device message, stores each bin exactly once
and acknowledges a per-device watermark so publishers can empty their outboxes.

Nothing a device sends can crash it: every message is either stored or dropped with a reason code
(``senml.DropReason``), counted per device in the run store and reported in the events list.
Stored means committed: acknowledgements go out only after the bins' transaction.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from trafficai.core.events import Event
from trafficai.iot.bus import Transport
from trafficai.iot.camera_names import coverage_drop
from trafficai.iot.devices import Device, DeviceBin
from trafficai.iot.senml import (
    Drop,
    DropReason,
    decode_bin,
    decode_heartbeat,
    decode_status,
    encode_ack,
)
from trafficai.iot.topics import DEVICE_SUBSCRIPTION, ack_topic, parse_device_topic
from trafficai.storage.devices import BinRow, DeviceRow, DeviceStore

Clock = Callable[[], float]
EventSink = Callable[[Event], None]
EVENT_INTERVAL_S = 10.0  # at most one drop event per device and reason this often
# topics repeat (a few per device): parsed once each, bounded against a sender inventing topics
_device_topic = lru_cache(maxsize=65_536)(parse_device_topic)


@dataclass(frozen=True, slots=True)
class IngestLimits:
    """What a plausible message is. Rates are messages per second of the ingest's clock."""

    max_age_s: float = 86_400.0  # a bin older than this (by its own time) is refused
    max_future_s: float = 120.0  # clocks drift; more than this ahead is refused
    max_seq_jump: int = 10_000  # a sequence number this far past the device's highest is refused
    rate_per_s: float | None = 10.0  # per device; a bin every 30 s plus heartbeats and resends
    burst: float = 200.0  # an outbox draining after an outage sends this many at once
    # bins per transaction when many arrive on the store's thread (the in-process bus): a commit
    # writes every B-tree page it touched to the WAL, so 2,000 bins cost a quarter of 4 x 500's
    batch: int = 2000
    # a device's watermark is acknowledged at most this often (wall seconds; 0: at every flush). An
    # ack is a retained QoS-1 message and a DELETE commit in the publisher's outbox: at a flush every
    # few milliseconds, one per flush would cost more than the bins
    ack_every_s: float = 0.0


@dataclass
class _DeviceState:
    watermark: int = 0  # every seq up to here is stored
    above: set[int] = field(default_factory=set)  # stored seqs past the watermark
    tokens: float = 0.0
    refill_at: float = 0.0
    acked: int = -1
    acked_at: float = -1e18  # time.monotonic() of the last ack sent

    def stored(self, seq: int) -> bool:
        return seq <= self.watermark or seq in self.above

    def mark(self, seq: int) -> None:
        self.above.add(seq)
        while self.watermark + 1 in self.above:
            self.watermark += 1
            self.above.discard(self.watermark)

    @property
    def highest(self) -> int:
        return max(self.above) if self.above else self.watermark


def device_row(device: Device, fingerprint: str = "") -> DeviceRow:
    return DeviceRow(
        device.id,
        device.kind,
        device.source,
        device.lane,
        device.approach,
        device.x,
        device.y,
        device.firmware,
        fingerprint,
    )


class Ingest:
    """Ingests device messages of run ``run_id`` into ``store``.

    ``handle`` may be called from a transport's network thread; ``flush`` writes what was accepted
    (call it often, or use ``handle``'s automatic flush at ``limits.batch``).
    """

    def __init__(
        self,
        store: DeviceStore,
        run_id: str,
        devices: Mapping[str, Device],
        clock: Clock,
        limits: IngestLimits = IngestLimits(),
        acks: Transport | None = None,
        *,
        events: EventSink | None = None,
        event_clock: Clock | None = None,
    ) -> None:
        """``clock``: the time of the payloads (epoch s), for the time bounds and the rate limit;
        ``event_clock``: the time events are stamped with (a live run: simulation seconds; default
        ``clock``); ``events``: where events go (default: the store's events of the run)."""
        self.store, self.run_id, self.devices, self.clock, self.limits = store, run_id, devices, clock, limits
        self.acks = acks
        self.event_clock = event_clock or clock
        self._sink = events or self._store_event
        self.quiet_status = False  # True: status changes are recorded but raise no event (start/end)
        # the live view (devices panel): last known status and when, last seen, drops so far
        self.status: dict[str, tuple[str, float]] = {}
        self.last_seen: dict[str, float] = {}
        self.last_beat: dict[str, float] = {}  # event-clock time of each device's latest heartbeat
        self.drop_totals: Counter[tuple[str, str]] = Counter()
        self.counters: Counter[DropReason] = Counter()
        self.accepted = 0
        self.stored = 0
        self._lock = threading.RLock()
        self._owner = threading.get_ident()
        self._pending: list[DeviceBin] = []
        self._pending_keys: set[tuple[str, int]] = set()
        self._committing: set[tuple[str, int]] = set()  # the keys of the flush being committed
        self._drops: Counter[tuple[str, str]] = Counter()
        self._last_event: dict[tuple[str, str], float] = {}
        # status changes and last-seen times wait for flush: the store belongs to the flushing thread
        self._seen: dict[str, tuple[str | None, float]] = {}
        self._states: dict[str, _DeviceState] = {d: _DeviceState() for d in devices}
        for device, seqs in store.seqs(run_id).items():  # a restarted ingest resumes its watermarks
            state = self._states.setdefault(device, _DeviceState())
            for seq in seqs:
                state.mark(seq)
        self.on_stored: Callable[[list[DeviceBin]], None] | None = None

    def attach(self, transport: Transport) -> None:
        """Subscribe to every device topic on ``transport`` (and acknowledge through it)."""
        self.acks = self.acks or transport
        transport.subscribe(DEVICE_SUBSCRIPTION, self.handle)

    # -- inbound ---------------------------------------------------------------------------------

    def handle(self, topic: str, payload: bytes) -> DeviceBin | Drop | None:
        """Validate one message; a bin is queued for the next flush. Never raises for bad input."""
        with self._lock:
            try:
                result = self._handle(topic, payload)
            except Exception as exc:  # a bug must cost a message, not the ingest
                result = Drop(DropReason.BAD_FIELD, f"internal: {type(exc).__name__}")
            if isinstance(result, Drop):
                parsed = _device_topic(topic)
                device = parsed[0] if parsed and parsed[0] in self.devices else ""
                self.counters[result.reason] += 1
                self._drops[(device, result.reason.value)] += 1
                self.drop_totals[(device, result.reason.value)] += 1
            # only the store's own thread may write; a transport's network thread leaves it to flush()
            if len(self._pending) >= self.limits.batch and threading.get_ident() == self._owner:
                self.flush()
            return result

    def _handle(self, topic: str, payload: bytes) -> DeviceBin | Drop | None:
        parsed = _device_topic(topic)
        if parsed is None:
            return Drop(DropReason.UNKNOWN_TOPIC, topic[:80])
        device, channel = parsed
        if device not in self.devices:
            return Drop(DropReason.UNKNOWN_DEVICE, device[:80])
        state = self._states[device]
        if not self._take_token(state):
            return Drop(DropReason.RATE_LIMITED, device)
        if channel == "status":
            status = decode_status(payload)
            if isinstance(status, Drop):
                return status
            # written by flush(): this may be a transport's network thread, the store is not its
            self._seen[device] = (status[0], self.clock())
            return None
        if channel == "heartbeat":
            beat = decode_heartbeat(payload, device)
            if isinstance(beat, Drop):
                return beat
            self._note_seen(device)
            self.last_beat[device] = self.event_clock()
            return None
        item = decode_bin(payload, device)
        if isinstance(item, Drop):
            return item
        if device.startswith("cam."):  # a camera names only what it covers
            uncovered = coverage_drop(self.devices[device], item.values)
            if uncovered is not None:
                return uncovered
        return self._check_bin(item, state)  # notes the device seen when the bin is accepted

    def _note_seen(self, device: str, now: float | None = None) -> None:
        previous = self._seen.get(device, (None, 0.0))[0]
        self._seen[device] = (previous, self.clock() if now is None else now)
        self.last_seen[device] = self.event_clock()

    def _check_bin(self, item: DeviceBin, state: _DeviceState) -> DeviceBin | Drop:
        now, limits, seq = self.clock(), self.limits, item.seq
        if not now - limits.max_age_s <= item.t_end <= now + limits.max_future_s:
            return Drop(DropReason.BAD_TIMESTAMP, f"bin time {item.t_end:.0f} outside bounds at {now:.0f}")
        key = (item.device, seq)
        known = seq <= state.watermark or seq in state.above  # stored
        if known or key in self._pending_keys or key in self._committing:
            state.acked = -1  # a resend means our ack was lost: send it again
            return Drop(DropReason.DUPLICATE, f"seq {seq} already stored")
        if seq > state.highest + limits.max_seq_jump:
            return Drop(DropReason.SEQ_IMPLAUSIBLE, f"seq {seq} after {state.highest}")
        self._pending.append(item)
        self._pending_keys.add(key)
        self.accepted += 1
        self._note_seen(item.device, now)
        return item

    def _take_token(self, state: _DeviceState) -> bool:
        rate = self.limits.rate_per_s
        if rate is None:
            return True
        now = self.clock()
        if state.refill_at == 0.0:
            state.tokens, state.refill_at = self.limits.burst, now
        state.tokens = min(self.limits.burst, state.tokens + (now - state.refill_at) * rate)
        state.refill_at = now
        if state.tokens < 1.0:
            return False
        state.tokens -= 1.0
        return True

    # -- outbound --------------------------------------------------------------------------------

    def flush(self) -> int:
        """Commit the accepted bins and drop counters, then acknowledge; how many bins were new.

        The commit runs outside the lock ``handle`` takes, so a transport's network thread goes on
        validating meanwhile (sqlite releases the GIL); the bins being committed still count as
        known, so a resend arriving during the commit is dropped as a duplicate. Call it from the
        store's thread only (one flush at a time)."""
        with self._lock:
            pending, self._pending = self._pending, []
            self._committing, self._pending_keys = self._pending_keys, set()
            drops, self._drops = self._drops, Counter()
            seen, self._seen = self._seen, {}
            if not pending and not drops and not seen and all(
                s.acked == s.watermark for s in self._states.values()
            ):
                return 0
        rows = [BinRow(b.device, b.seq, b.t_begin, b.t_end, b.values) for b in pending]
        try:  # bins, drop counters, statuses and last-seen times: one transaction per flush
            fresh = self.store.add_bins(
                self.run_id, rows, dict(drops), [(d, status, at) for d, (status, at) in seen.items()]
            )
        except BaseException:
            with self._lock:
                self._committing = set()
            raise
        with self._lock:
            for item in pending:  # stored now: known by the watermarks from here on
                self._states[item.device].mark(item.seq)
            self._committing = set()
            self._report_status(seen)
            new = [b for b, is_new in zip(pending, fresh, strict=True) if is_new]
            self.stored += len(new)
            self._report_drops(drops)
            self._send_acks()
        if new and self.on_stored is not None:
            self.on_stored(new)
        return len(new)

    def _report_status(self, seen: Mapping[str, tuple[str | None, float]]) -> None:
        for device, (status, _at) in seen.items():
            if status is None:
                continue
            previous = self.status.get(device, ("", 0.0))[0]
            self.status[device] = (status, self.event_clock())
            if status != previous and not self.quiet_status:
                severity = "warning" if status == "offline" else "info"
                message = f"device {device} {status}"
                self._sink(Event(self.event_clock(), severity, "iot_status", message, device))

    def _store_event(self, event: Event) -> None:
        self.store.add_event(self.run_id, event.time_s, event.severity, event.kind, event.message)

    def _send_acks(self) -> None:
        if self.acks is None:
            return
        now = time.monotonic()
        every = self.limits.ack_every_s
        for device, state in self._states.items():
            if state.acked == state.watermark or now - state.acked_at < every:
                continue
            if self.acks.publish(ack_topic(device), encode_ack(state.watermark), qos=1, retain=True):
                state.acked, state.acked_at = state.watermark, now

    def _report_drops(self, drops: Mapping[tuple[str, str], int]) -> None:
        now = self.event_clock()
        for (device, reason), count in drops.items():
            if now - self._last_event.get((device, reason), -1e18) < EVENT_INTERVAL_S:
                continue
            self._last_event[(device, reason)] = now
            who = f"device {device}" if device else "an unknown sender"
            message = f"{who}: {count} message(s) dropped ({reason})"
            self._sink(Event(now, "warning", "iot_drop", message, device))

    def gaps(self) -> dict[str, int]:
        """Per device, the sequence numbers below its highest stored one that are missing."""
        with self._lock:
            return {d: s.highest - s.watermark - len(s.above) for d, s in self._states.items()}

    def watermarks(self) -> dict[str, int]:
        with self._lock:
            return {d: s.watermark for d, s in self._states.items()}
