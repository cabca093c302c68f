"""``train --ray``: the simulations as Ray actors feed the same learner to the same result."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import DATA
from trafficai.control.rl.config import EnvConfig, TrainConfig
from trafficai.control.rl.training import train
from trafficai.control.rl.vec_env import SharedPolicyVecEnv
from trafficai.errors import SimulationError
from trafficai.scale.ray_env import RayEnvWorker, ray_workers

TINY = str(DATA / "tiny" / "scenario.toml")

pytestmark = [pytest.mark.usefixtures("ray_cluster"), pytest.mark.xdist_group("ray")]


def _config(out: Path) -> TrainConfig:
    return TrainConfig(
        env=EnvConfig(scenario=TINY, episode_s=100),
        timesteps=128,
        n_envs=2,
        seed=3,
        out=str(out),
        checkpoint_every=64,
        patience=50,
        hyper={"n_steps": 32, "batch_size": 32, "n_epochs": 1},
    )


def test_ray_actors_train_the_same_policy_with_checkpoints_and_logs(tmp_path: Path) -> None:
    local = train(_config(tmp_path / "local"))
    on_ray = train(_config(tmp_path / "ray"), worker_factory=ray_workers())
    assert on_ray.timesteps == local.timesteps == 128
    assert on_ray.returns == local.returns and len(on_ray.returns) >= 2  # same episodes, same seeds
    assert on_ray.status == local.status
    assert [p.name for p in on_ray.checkpoints] == [p.name for p in local.checkpoints] != []
    assert list((tmp_path / "ray" / "tb").rglob("events.out.tfevents.*"))

    def weights(path: Path) -> bytes:
        with zipfile.ZipFile(path) as archive:
            return archive.read("policy.pth")

    assert weights(on_ray.model_path) == weights(local.model_path)  # the very same learner updates


@pytest.mark.slow
def test_every_simulation_is_an_actor_and_a_dead_one_is_a_simulation_error() -> None:
    import ray

    env = SharedPolicyVecEnv(EnvConfig(scenario=TINY, episode_s=50), 2, worker_factory=ray_workers())
    try:
        assert all(isinstance(w, RayEnvWorker) and w.node for w in env.workers)
        env.reset()
        worker = env.workers[1]
        assert isinstance(worker, RayEnvWorker)
        ray.kill(worker.actor)
        env.step_async(np.zeros(env.num_envs, np.int64))
        with pytest.raises(SimulationError, match="environment worker 1 .*died"):
            env.step_wait()
    finally:
        env.close()
