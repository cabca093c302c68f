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
from trafficai.scale.cluster import node_id, one_line
from trafficai.scale.shipping import Shipment
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
        "node": node_id(),
    }


def run_serially(runs: Sequence[SweepRun]) -> list[Outcome]:
    """The reference: the same runs one after another in this process."""
    outcomes = []
    for run in runs:
        reply = execute_run(run.config.model_dump(mode="json"))
        outcomes.append(Outcome(run, reply["kpis"], attempts=1, node="serial", wall_s=reply["wall_s"]))
    return outcomes


def run_on_ray(
    runs: Sequence[SweepRun],
    on_done: Callable[[Outcome], None] = lambda _o: None,
    shipment: Shipment | None = None,
) -> list[Outcome]:
    """Every run as a Ray task on the connected cluster; ``on_done`` is called on the driver as each
    run finishes (or fails for good), in completion order. Returns outcomes in ``runs``' order.
    With ``shipment`` the tasks run the shipped copies of the scenario files (the job's runtime
    environment); the outcomes keep the driver's configs."""
    if not runs:
        return []
    import ray
    from ray.exceptions import RayError

    task = ray.remote(num_cpus=1, max_retries=0)(execute_run)
    outcomes = [Outcome(run) for run in runs]
    pending: dict[Any, int] = {}

    def submit(index: int) -> None:
        outcomes[index].attempts += 1
        config = runs[index].config
        if shipment is not None:
            config = config.model_copy(update={"scenario": shipment.rewrite(config.scenario)})
        pending[task.remote(config.model_dump(mode="json"))] = index

    for index in range(len(runs)):
        submit(index)
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        index = pending.pop(done[0])
        outcome = outcomes[index]
        try:
            reply = ray.get(done[0])
        except RayError as exc:
            outcome.error = one_line(exc)
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


def identical(first: Iterable[Outcome], second: Iterable[Outcome]) -> bool:
    """Same runs, same KPIs to the last bit (same seeds must give the same simulation)."""
    a, b = list(first), list(second)
    return len(a) == len(b) and all(x.ok and y.ok and x.kpis == y.kpis for x, y in zip(a, b, strict=True))
