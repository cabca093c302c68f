"""The connected devices of a live run: every detector publishes its 30-s bins as a field device,
and the control center's ingest stores them in the run, for headless runs and the GUI alike.

:class:`LiveDevices` is fed by :class:`~trafficai.runtime.lifecycle.RunLifecycle` with each bin the
sensors layer closes (``sensors.bins.DetectorBins``, the single source of sensor data) and with each
sampled snapshot (the clock, resends). The transport is the in-process bus unless MQTT is configured
(``--broker``/``--iot-dir`` or ``[iot]``); a broker that cannot be used (down at start, a certificate
missing, a config that does not parse) is one warning event and the run goes on in-process.

Times: a device's payloads carry epoch seconds (SenML base times below 2**28 would mean "relative
to now"): device time = ``anchor`` + simulation time, ``anchor`` being the wall clock when the
network started minus the simulation time then. Events are stamped with simulation time.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from trafficai.config import CameraHealthSection
from trafficai.core.events import Event
from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import Snapshot
from trafficai.errors import ConfigError, DependencyError, StoreError, TrafficAIError
from trafficai.iot.bus import InProcessBus, Transport, Will
from trafficai.iot.camera_feed import CameraFeed
from trafficai.iot.devices import CONTROL_CENTER, Device, DeviceBin, DeviceBinner, by_id, inventory
from trafficai.iot.ingest import Ingest, IngestLimits, device_row
from trafficai.iot.message_faults import HeartbeatWatch, MessageFaults
from trafficai.iot.outbox import Outbox
from trafficai.iot.publisher import DevicePublisher, field_line, offline_will, publish_closed_bins
from trafficai.runtime.device_settings import DeviceNetworkSettings
from trafficai.runtime.messages import DeviceStatus, DeviceView
from trafficai.sensors.camera_health import CameraHealthMonitor, camera_watches
from trafficai.sensors.camera_source import CameraReadingSource
from trafficai.sensors.health import DetectorHealth, HealthChange
from trafficai.sensors.readings import Reading
from trafficai.storage.devices import DeviceStore

if TYPE_CHECKING:
    from trafficai.iot.mqtt_client import MqttSettings, MqttTransport

ACK_EVERY_S = 0.05  # MQTT: acknowledgements per device at most this often
CONNECT_TIMEOUT_S = 3.0  # the broker must accept the control center this fast at start
DRAIN_TIMEOUT_S = 15.0  # at the end, unacknowledged bins are waited for this long
FLUSH_EVERY_S = 0.005  # the MQTT ingest commits and acknowledges this often
HISTORY_BINS = 20  # bins per device kept for the panel's sparkline
FIELD_START_S = 30.0  # scale mode: the publisher processes start and connect within this
SILENT_AFTER_S = 90.0  # simulated: an online device not heard for three bins is "silent"


def headline(kind: str, values: Mapping[str, float]) -> float:
    """A bin's value in the panel's sparkline: an E1's count, an E2's vehicles, a camera's
    crossings (its approach counts summed)."""
    if kind == "camera":
        return float(sum(v for k, v in values.items() if k.startswith("approach.")))
    return float(values.get("count" if kind == "e1" else "vehicles", 0.0))


class _IngestThread(threading.Thread):
    """The MQTT ingest's own thread: it owns the store connection, commits and acknowledges every
    few milliseconds; the transport's network thread only queues."""

    def __init__(self, make: Callable[[], Ingest], on_error: Callable[[str], None]) -> None:
        super().__init__(name="trafficai-ingest", daemon=True)
        self._make, self._on_error = make, on_error
        self.ingest: Ingest | None = None
        self.ready = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            self.ingest = ingest = self._make()
        except TrafficAIError as exc:
            self._on_error(str(exc))
            self.ready.set()
            return
        self.ready.set()
        try:
            while not self.stop.wait(FLUSH_EVERY_S):
                ingest.flush()
            ingest.flush()
        except TrafficAIError as exc:
            self._on_error(f"device data not recorded any more: {exc}")
        finally:
            ingest.store.close()


class LiveDevices:
    """The devices of one recorded run, their transport and the control center's ingest."""

    def __init__(
        self,
        geometry: NetGeometry,
        store_path: Path,
        run_id: str,
        settings: DeviceNetworkSettings,
        now_s: float,
        *,
        cameras: CameraReadingSource | None = None,
        faults: MessageFaults | None = None,
        bin_s: float = 30.0,
        camera_health: CameraHealthSection | None = None,
    ) -> None:
        """``cameras``: the camera devices' source (``runtime.camera_sources``); ``faults``: the
        run's transport faults on the device messages; ``bin_s``: the heartbeat period;
        ``camera_health``: the camera health rules' thresholds (``sensors.camera_health``)."""
        self.cameras = CameraFeed(cameras, geometry) if cameras is not None else None
        detectors = inventory(geometry)
        camera_devices = self.cameras.devices if self.cameras is not None else ()
        self.devices = detectors + camera_devices
        # camera health: judged on the camera bins as the ingest stores them (any thread)
        watches = camera_watches(((d.source, d.covers) for d in camera_devices), geometry)
        self.camera_health = CameraHealthMonitor(watches, camera_health) if watches else None
        self._source_of = {d.id: d.source for d in camera_devices}
        self._health_lock = threading.Lock()
        self.store_path, self.run_id, self.now_s = store_path, run_id, now_s
        self.anchor = float(int(time.time() - now_s))  # device time = anchor + simulation time
        self.binner = DeviceBinner(detectors)
        self.faults = faults if faults else None
        self.heartbeats = HeartbeatWatch(bin_s)
        self.started_s = now_s
        self.transport, self.broker = "in-process", ""
        self.history: dict[str, deque[DeviceBin]] = {d.id: deque(maxlen=HISTORY_BINS) for d in self.devices}
        self.stored: Counter[str] = Counter()
        self.publishers: dict[str, DevicePublisher] = {}
        self.outbox: Outbox | None = None
        self._outbox_dir: Path | None = None
        self._control: Transport | None = None
        self._thread: _IngestThread | None = None
        self._ingest: Ingest | None = None
        self._events: list[Event] = []
        self._lock = threading.Lock()
        self._closed = False
        self._field: list[subprocess.Popen[str]] = []  # scale mode: the publisher processes
        self._feed: dict[str, subprocess.Popen[str]] = {}  # device -> its process
        self.issued = 0  # bins handed to the devices
        self._start(settings)

    # -- clocks and events -----------------------------------------------------------------------

    def device_time(self) -> float:
        return self.anchor + self.now_s

    def _event(self, event: Event) -> None:
        with self._lock:
            self._events.append(event)

    def _say(self, severity: str, message: str) -> None:
        self._event(Event(self.now_s, severity, "iot", message))

    def take_events(self) -> list[Event]:
        with self._lock:
            events, self._events = self._events, []
        return events

    @property
    def ingest(self) -> Ingest | None:
        return self._thread.ingest if self._thread is not None else self._ingest

    # -- starting --------------------------------------------------------------------------------

    def _start(self, settings: DeviceNetworkSettings) -> None:
        fallback = settings.problem
        if fallback and settings.strict:
            raise ConfigError(fallback)
        if settings.mqtt and not fallback:
            try:
                self._start_mqtt(settings)
                return
            except TrafficAIError as exc:
                self._stop_mqtt()
                self._thread, self._control, self.outbox, self.broker = None, None, None, ""
                if settings.strict:
                    raise
                fallback = str(exc)
        if fallback:
            self._say("warning", f"devices: {fallback}; they use the in-process bus")
        self._start_inprocess()

    def _new_ingest(self, acks: Transport | None) -> Ingest:
        store = DeviceStore(self.store_path)
        limits = IngestLimits(ack_every_s=ACK_EVERY_S if acks is not None else 0.0)
        try:
            store.register(self.run_id, [device_row(d) for d in self.devices])
            ingest = Ingest(
                store, self.run_id, by_id(self.devices), self.device_time, limits, acks,
                events=self._event, event_clock=lambda: self.now_s,
            )  # fmt: skip
        except BaseException:
            store.close()
            raise
        ingest.on_stored = self._remember
        ingest.quiet_status = True  # the network coming up is one event, not one per device
        return ingest

    def _start_inprocess(self) -> None:
        bus = InProcessBus()
        self._ingest = self._new_ingest(None)
        self._ingest.attach(bus.client(CONTROL_CENTER))
        for device in self.devices:
            client = bus.client(device.id, Will(*offline_will(device)))
            self.publishers[device.id] = DevicePublisher(device, client, None, self.device_time)
        self._ingest.flush()
        self._ingest.quiet_status = False
        self._say("info", f"devices: {len(self.devices)} on the in-process bus")

    def _start_mqtt(self, settings: DeviceNetworkSettings) -> None:
        try:
            from trafficai.iot.broker import configured_port
            from trafficai.iot.headless import settings as mqtt_settings
            from trafficai.iot.mqtt_client import MqttTransport
            from trafficai.iot.pki import Pki
        except ImportError as exc:
            raise DependencyError(f"MQTT needs the iot extra (pip install 'trafficai[iot]'): {exc}") from exc
        certs = settings.certs_dir or Path("pki")
        if not certs.is_dir():
            raise ConfigError(f"{certs}: no such folder (create it with `trafficai iot init {certs}`)")
        port = settings.port if settings.port is not None else configured_port(certs / "mosquitto.conf")
        pki = Pki(certs)
        plans = [mqtt_settings(pki, port, CONTROL_CENTER, host=settings.host)]
        for device in self.devices:
            plans.append(mqtt_settings(pki, port, device.id, Will(*offline_will(device)), settings.host))
        for plan in plans:
            plan.check()  # a missing certificate names its file, before anything connects
        self.broker = f"{settings.host}:{port}"
        control = MqttTransport(plans[0]).start()
        self._control = control
        if not control.wait_connected(CONNECT_TIMEOUT_S):
            raise ConfigError(
                f"the broker {self.broker} did not accept the control center within {CONNECT_TIMEOUT_S:g} s "
                f"(is `trafficai iot broker {certs}` running?)"
            )
        self._thread = _IngestThread(lambda: self._attached_ingest(control), self._on_ingest_error)
        self._thread.start()
        self._thread.ready.wait()
        if self._thread.ingest is None:
            raise StoreError("the device ingest could not open the run store")
        self._outbox_dir = Path(tempfile.mkdtemp(prefix="trafficai-outbox-"))
        self.transport = "mqtt"
        if settings.processes > 0:
            self._spawn_field(certs, settings.host, port, settings.processes)
            return
        self.outbox = Outbox(self._outbox_dir / "outbox.sqlite")
        self._connect_devices(plans[1:], MqttTransport)

    def _spawn_field(self, certs: Path, host: str, port: int, processes: int) -> None:
        """Scale mode: the devices in ``processes`` separate publisher processes (each device its
        own TLS connection and identity, each process its outbox), fed the bins on their stdin."""
        count = max(1, min(processes, len(self.devices)))
        folder = self._outbox_dir or Path(tempfile.mkdtemp(prefix="trafficai-outbox-"))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        for k in range(count):
            ids = [d.id for d in self.devices[k::count]]
            args = [sys.executable, "-m", "trafficai.iot.headless", "field", "--pki", str(certs),
                    "--host", host, "--port", str(port), "--devices", ",".join(ids),
                    "--outbox", str(folder / f"field-{k}.sqlite"),
                    "--drain", str(DRAIN_TIMEOUT_S)]  # fmt: skip
            process = subprocess.Popen(args, stdin=subprocess.PIPE, env=env, text=True)
            self._field.append(process)
            for device_id in ids:
                self._feed[device_id] = process
        online = self._wait_online(FIELD_START_S)
        ingest = self.ingest
        if ingest is not None:
            ingest.quiet_status = False
        where = f"{count} publisher processes, broker {self.broker}"
        late = f", {len(self.devices) - online} not online yet" if online < len(self.devices) else ""
        self._say("info", f"devices: {len(self.devices)} in {where}{late}")

    def _wait_online(self, timeout_s: float) -> int:
        """Wait until every device said it is online (the field processes start and connect)."""
        deadline = time.monotonic() + timeout_s
        online = 0
        while time.monotonic() < deadline:
            ingest = self.ingest
            status = dict(ingest.status) if ingest is not None else {}
            online = sum(1 for d in self.devices if status.get(d.id, ("", 0.0))[0] == "online")
            if online == len(self.devices):
                break
            time.sleep(0.05)
        return online

    def _attached_ingest(self, control: Transport) -> Ingest:
        ingest = self._new_ingest(control)
        ingest.attach(control)
        return ingest

    def _connect_devices(self, plans: list[MqttSettings], transport_type: type[MqttTransport]) -> None:
        transports = []
        for device, plan in zip(self.devices, plans, strict=True):
            transport = transport_type(plan).start()
            transports.append(transport)
            self.publishers[device.id] = DevicePublisher(
                device, transport, self.outbox, self.device_time, time.monotonic
            )
        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        late = [t for t in transports if not t.wait_connected(max(0.0, deadline - time.monotonic()))]
        ingest = self.ingest
        if ingest is not None:
            ingest.quiet_status = False
        online = len(transports) - len(late)
        note = f", {len(late)} not connected yet (their bins wait in the outbox)" if late else ""
        self._say("info", f"devices: {online} connected to the broker {self.broker} over TLS{note}")

    def _on_ingest_error(self, message: str) -> None:
        self._say("warning", message)

    # -- running ---------------------------------------------------------------------------------

    def observe_bin(self, t_begin: float, t_end: float, closed: Mapping[str, Reading]) -> list[Event]:
        """Publish the sensors layer's bin ``[t_begin, t_end]`` (simulation s) from every device."""
        self.now_s = max(self.now_s, t_end)
        if self._closed or t_end <= t_begin:  # the lifecycle closes a zero-length bin at the start
            return self.take_events()
        items = self.binner.cut(closed, self.anchor + t_begin, self.anchor + t_end)
        if self.camera_health is not None:
            with self._health_lock:
                self.camera_health.loop_bin(self.anchor + t_end, closed)
        if self.cameras is not None:
            items += self.cameras.cut(self.anchor + t_begin, self.anchor + t_end)
        silent: set[str] = set()
        if self.faults is not None:
            items, silent = self.faults.route(items, by_id(self.devices), t_end)
        self.issued += len(items)
        if self._field:
            self._feed_field(items)
            return self.take_events()
        publish_closed_bins(self.publishers, items, self.outbox)
        for device_id, publisher in self.publishers.items():
            if device_id not in silent:
                publisher.heartbeat()
        if self._ingest is not None:
            self._ingest.flush()
        self._check_heartbeats()
        return self.take_events()

    def observe_snapshot(self, snapshot: Snapshot) -> None:
        """A sampled snapshot (with vehicles when :attr:`wants_vehicles`): the cameras look at it."""
        if self.cameras is not None and not self._closed:
            self.cameras.sample(snapshot)

    @property
    def wants_vehicles(self) -> bool:
        return self.cameras is not None

    @property
    def wants_every_step(self) -> bool:
        """The camera source sees every step's vehicles (the vision pipeline), not just samples."""
        return self.cameras is not None and bool(getattr(self.cameras.source, "every_step", False))

    def _check_heartbeats(self) -> None:
        ingest = self.ingest
        beats = dict(ingest.last_beat) if ingest is not None else {}
        last = {d.id: beats.get(d.id, self.started_s) for d in self.devices}
        for event in self.heartbeats.check(last, self.now_s):
            self._event(event)

    def _feed_field(self, items: list[DeviceBin]) -> None:
        lines: dict[subprocess.Popen[str], list[str]] = {}
        for item in items:
            lines.setdefault(self._feed[item.device], []).append(field_line(item))
        for process, text in lines.items():
            if process.stdin is None or process.poll() is not None:
                continue  # a dead field process: its devices are silent, as in the field
            try:
                process.stdin.write("".join(text))
                process.stdin.flush()
            except (BrokenPipeError, OSError):
                self._say("warning", f"devices: publisher process {process.pid} is gone")

    def observe(self, now_s: float) -> list[Event]:
        """The simulation clock moved: resend what is overdue (MQTT)."""
        self.now_s = max(self.now_s, now_s)
        late = self.faults.due(now_s) if self.faults is not None and not self._closed else []
        if late:
            self.issued += len(late)
            publish_closed_bins(self.publishers, late, self.outbox)
        if self.outbox is not None and not self._closed:
            for publisher in self.publishers.values():
                publisher.tick()
        return self.take_events()

    def _remember(self, items: list[DeviceBin]) -> None:
        for item in items:
            self.history[item.device].append(item)
            self.stored[item.device] += 1
        monitor = self.camera_health
        if monitor is None:
            return
        with self._health_lock:
            for item in items:
                camera = self._source_of.get(item.device)
                if camera is not None:
                    for event in monitor.observe(camera, item.seq, item.t_end, item.values, self.now_s):
                        self._event(event)

    def camera_states(self) -> dict[str, DetectorHealth]:
        """Every camera device's health now (camera id -> health; none without cameras)."""
        if self.camera_health is None:
            return {}
        with self._health_lock:
            return self.camera_health.states()

    def take_camera_changes(self) -> list[HealthChange]:
        """The camera health changes since the last call (for the run's health records)."""
        if self.camera_health is None:
            return []
        with self._health_lock:
            changes, self.camera_health.changes = self.camera_health.changes, []
        return changes

    # -- the panel's view ------------------------------------------------------------------------

    def view(self, generation: int) -> DeviceStatus:
        ingest = self.ingest
        gaps = ingest.gaps() if ingest is not None else {}
        status = dict(ingest.status) if ingest is not None else {}
        seen = dict(ingest.last_seen) if ingest is not None else {}
        drops: dict[str, list[tuple[str, int]]] = {}
        totals = Counter(ingest.drop_totals) if ingest is not None else Counter()
        for (device_id, reason), count in sorted(totals.items()):
            drops.setdefault(device_id, []).append((reason, count))
        views = [self._device_view(d, status, seen, gaps, drops) for d in self.devices]
        control = self._control
        return DeviceStatus(
            generation,
            self.now_s,
            self.transport,
            self.broker,
            control.connected if control is not None else self.transport == "in-process",
            tuple(views),
            sum(self.stored.values()),
            sum(totals.values()),
        )

    def _device_view(
        self,
        device: Device,
        status: Mapping[str, tuple[str, float]],
        seen: Mapping[str, float],
        gaps: Mapping[str, int],
        drops: Mapping[str, list[tuple[str, int]]],
    ) -> DeviceView:
        state = status.get(device.id, ("unknown", 0.0))[0]
        last = seen.get(device.id)
        if state == "online" and last is not None and self.now_s - last > SILENT_AFTER_S:
            state = "silent"
        recent = self.history[device.id]
        latest = tuple(sorted(recent[-1].values.items())) if recent else ()
        return DeviceView(
            device.id,
            device.kind,
            device.source,
            state,
            last,
            self.stored[device.id],
            gaps.get(device.id, 0),
            tuple(drops.get(device.id, ())),
            latest,
            tuple(headline(device.kind, b.values) for b in recent),
        )

    # -- ending ----------------------------------------------------------------------------------

    def close(self) -> list[Event]:
        """Wait (MQTT: up to DRAIN_TIMEOUT_S) until every bin is acknowledged, say goodbye, and
        stop; the events of the ending. Safe to call twice."""
        if self._closed:
            return self.take_events()
        self._closed = True
        ingest = self.ingest
        if ingest is not None:
            ingest.quiet_status = True  # the devices going away with the run is one event
        left = self._drain()
        for publisher in self.publishers.values():
            publisher.close()
        if self._ingest is not None:
            self._ingest.flush()
            self._ingest.store.close()
        self._stop_mqtt()
        if left:
            where = f" (kept in {self.outbox.path})" if self.outbox is not None else ""
            self._say("warning", f"devices: {left} bin(s) not acknowledged when the run ended{where}")
        elif self._outbox_dir is not None:
            shutil.rmtree(self._outbox_dir, ignore_errors=True)
        total = sum(self.stored.values())
        dropped = sum(ingest.drop_totals.values()) if ingest is not None else 0
        self._say("info", f"devices: {total} bins stored, {dropped} message(s) dropped")
        return self.take_events()

    def _drain(self) -> int:
        if self._field:
            return self._drain_field()
        outbox = self.outbox
        if outbox is None:
            return 0
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while outbox.size() and time.monotonic() < deadline:
            for publisher in self.publishers.values():
                publisher.tick()
            time.sleep(0.01)
        return outbox.size()

    def _drain_field(self) -> int:
        """End the feeds; each process exits once its outbox is empty (or after DRAIN_TIMEOUT_S)."""
        for process in self._field:
            with contextlib.suppress(OSError):
                if process.stdin is not None:
                    process.stdin.close()
        deadline = time.monotonic() + DRAIN_TIMEOUT_S + 10.0
        for process in self._field:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        time.sleep(0.2)  # the last acknowledged bins are committed by the ingest thread now
        ingest = self.ingest
        return max(0, self.issued - (ingest.stored if ingest is not None else 0))

    def _stop_mqtt(self) -> None:
        thread = self._thread
        if thread is not None and thread.is_alive():
            time.sleep(0.2)  # the devices' goodbyes reach the ingest before its last commit
            thread.stop.set()
            thread.join(timeout=5.0)
        if self._control is not None:
            self._control.close()
        if self.outbox is not None:
            self.outbox.close()
