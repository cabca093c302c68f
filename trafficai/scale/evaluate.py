"""``trafficai evaluate --ray``: every (controller, seed) episode of an evaluation as a Ray task.

The task body is the serial path's own :func:`~trafficai.runtime.evaluation.run_task` (one SUMO
per task), so the report is the serial one: results are keyed by (controller, seed), whatever
order the tasks finish in. With a :class:`~trafficai.scale.shipping.Shipment` (an existing
cluster) the tasks get the plan with the scenario and model files rewritten to their shipped
copies; the results carry the driver's names.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any

from trafficai.control.registry import MODEL_PREFIX
from trafficai.errors import SimulationError, TrafficAIError
from trafficai.runtime.evaluation import EvalPlan, Task, TaskResult, TaskRunner, run_task
from trafficai.scale.cluster import one_line
from trafficai.scale.shipping import Shipment

SYSTEM_RETRIES = 1  # a task whose worker or node died is run once more (by Ray)


def model_files(plan: EvalPlan) -> list[str]:
    """The model files an evaluation runs (``rl:PATH`` controllers)."""
    return [c[len(MODEL_PREFIX) :] for c in plan.controllers if c.startswith(MODEL_PREFIX)]


def shipped_plan(plan: EvalPlan, shipment: Shipment | None) -> EvalPlan:
    """The plan the tasks run: scenario and model files at their shipped paths."""
    if shipment is None:
        return plan
    return dataclasses.replace(
        plan,
        scenario=shipment.rewrite(plan.scenario),
        controllers=tuple(_shipped(c, shipment) for c in plan.controllers),
        explicit=tuple(_shipped(c, shipment) for c in plan.explicit),
    )


def ray_runner(shipment: Shipment | None = None) -> TaskRunner:
    """A :data:`TaskRunner` that submits every episode as a Ray task on the connected cluster."""

    def run(plan: EvalPlan, tasks: Sequence[Task]) -> Iterator[TaskResult]:
        import ray
        from ray.exceptions import RayError, RayTaskError

        remote_plan = shipped_plan(plan, shipment)
        task = ray.remote(num_cpus=1, max_retries=SYSTEM_RETRIES)(run_task)
        plan_ref = ray.put(remote_plan)
        pending: dict[Any, Task] = {
            task.remote(plan_ref, _shipped(c, shipment), s): (c, s) for c, s in tasks
        }
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                controller, seed = pending.pop(done[0])
                try:
                    _, _, outcome = ray.get(done[0])
                except RayTaskError as exc:
                    if isinstance(exc.cause, TrafficAIError):  # the serial path's own error
                        raise exc.cause from None
                    raise SimulationError(f"{label(controller, seed)}: {one_line(exc)}") from exc
                except RayError as exc:
                    raise SimulationError(f"{label(controller, seed)}: {one_line(exc)}") from exc
                yield controller, seed, outcome  # the driver's names, not the shipped paths
        finally:
            for ref in pending:
                ray.cancel(ref)

    return run


def _shipped(controller: str, shipment: Shipment | None) -> str:
    if shipment is None or not controller.startswith(MODEL_PREFIX):
        return controller
    return MODEL_PREFIX + shipment.rewrite(controller[len(MODEL_PREFIX) :])


def label(controller: str, seed: int) -> str:
    return f"episode {controller} seed {seed} failed on the cluster"
