"""Joining a Ray cluster (or starting a local one) and leaving it; the one place ``ray.init`` runs."""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from trafficai.errors import ConfigError
from trafficai.extras import require_extra

log = logging.getLogger(__name__)


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
    try:
        if address:
            ray.init(address=address, runtime_env=runtime_env, **quiet)
        else:
            ray.init(num_cpus=num_cpus, include_dashboard=False, runtime_env=runtime_env, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray cluster"
        raise ConfigError(f"cannot start or reach {where}: {str(exc).splitlines()[0]}") from exc
    return True


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
    import ray

    ray.shutdown()


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
