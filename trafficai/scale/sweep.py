"""Run a sweep's runs as Ray tasks (one SUMO per task) and collect their KPIs.

The driver is the only writer of the run store (SQLite's single-writer rule): a task runs the
headless run without a store and returns its KPIs; the driver records each run as its task
finishes, so a driver killed mid-sweep keeps every finished run and ``--resume`` skips them.
A failed task is submitted once more; a second failure is reported, never dropped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from trafficai.config import RunConfig
from trafficai.errors import ConfigError
from trafficai.extras import require_extra
from trafficai.scale.spec import SweepRun

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 2  # the first try and one retry


@dataclass(slots=True)
class Outcome:
    """What became of one run: its KPIs (empty when it failed), where and how long it ran."""

    run: SweepRun
    kpis: dict[str, float] = field(default_factory=dict)
    error: str = ""
    attempts: int = 0
    node: str = ""
    wall_s: float = 0.0
    run_id: str = ""
    resumed: bool = False  # taken from the store by --resume, not run now

    @property
    def ok(self) -> bool:
        return not self.error


def execute_run(config_data: dict[str, Any]) -> dict[str, Any]:
    """One headless run, unrecorded (the driver records it); the body of every Ray task and of the
    serial reference, so both compute exactly the same thing."""
    from trafficai.runtime.session import run_headless

    started = time.perf_counter()
    result = run_headless(RunConfig.model_validate(config_data), None)
    return {
        "kpis": dict(result.kpis),
        "controller": result.controller,
        "wall_s": time.perf_counter() - started,
        "node": _node_id(),
    }


def _node_id() -> str:
    try:
        import ray

        return str(ray.get_runtime_context().get_node_id()) if ray.is_initialized() else "local"
    except (ImportError, RuntimeError):
        return "local"


def run_serially(runs: Sequence[SweepRun]) -> list[Outcome]:
    """The reference: the same runs one after another in this process."""
    outcomes = []
    for run in runs:
        reply = execute_run(run.config.model_dump(mode="json"))
        outcomes.append(Outcome(run, reply["kpis"], attempts=1, node="serial", wall_s=reply["wall_s"]))
    return outcomes


def connect(address: str | None, num_cpus: int) -> bool:
    """Join the cluster at ``address`` or start a local one of ``num_cpus`` CPUs (no dashboard, no
    network listener beyond loopback); True when this call started Ray (so it shuts it down).
    An already initialised Ray (the tests' shared cluster) is used as it is."""
    require_extra("scale")
    import ray

    if ray.is_initialized():
        return False
    if address:
        _check_reachable(address)
    try:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray cluster"
        raise ConfigError(f"cannot start or reach {where}: {str(exc).splitlines()[0]}") from exc
    return True


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Refuse a HOST:PORT nobody listens on in one line (Ray itself retries for minutes)."""
    import socket

    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if address == "auto" or not sep or not port.isdigit():
        return  # "auto" and other forms are Ray's to interpret
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise ConfigError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from exc


def run_on_ray(
    runs: Sequence[SweepRun],
    on_done: Callable[[Outcome], None] = lambda _o: None,
) -> list[Outcome]:
    """Every run as a Ray task on the connected cluster; ``on_done`` is called on the driver as each
    run finishes (or fails for good), in completion order. Returns outcomes in ``runs``' order."""
    if not runs:
        return []
    import ray
    from ray.exceptions import RayError

    task = ray.remote(num_cpus=1, max_retries=0)(execute_run)
    outcomes = [Outcome(run) for run in runs]
    pending: dict[Any, int] = {}

    def submit(index: int) -> None:
        outcomes[index].attempts += 1
        pending[task.remote(runs[index].config.model_dump(mode="json"))] = index

    for index in range(len(runs)):
        submit(index)
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        index = pending.pop(done[0])
        outcome = outcomes[index]
        try:
            reply = ray.get(done[0])
        except RayError as exc:
            outcome.error = _one_line(exc)
            log.warning(
                "sweep run %s (seed %d) failed: %s",
                outcome.run.label,
                outcome.run.config.sim.seed,
                outcome.error,
            )
            if outcome.attempts < MAX_ATTEMPTS:
                submit(index)
                continue
        else:
            outcome.kpis, outcome.error = reply["kpis"], ""
            outcome.node, outcome.wall_s = reply["node"], reply["wall_s"]
        on_done(outcome)
    return outcomes


def _one_line(exc: BaseException) -> str:
    """The cause's last line (a task error carries the remote traceback; the user gets one line)."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        return f"{type(cause).__name__}: {cause}".splitlines()[0]
    lines = [ln for ln in str(exc).splitlines() if ln.strip()]
    return lines[-1] if lines else type(exc).__name__


def shutdown() -> None:
    import ray

    ray.shutdown()


def identical(first: Iterable[Outcome], second: Iterable[Outcome]) -> bool:
    """Same runs, same KPIs to the last bit (same seeds must give the same simulation)."""
    a, b = list(first), list(second)
    return len(a) == len(b) and all(x.ok and y.ok and x.kpis == y.kpis for x, y in zip(a, b, strict=True))
