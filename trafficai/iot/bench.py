"""``trafficai bench iot``: the in-process bus and the Mosquitto path (TLS, QoS 1, outbox, ingest
into the run store) side by side in one run, plus the ingest's validation time per message."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from trafficai.iot.broker import free_port, start_broker, write_broker_files
from trafficai.iot.bus import InProcessBus
from trafficai.iot.devices import DeviceBin, by_id
from trafficai.iot.fuzz import samples
from trafficai.iot.headless import ACK_EVERY_S, plain_device, settings
from trafficai.iot.ingest import Ingest, IngestLimits
from trafficai.iot.mqtt_client import MqttTransport
from trafficai.iot.pki import init_pki
from trafficai.iot.senml import Drop, decode_bin, encode_bin
from trafficai.iot.topics import device_topic
from trafficai.storage import RunStore
from trafficai.storage.devices import DeviceStore

Say = Callable[[str], None]
# bins a publisher may have unacknowledged: below Mosquitto's queue for one subscriber (1,000 QoS-1
# messages in flight + queued by default), beyond which the broker drops and outboxes resend
WINDOW = 800


def _ingest(folder: Path, devices: list[str]) -> Ingest:
    with RunStore(folder / "runs.sqlite") as runs:
        run_id = runs.create_run("bench-iot", "none", 0, {})
    store = DeviceStore(folder / "runs.sqlite")
    limits = IngestLimits(rate_per_s=None, ack_every_s=ACK_EVERY_S)
    return Ingest(store, run_id, by_id(plain_device(d) for d in devices), time.time, limits)


def bench_inproc(folder: Path, seconds: float, n_devices: int = 50) -> dict[str, float]:
    """Messages per second through the in-process bus into the store, the real path: encode the
    SenML pack, publish, deliver, decode and validate, check device, sequence and time, commit;
    and the CPU microseconds per message (which other processes on a shared machine inflate less)."""
    devices = [f"e1.b{i}" for i in range(n_devices)]
    ingest = _ingest(folder, devices)
    bus = InProcessBus()
    ingest.attach(bus.client("control-center"))
    client = bus.client("devices")
    topics = {d: device_topic(d, "bins") for d in devices}
    sent, seq = 0, 0
    start, cpu0 = time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        seq += 1
        now = time.time()
        for device in devices:
            client.publish(topics[device], encode_bin(DeviceBin(device, seq, now - 30, now, {"count": 3.0})))
        sent += len(devices)
    ingest.flush()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu0
    assert ingest.stored == sent, "the in-process bus lost messages"
    ingest.store.close()
    return {"inproc_msgs_per_s": sent / elapsed, "inproc_cpu_us_per_msg": cpu / sent * 1e6}


def validation_times_ms(n: int = 20_000) -> tuple[float, float]:
    payloads = [
        encode_bin(DeviceBin("e1.v", i + 1, 1e9, 1e9 + 30, {"count": 1.0, "speed": 9.0})) for i in range(n)
    ]
    times = np.empty(n)
    for i, payload in enumerate(payloads):
        t0 = time.perf_counter()
        decode_bin(payload, "e1.v")
        times[i] = time.perf_counter() - t0
    return float(np.percentile(times, 50) * 1e3), float(np.percentile(times, 99) * 1e3)


def fuzz_validation(folder: Path, n: int = 100_000, seed: int = 0) -> dict[str, Any]:
    """``n`` generated payloads (``iot.fuzz``: bad ones of every kind, valid ones as the control)
    through the ingest's full check (``Ingest.handle``: size, JSON, schema, units, ranges, device,
    sequence, time bounds), timed one by one in wall time and in the thread's CPU time (which a
    shared machine's other processes do not inflate); commits are outside the timing."""
    device, now = "e1.f0", 1_704_067_200.0
    with RunStore(folder / "fuzz.sqlite") as runs:
        run_id = runs.create_run("bench-iot-fuzz", "none", 0, {})
    store = DeviceStore(folder / "fuzz.sqlite")
    limits = IngestLimits(rate_per_s=None, batch=10**9)
    ingest = Ingest(store, run_id, by_id([plain_device(device)]), lambda: now, limits)
    topic = device_topic(device, "bins")
    wall, cpu, kinds = np.empty(n), np.empty(n), []
    misjudged, reasons = 0, Counter[str]()
    for i, sample in enumerate(samples(n, device, now, seed)):
        t0, c0 = time.perf_counter(), time.thread_time()
        result = ingest.handle(topic, sample.payload)
        cpu[i], wall[i] = time.thread_time() - c0, time.perf_counter() - t0
        kinds.append(sample.kind)
        if isinstance(result, Drop):
            reasons[result.reason.value] += 1
        if sample.good != isinstance(result, DeviceBin) or (not sample.good and not isinstance(result, Drop)):
            misjudged += 1
        if i % 1000 == 999:
            ingest.flush()
    ingest.flush()
    store.close()
    by_kind = np.array(kinds)
    return {
        "fuzz_payloads": n,
        "fuzz_misjudged": misjudged,  # bad payloads not dropped with a reason, or valid ones refused
        "fuzz_validation_p50_ms": float(np.percentile(wall, 50) * 1e3),
        "fuzz_validation_p99_ms": float(np.percentile(wall, 99) * 1e3),
        "fuzz_validation_cpu_p99_ms": float(np.percentile(cpu, 99) * 1e3),
        "fuzz_validation_cpu_max_ms": float(cpu.max() * 1e3),
        "fuzz_cpu_p99_ms_by_kind": {
            k: float(np.percentile(cpu[by_kind == k], 99) * 1e3) for k in sorted(set(kinds))
        },
        "fuzz_drop_reasons": dict(sorted(reasons.items())),
    }


def _publisher(
    pki_root: Path, port: int, folder: Path, devices: list[str], bins: int, every: float, per_round: int
) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "trafficai.iot.headless", "publisher", "--pki", str(pki_root),
            "--port", str(port), "--devices", ",".join(devices),
            "--outbox", str(folder / f"outbox-{time.monotonic_ns()}.sqlite"),
            "--bins", str(bins), "--every", str(every), "--per-round", str(per_round),
            "--window", str(WINDOW)]  # fmt: skip
    return subprocess.Popen(args, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system, all threads) process ``pid`` used so far; NaN where /proc is not."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu(pids: dict[str, int]) -> dict[str, float]:
    return {name: _cpu_s(pid) for name, pid in pids.items()}


def _drive(
    ingest: Ingest, publisher: subprocess.Popen[bytes], expected: int, limit_s: float, pids: dict[str, int]
) -> tuple[float, dict[str, float]]:
    """Seconds until ``expected`` bins are stored (at most ``limit_s``), and each process's CPU
    microseconds per bin stored in the steady state (from the 1,000th bin on: start-up excluded)."""
    start = time.perf_counter()
    first: tuple[int, dict[str, float]] | None = None
    while ingest.stored < expected and time.perf_counter() - start < limit_s:
        ingest.flush()
        if first is None and ingest.stored >= 1000:
            first = ingest.stored, _cpu(pids)
        time.sleep(0.001)
    ingest.flush()
    elapsed = time.perf_counter() - start
    cpu_per_msg: dict[str, float] = {}
    if first is not None and ingest.stored > first[0]:
        now = _cpu(pids)
        cpu_per_msg = {k: (now[k] - first[1][k]) / (ingest.stored - first[0]) * 1e6 for k in pids}
    try:
        publisher.wait(timeout=10)
    except subprocess.TimeoutExpired:
        publisher.send_signal(signal.SIGKILL)
        publisher.wait()
    return elapsed, cpu_per_msg


def bench_mqtt(folder: Path, seconds: float, rate: float, say: Say) -> dict[str, float]:
    devices = [f"e1.m{i}" for i in range(4)]
    other = [f"e1.m{i}" for i in range(4, 8)]  # fresh sequence numbers for the latency phase
    pki = init_pki(folder / "pki", ["control-center", *devices, *other])
    port = free_port()
    broker = start_broker(write_broker_files(pki, port), log=folder / "mosquitto.log")
    try:
        ingest = _ingest(folder, devices + other)
        transport = MqttTransport(settings(pki, port, "control-center")).start()
        ingest.attach(transport)
        transport.wait_connected(10)
        # sustained: as fast as the publisher goes, bins of 25 per device per outbox commit
        say(f"mosquitto path, sustained, {seconds:g} s")
        target = int(20_000 * seconds)
        pub = _publisher(pki.root, port, folder, devices, target // len(devices), 0.0, 25)
        start_stored = ingest.stored
        pids = {"ingest": os.getpid(), "publisher": pub.pid, "broker": broker.pid}
        elapsed, cpu_us = _drive(ingest, pub, target, seconds, pids)
        sustained = (ingest.stored - start_stored) / elapsed
        pub.kill()
        pub.wait()
        # latency at `rate` msgs/s offered (one bin per device per round)
        say(f"mosquitto path, latency at {rate:g} msg/s offered")
        latencies: list[float] = []
        wanted = set(other)
        ingest.on_stored = lambda items: latencies.extend(
            time.time() - b.t_end for b in items if b.device in wanted
        )
        pub = _publisher(pki.root, port, folder, other, 10**9, len(other) / rate, 1)
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < min(seconds, 30.0):
            ingest.flush()
            time.sleep(0.0005)
        pub.kill()
        pub.wait()
        transport.close()
        ingest.store.close()
        lat = np.array(latencies[len(latencies) // 10 :]) * 1e3  # the first tenth is the warm-up
        return {
            "mqtt_msgs_per_s": sustained,
            # CPU microseconds per message of each process (a load-independent cost on a shared machine)
            **{f"mqtt_cpu_us_per_msg_{k}": v for k, v in cpu_us.items()},
            "latency_msgs": float(len(latencies)),
            "p50_ms": float(np.percentile(lat, 50)) if lat.size else float("nan"),
            "p99_ms": float(np.percentile(lat, 99)) if lat.size else float("nan"),
        }
    finally:
        broker.kill()
        broker.wait()


def bench_iot(
    seconds: float = 120.0, rate: float = 1000.0, say: Say | None = None, fuzz_payloads: int = 100_000
) -> dict[str, Any]:
    tell = say or (lambda _m: None)
    with tempfile.TemporaryDirectory(prefix="trafficai-bench-iot-") as tmp:
        folder = Path(tmp)
        tell(f"in-process bus, {min(seconds, 20.0):g} s")
        inproc = bench_inproc(folder, min(seconds, 20.0))
        v50, v99 = validation_times_ms()
        tell(f"fuzz: {fuzz_payloads:,} generated payloads through the ingest")
        fuzz = fuzz_validation(folder, fuzz_payloads)
        mqtt = bench_mqtt(folder, seconds, rate, tell)
    return {
        **inproc,
        **mqtt,
        "offered_msgs_per_s": rate,
        "seconds": seconds,
        "validation_p50_ms": v50,
        "validation_p99_ms": v99,
        **fuzz,
        "cpus": os.cpu_count(),
    }
