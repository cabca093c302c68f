"""PettingZoo ParallelEnv: every controlled signal is an agent, all acting every ``delta_time_s``.

All agents share one observation space and one action space (padded to the most lanes / stages any
controlled signal has, see :mod:`.observations`), so one shared policy can drive them all; each
agent's ``infos[agent]["action_mask"]`` (and :meth:`action_mask`) says which stages exist. Signals
not controlled keep their own program. An action missing from ``step``'s dict keeps that signal's
current green.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray
from pettingzoo import ParallelEnv

from trafficai.control.rl.config import EnvConfig
from trafficai.control.rl.env import as_env_config
from trafficai.control.rl.episode import ControlledEpisodes
from trafficai.core.scenario import Scenario

Obs = NDArray[np.float32]


class TrafficSignalParallelEnv(ParallelEnv[str, Obs, int]):  # type: ignore[misc]
    metadata: dict[str, Any] = {"name": "trafficai_signals_v0", "render_modes": [], "is_parallelizable": True}  # noqa: RUF012

    def __init__(
        self, config: EnvConfig | str, *, scenario: Scenario | None = None, **overrides: Any
    ) -> None:
        """``scenario``: an already resolved scenario to run instead of ``config.scenario``."""
        self.config = as_env_config(config, **overrides)
        self.episodes = ControlledEpisodes(self.config, scenario=scenario)
        self.possible_agents: list[str] = list(self.episodes.signal_ids)
        self.agents: list[str] = []
        low, high = self.episodes.observation_bounds()
        obs_space = spaces.Box(low=low, high=high, dtype=np.float32)
        act_space: spaces.Discrete[np.int64] = spaces.Discrete(self.episodes.n_actions)
        self.observation_spaces = dict.fromkeys(self.possible_agents, obs_space)
        self.action_spaces = dict.fromkeys(self.possible_agents, act_space)
        self._masks = {a: self.episodes.action_mask()[i] for i, a in enumerate(self.possible_agents)}
        self._rng = np.random.default_rng(self.config.seed)
        self.render_mode = None

    def observation_space(self, agent: str) -> spaces.Space[Any]:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space[Any]:
        return self.action_spaces[agent]

    def action_mask(self, agent: str) -> NDArray[np.bool_]:
        mask: NDArray[np.bool_] = self._masks[agent]
        return mask

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Obs], dict[str, dict[str, Any]]]:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        elif self.episodes.episode:
            seed = int(self._rng.integers(0, 2**31 - 1))
        observations = self.episodes.reset(seed)
        self.agents = list(self.possible_agents)
        obs = {a: observations[i] for i, a in enumerate(self.agents)}
        return obs, self._infos()

    def _infos(self, time_s: float | None = None) -> dict[str, dict[str, Any]]:
        if time_s is None:
            time_s = self.episodes.backend.time_s
        masks = self._masks
        return {a: {"time_s": time_s, "action_mask": masks[a]} for a in self.agents}

    def step(
        self, actions: dict[str, Any]
    ) -> tuple[dict[str, Obs], dict[str, float], dict[str, bool], dict[str, bool], dict[str, dict[str, Any]]]:
        if not self.agents:
            return {}, {}, {}, {}, {}
        n_actions = self.episodes.n_actions
        vector = [int(actions[a]) if a in actions else n_actions for a in self.possible_agents]
        result = self.episodes.step(vector)
        agents = self.agents
        obs = dict(zip(agents, result.observations, strict=True))  # row views, one per agent
        rewards = dict(zip(agents, result.rewards.tolist(), strict=True))  # Python floats
        terminations = dict.fromkeys(agents, False)
        truncations = dict.fromkeys(agents, result.done)
        infos = self._infos(result.time_s)
        if result.done:
            self.agents = []
        return obs, rewards, terminations, truncations, infos

    def state(self) -> NDArray[np.float32]:
        """All agents' current observations, concatenated (for centralised critics)."""
        last = self.episodes.last_observations
        if last is None:
            return np.zeros(len(self.possible_agents) * self.episodes.observation_size, np.float32)
        return last.reshape(-1)

    def close(self) -> None:
        self.episodes.close()
