"""No data lost: the broker killed with SIGKILL again and again, the publisher and the ingest killed
too; afterwards every bin of every device is in the store exactly once (no gap, no duplicate)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.iot.mqtt_support import needs_mosquitto, run_broker
from trafficai.iot.pki import init_pki
from trafficai.storage import RunStore
from trafficai.storage.devices import DeviceStore

pytestmark = [pytest.mark.mqtt, needs_mosquitto]
DEVICES = ("e1.a", "e1.b", "e2.c")


def _spawn(*args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    return subprocess.Popen([sys.executable, "-m", "trafficai.iot.headless", *args], env=env)


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()


def _backlog_drained_after(store_path: Path, run_id: str, outbox: Path, limit_s: float) -> float:
    """Seconds until every bin produced so far (the outbox's last sequence number per device) is in
    the store; infinity if not within ``limit_s``."""
    with sqlite3.connect(outbox) as box:
        produced = dict(box.execute("SELECT device, last_seq FROM sequence").fetchall())
    start = time.monotonic()
    store = sqlite3.connect(store_path, timeout=5.0)
    try:
        while time.monotonic() - start < limit_s:
            stored = {
                d: store.execute(
                    "SELECT COUNT(*) FROM iot_bins WHERE run_id = ? AND device_id = ? AND seq <= ?",
                    (run_id, d, last),
                ).fetchone()[0]
                for d, last in produced.items()
            }
            if stored == produced:
                return time.monotonic() - start
            time.sleep(0.05)
    finally:
        store.close()
    return float("inf")


def _outages(tmp_path: Path, bins: int, outages: int, outage_s: float, up_s: float) -> None:
    pki = init_pki(tmp_path / "pki", ("control-center", *DEVICES))
    store_path = tmp_path / "runs.sqlite"
    with RunStore(store_path) as runs:
        run_id = runs.create_run("no-loss", "fixed", 1, {})
    common = ("--pki", str(pki.root), "--devices", ",".join(DEVICES))
    broker_gen = run_broker(pki, tmp_path)
    broker = next(broker_gen)
    port = ("--port", str(broker.port))
    ingest_args = ("ingest", *common, *port, "--store", str(store_path), "--run", run_id)
    pub_args = ("publisher", *common, *port, "--outbox", str(tmp_path / "outbox.sqlite"), "--bins", str(bins))
    ingest, publisher = _spawn(*ingest_args), _spawn(*pub_args, "--every", "0.02")
    drains: list[float] = []
    try:
        for round_ in range(outages):
            time.sleep(max(0.0, up_s - (drains[-1] if drains else 0.0)))
            broker.kill()
            if round_ == 1:  # the publisher dies during an outage
                _kill(publisher)
            if round_ == 2:  # the control center's ingest dies during an outage
                _kill(ingest)
            time.sleep(outage_s)
            broker.start()
            if round_ == 1:
                publisher = _spawn(*pub_args, "--every", "0.02")
            if round_ == 2:
                ingest = _spawn(*ingest_args)
            # the backlog of an outage drains within twice its length (outages of seconds: paho's
            # reconnection back-off and a restarted process's start-up dominate shorter ones)
            if outage_s >= 5.0:
                drains.append(
                    _backlog_drained_after(store_path, run_id, tmp_path / "outbox.sqlite", 2 * outage_s)
                )
        assert publisher.wait(timeout=120) == 0  # it exits once everything is acknowledged
    finally:
        _kill(publisher)
        ingest.send_signal(signal.SIGTERM)
        ingest.wait(timeout=10)
        _kill(ingest)
        next(broker_gen, None)
    with DeviceStore(store_path) as store:
        seqs = store.seqs(run_id)
        assert {d: len(s) for d, s in seqs.items()} == {d: bins for d in DEVICES}
        assert all(s == list(range(1, bins + 1)) for s in seqs.values())
    assert all(d <= 2 * outage_s for d in drains), f"backlog drain times {drains} (outages of {outage_s} s)"
    print(f"backlog drained after each {outage_s:g}-s outage in: {', '.join(f'{d:.1f} s' for d in drains)}")


def test_nothing_lost_across_five_broker_kills(tmp_path: Path) -> None:
    _outages(tmp_path, bins=150, outages=5, outage_s=0.3, up_s=0.4)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_nothing_lost_across_long_outages(tmp_path: Path) -> None:
    _outages(tmp_path, bins=3000, outages=6, outage_s=10.0, up_s=5.0)
