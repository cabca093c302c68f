"""Concurrent local Ray starts: serialised by a file lock, a failed start cleaned up and retried
once, what still fails one ConfigError line (never a traceback, never a hang)."""

from __future__ import annotations

import multiprocessing as mp
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from trafficai.errors import ConfigError
from trafficai.scale import cluster

TIMEOUT = "The current node timed out during startup. This could happen because ..."


def _hold_lock(path: str, hold_s: float, ready: Any) -> None:
    with cluster.start_lock(path=Path(path)):
        ready.set()
        time.sleep(hold_s)


def test_the_start_lock_excludes_another_process(tmp_path: Path) -> None:
    lock = tmp_path / "start.lock"
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(lock), 3.0, ready))
    holder.start()
    try:
        assert ready.wait(60)
        refused = pytest.raises(ConfigError, match="other processes have been starting theirs for 0 s")
        with refused, cluster.start_lock(wait_s=0.3, path=lock):
            pass
        began = time.monotonic()
        with cluster.start_lock(wait_s=60, path=lock):  # waits for the holder, then gets it
            waited = time.monotonic() - began
        assert waited > 0.5
    finally:
        holder.join(30)


class FakeRay:
    """ray.init failing ``failures`` times with Ray's bare start-up timeout Exception."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.inits = 0
        self.shutdowns = 0

    def is_initialized(self) -> bool:
        return False

    def init(self, **_kwargs: Any) -> None:
        self.inits += 1
        if self.inits <= self.failures:
            raise Exception(TIMEOUT)  # what ray._private.node raises

    def shutdown(self) -> None:
        self.shutdowns += 1


@pytest.fixture
def fake_ray(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    pytest.importorskip("ray", reason="needs the scale extra")

    def install(failures: int) -> FakeRay:
        fake = FakeRay(failures)
        monkeypatch.setitem(sys.modules, "ray", fake)
        monkeypatch.setattr(cluster, "require_extra", lambda _name: None)
        monkeypatch.setattr(cluster, "start_lock_path", lambda: tmp_path / "start.lock")
        return fake

    return install


def test_a_failed_start_is_cleaned_up_and_retried_once(fake_ray: Any) -> None:
    fake = fake_ray(1)
    assert cluster.connect(None, 1) is True
    assert (fake.inits, fake.shutdowns) == (2, 1)


def test_a_start_that_fails_twice_is_one_config_error(fake_ray: Any) -> None:
    fake = fake_ray(5)
    with pytest.raises(ConfigError) as caught:
        cluster.connect(None, 1)
    assert str(caught.value) == f"cannot start or reach a local Ray cluster: {TIMEOUT}"
    assert (fake.inits, fake.shutdowns) == (2, 2)


PIPES: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT}
CHILD = textwrap.dedent(
    """
    import ray
    from trafficai.scale.cluster import connect, shutdown
    assert connect(None, 1)
    assert ray.get(ray.remote(lambda: 41 + 1).remote()) == 42
    shutdown()
    """
)


@pytest.mark.slow
def test_concurrent_local_starts_all_succeed_and_exit(tmp_path: Path) -> None:
    """Four processes start local clusters at the same moment (unserialised, 6 such starts on 2 busy
    cores all failed): every one comes up, runs a task and exits."""
    pytest.importorskip("ray", reason="needs the scale extra")
    root = str(Path(__file__).resolve().parents[2])
    env = {"PYTHONPATH": root, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(4)
    ]
    for child in children:
        output, _ = child.communicate(timeout=400)
        assert child.returncode == 0, output[-2000:]


@pytest.mark.slow
def test_a_federated_run_whose_ray_cannot_start_exits_with_one_line(tmp_path: Path) -> None:
    """Before the fix, Ray's start failing inside Flower's simulation thread left the command
    hanging after its traceback; now the command starts Ray itself: one line, exit 1."""
    pytest.importorskip("flwr")
    from tests.conftest import DATA

    taken = socket.socket()
    taken.bind(("0.0.0.0", 0))
    taken.listen()
    root = str(Path(__file__).resolve().parents[2])
    site = str(DATA / "tiny" / "tiny.sumocfg")
    env = {"PYTHONPATH": root, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    env["RAY_GCS_SERVER_PORT"] = str(taken.getsockname()[1])  # Ray's GCS cannot bind: the start fails
    args = [site, f"{site}@1.5", "--rounds", "1", "--steps", "8", "--methods", "federated", "--json"]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "trafficai.cli", "federated", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=400,
        )
    finally:
        taken.close()
    assert done.returncode == 1
    errors = [ln for ln in done.stderr.splitlines() if ln.startswith("error: ")]
    assert (
        errors == [errors[-1]]
        and "cannot start or reach a local Ray cluster: Failed to start GCS" in errors[0]
    )
    assert "Traceback" not in done.stderr
