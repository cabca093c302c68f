"""Joining a Ray cluster (or starting a local one) and leaving it; the one place ``ray.init`` runs.

Starting a local cluster spawns half a dozen processes (GCS, raylet and Python agents) that must
come up within Ray's fixed start-up timeouts (the raylet waits about 15 s for its agents, the
driver 30 s for the raylet). Several trafficai processes starting clusters at the same moment on a
small, busy machine miss them: every start fails with "The current node timed out during
startup" (measured: 6 concurrent starts on 2 cores, all failed). So local starts are serialised
across processes by an exclusive file lock held only while ``ray.init`` runs (the clusters then
run side by side), a failed start is cleaned up and tried once more, and what still fails is one
:class:`~trafficai.errors.ConfigError` line, never a traceback or a hang.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from trafficai.errors import ConfigError
from trafficai.extras import require_extra

log = logging.getLogger(__name__)

START_ATTEMPTS = 2  # a local start that fails is cleaned up and tried once more
START_LOCK_WAIT_S = 600.0  # how long a start waits for other processes' starts to finish


def start_lock_path() -> Path:
    """The lock every trafficai process takes while it starts a local Ray cluster (one per user)."""
    return Path(tempfile.gettempdir()) / f"trafficai-ray-start-{os.getuid()}.lock"


@contextmanager
def start_lock(wait_s: float = START_LOCK_WAIT_S, path: Path | None = None) -> Iterator[None]:
    """Hold the start lock (``flock``, so it goes with the process if it dies); wait ``wait_s`` for it."""
    path = path or start_lock_path()
    with path.open("a") as handle:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ConfigError(
                        f"cannot start a local Ray cluster: other processes have been starting theirs "
                        f"for {wait_s:.0f} s (lock {path})"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def connect(address: str | None, num_cpus: int, runtime_env: dict[str, Any] | None = None) -> bool:
    """Join the cluster at ``address`` or start a local one of ``num_cpus`` CPUs (no dashboard, no
    network listener beyond loopback); True when this call started Ray (so it shuts it down).
    ``runtime_env`` (a job-level Ray runtime environment: the scenario files as ``working_dir``)
    is uploaded to the cluster here. An already initialised Ray (the tests' shared cluster) is used
    as it is."""
    require_extra("scale")
    import ray

    if ray.is_initialized():
        return False
    if address:
        check_reachable(address)
    # Ray >= 2.55 warns on every start that it will stop overriding accelerator variables: opt in now
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    quiet: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
    if address:
        _start(
            lambda: ray.init(address=address, runtime_env=runtime_env, **quiet),
            f"the Ray cluster at {address}",
            1,
        )
    else:
        with start_lock():
            _start(
                lambda: ray.init(
                    num_cpus=num_cpus, include_dashboard=False, runtime_env=runtime_env, **quiet
                ),
                "a local Ray cluster",
                START_ATTEMPTS,
            )
    return True


def driver_import_path_env() -> dict[str, Any]:
    """A runtime environment giving the workers this driver's import path (as Flower's own
    ``ray.init`` does for its simulation's workers)."""
    parts = [*sys.path, *([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])]
    return {"env_vars": {"PYTHONPATH": os.pathsep.join(parts)}}


def _start(init: Callable[[], object], where: str, attempts: int) -> None:
    """Run ``init`` up to ``attempts`` times; after each failure tear down what it started. Ray
    raises plain ``Exception`` for a start-up timeout, so every exception is caught here."""
    for attempt in range(1, attempts + 1):
        try:
            init()
            return
        except Exception as exc:  # Ray's start-up timeout is a bare Exception
            shutdown()
            first = _first_line(exc)
            if attempt == attempts:
                raise ConfigError(f"cannot start or reach {where}: {first}") from exc
            log.warning("starting %s failed (%s); trying once more", where, first)


def _first_line(exc: BaseException) -> str:
    """The message's first line, and the next one when the first only announces it (Ray's
    "Failed to start GCS.  Last 1 lines of error files:")."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()] or [type(exc).__name__]
    return f"{lines[0]} {lines[1]}" if lines[0].endswith(":") and len(lines) > 1 else lines[0]


def check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Refuse a HOST:PORT nobody listens on in one line (Ray itself retries for minutes)."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if address == "auto" or not sep or not port.isdigit():
        return  # "auto" and other forms are Ray's to interpret
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise ConfigError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from exc


def shutdown() -> None:
    """Leave Ray (and stop the local cluster this process started); a no-op when not connected."""
    import ray

    try:
        ray.shutdown()
    except Exception as exc:  # a half-started cluster may fail to stop cleanly
        log.warning("ray.shutdown failed: %s", exc)


def node_id() -> str:
    """The Ray node this code runs on ("local" outside Ray)."""
    try:
        import ray

        return str(ray.get_runtime_context().get_node_id()) if ray.is_initialized() else "local"
    except (ImportError, RuntimeError):
        return "local"


def one_line(exc: BaseException) -> str:
    """The cause's last line (a task error carries the remote traceback; the user gets one line)."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        return f"{type(cause).__name__}: {cause}".splitlines()[0]
    lines = [ln for ln in str(exc).splitlines() if ln.strip()]
    return lines[-1] if lines else type(exc).__name__
