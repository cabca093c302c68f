"""``trafficai train --ray``: the simulations of SB3 training as Ray actors feeding one learner.

Each actor holds one :class:`~trafficai.control.rl.episode.ControlledEpisodes` (one SUMO) and
answers the same describe / reset / step protocol as the VecEnv's worker processes, so
:class:`~trafficai.control.rl.vec_env.SharedPolicyVecEnv` (slots, seeds, auto-reset, episode
records) is unchanged: the learner in the driver, with its checkpoints, TensorBoard logs and early
stop, does not know where the simulations run. A dead actor (its node gone) or a failed step is a
:class:`~trafficai.errors.SimulationError` naming the worker, which the trainer turns into a crash
checkpoint and a ``--resume`` hint, as for a worker process.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from trafficai.control.rl.config import EnvConfig
from trafficai.control.rl.episode import ControlledEpisodes, StepResult
from trafficai.control.rl.vec_env import WorkerFactory, describe_episodes, step_and_reset
from trafficai.errors import SimulationError
from trafficai.scale.cluster import node_id, one_line
from trafficai.scale.shipping import Shipment

CLOSE_TIMEOUT_S = 10.0


class EpisodesActor:
    """The body of each Ray actor: one simulation, stepped on the learner's request."""

    def __init__(self, config_json: str) -> None:
        self.episodes = ControlledEpisodes(EnvConfig.model_validate_json(config_json))

    def describe(self) -> dict[str, Any]:
        return {**describe_episodes(self.episodes), "node": node_id()}

    def reset(self, seed: int | None) -> NDArray[np.float32]:
        return self.episodes.reset(seed)

    def step(self, actions: NDArray[np.int64]) -> tuple[StepResult, NDArray[np.float32] | None]:
        return step_and_reset(self.episodes, actions)

    def close(self) -> None:
        self.episodes.close()


class RayEnvWorker:
    """A VecEnv worker whose simulation is a Ray actor (one CPU, one SUMO) on any node."""

    def __init__(self, config: EnvConfig, index: int) -> None:
        import ray

        self.index = index
        actor_class = ray.remote(num_cpus=1, max_restarts=0)(EpisodesActor)
        self.actor = actor_class.remote(config.model_dump_json())
        self._pending: Any = None
        self._description: dict[str, Any] = self._get(self.actor.describe.remote())

    @property
    def node(self) -> str:
        return str(self._description.get("node", ""))

    def _get(self, ref: Any) -> Any:
        import ray
        from ray.exceptions import RayError, RayTaskError

        try:
            return ray.get(ref)
        except RayTaskError as exc:
            raise SimulationError(f"environment worker {self.index} (Ray actor) failed: {one_line(exc)}") from None
        except RayError as exc:
            raise SimulationError(f"environment worker {self.index} (Ray actor) died: {one_line(exc)}") from None

    def describe(self) -> dict[str, Any]:
        return self._description

    def reset_async(self, seed: int | None) -> None:
        self._pending = self.actor.reset.remote(seed)

    def reset_wait(self) -> NDArray[np.float32]:
        return self._get(self._pending)  # type: ignore[no-any-return]

    def step_async(self, actions: NDArray[np.int64]) -> None:
        self._pending = self.actor.step.remote(actions)

    def step_wait(self) -> tuple[StepResult, NDArray[np.float32] | None]:
        return self._get(self._pending)  # type: ignore[no-any-return]

    def close(self) -> None:
        import ray
        from ray.exceptions import GetTimeoutError, RayError

        try:
            ray.get(self.actor.close.remote(), timeout=CLOSE_TIMEOUT_S)
        except (RayError, GetTimeoutError):
            pass  # already gone: nothing of it to close
        ray.kill(self.actor)


def ray_workers(shipment: Shipment | None = None) -> WorkerFactory:
    """A worker factory for :class:`SharedPolicyVecEnv`: every simulation a Ray actor, running the
    shipped scenario copy when ``shipment`` is given (an existing cluster)."""

    def make(config: EnvConfig, index: int) -> RayEnvWorker:
        if shipment is not None:
            config = config.model_copy(update={"scenario": shipment.rewrite(config.scenario)})
        return RayEnvWorker(config, index)

    return make
