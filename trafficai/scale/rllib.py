"""RLlib multi-agent PPO on the project's PettingZoo environment, one policy shared by all signals.

:class:`~trafficai.control.rl.multi_env.TrafficSignalParallelEnv` is used unchanged, wrapped only
by RLlib's own ``ParallelPettingZooEnv``; every agent (controlled signal) maps to the one module
``shared``, so the policy learns from every intersection (parameter sharing, as with the SB3
trainer). Environment runners are Ray actors (one SUMO each); the learner runs in the driver.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trafficai.control.rl.config import EnvConfig

ENV_NAME = "trafficai_signals"
SHARED_POLICY = "shared"


@dataclass(frozen=True, slots=True)
class RLlibResult:
    iterations: int
    env_steps: int  # environment steps sampled (all agents act in one env step)
    agent_steps: int
    episodes: int
    episode_return_mean: float | None  # mean over the agents' summed returns of finished episodes
    policy_loss: float
    weight_change: float  # L1 norm of the shared module's parameter change over the training
    wall_s: float
    checkpoint: Path | None


def make_env(env_config: dict[str, Any]) -> Any:
    """The RLlib env factory: the PettingZoo env, unchanged, in RLlib's ParallelPettingZooEnv."""
    from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv

    from trafficai.control.rl.multi_env import TrafficSignalParallelEnv

    return ParallelPettingZooEnv(TrafficSignalParallelEnv(EnvConfig.model_validate(env_config)))


def shared_policy(agent_id: Any, episode: Any = None, **_kwargs: Any) -> str:
    """Every agent (signal) is driven by the one shared module."""
    return SHARED_POLICY


def ppo_config(
    env: EnvConfig,
    *,
    env_runners: int = 1,
    batch_size: int = 256,
    minibatch_size: int = 64,
    epochs: int = 4,
    learning_rate: float = 3e-4,
    gamma: float = 0.95,
    seed: int = 0,
) -> Any:
    """An RLlib ``PPOConfig`` (new API stack) training one shared module on ``env``'s signals."""
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.tune.registry import register_env

    register_env(ENV_NAME, make_env)
    return (
        PPOConfig()
        .framework("torch")
        .environment(ENV_NAME, env_config=env.model_dump(mode="json"))
        .multi_agent(policies={SHARED_POLICY}, policy_mapping_fn=shared_policy)
        .env_runners(num_env_runners=env_runners, num_envs_per_env_runner=1, num_cpus_per_env_runner=1)
        .learners(num_learners=0)
        .training(
            train_batch_size_per_learner=batch_size,
            minibatch_size=min(minibatch_size, batch_size),
            num_epochs=epochs,
            lr=learning_rate,
            gamma=gamma,
        )
        .debugging(seed=seed)
    )


def train_ppo(config: Any, iterations: int, out: Path | None = None) -> RLlibResult:
    """``iterations`` RLlib training iterations with ``config`` (see :func:`ppo_config`); the last
    state is saved to ``out`` when given. Needs a connected Ray (:func:`~.cluster.connect`)."""
    started = time.perf_counter()
    algo = config.build_algo()
    try:
        before = _parameters(algo)
        result: dict[str, Any] = {}
        for _ in range(iterations):
            result = algo.train()
        after = _parameters(algo)
        checkpoint = Path(algo.save_to_path(str(out.resolve()))) if out is not None else None
    finally:
        algo.stop()
    runners = result.get("env_runners", {})
    learner = result.get("learners", {}).get(SHARED_POLICY, {})
    episode_return = runners.get("episode_return_mean")
    return RLlibResult(
        iterations=iterations,
        env_steps=int(runners.get("num_env_steps_sampled_lifetime", 0)),
        agent_steps=int(sum(runners.get("num_agent_steps_sampled_lifetime", {}).values())),
        episodes=int(runners.get("num_episodes_lifetime", 0)),
        episode_return_mean=None
        if episode_return is None or math.isnan(float(episode_return))
        else float(episode_return),
        policy_loss=float(learner.get("policy_loss", math.nan)),
        weight_change=sum(float(abs(after[k] - before[k]).sum()) for k in before),
        wall_s=time.perf_counter() - started,
        checkpoint=checkpoint,
    )


def _parameters(algo: Any) -> dict[str, Any]:
    """A copy of the shared module's parameters (numpy arrays) as the env runners have them."""
    module = algo.get_module(SHARED_POLICY)
    return {name: value.detach().cpu().numpy().copy() for name, value in module.state_dict().items()}
