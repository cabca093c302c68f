"""No data lost: the broker killed with SIGKILL again and again, the publisher and the ingest killed
too; afterwards every bin of every device is in the store exactly once (no gap, no duplicate)."""

from __future__ import annotations

import os
import signal
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
    try:
        for round_ in range(outages):
            time.sleep(up_s)
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


def test_nothing_lost_across_five_broker_kills(tmp_path: Path) -> None:
    _outages(tmp_path, bins=150, outages=5, outage_s=0.3, up_s=0.4)


@pytest.mark.slow
def test_nothing_lost_across_long_outages(tmp_path: Path) -> None:
    _outages(tmp_path, bins=3000, outages=6, outage_s=10.0, up_s=5.0)
