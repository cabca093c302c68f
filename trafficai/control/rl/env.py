"""Gymnasium environment for one signal (the rest of the network keeps its own programs).

Action: the green stage wanted for the next ``delta_time_s`` (``Discrete(max_phases)``; an index
past the signal's stages keeps the current green; :meth:`TrafficSignalEnv.action_masks` says which
exist). The safety layer inserts yellow / all-red and enforces min / max green, so an action that
cannot be honoured yet is simply pending. Episodes end by time: ``truncated`` is True, never
``terminated``. ``reset(seed=s)`` starts SUMO with seed ``s``: same seed, same episode.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from trafficai.control.rl.config import EnvConfig
from trafficai.control.rl.episode import ControlledEpisodes


def as_env_config(config: EnvConfig | str, **overrides: Any) -> EnvConfig:
    """An EnvConfig from a config or a scenario name / path, with field overrides."""
    base = config if isinstance(config, EnvConfig) else EnvConfig(scenario=config)
    return base.model_copy(update=overrides) if overrides else base


class TrafficSignalEnv(gym.Env[NDArray[np.float32], np.int64]):
    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 - gymnasium's convention

    def __init__(self, config: EnvConfig | str, signal: str | None = None, **overrides: Any) -> None:
        super().__init__()
        cfg = as_env_config(config, **overrides)
        if signal is not None:
            cfg = cfg.model_copy(update={"signals": (signal,)})
        self.config = cfg
        self.episodes = ControlledEpisodes(cfg, first_only=True)
        self.signal_id = self.episodes.signal_ids[0]
        low, high = self.episodes.observation_bounds()
        self.observation_space = spaces.Box(low=low, high=high, dtype=np.float32)
        self.action_space = spaces.Discrete(self.episodes.n_actions)
        self.render_mode = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        super().reset(seed=seed)
        if seed is None:
            seed = int(self.np_random.integers(0, 2**31 - 1)) if self.episodes.episode else None
        observations = self.episodes.reset(seed)
        return observations[0], self._info()

    def step(self, action: np.int64 | int) -> tuple[NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        result = self.episodes.step([int(action)])
        return result.observations[0], float(result.rewards[0]), False, result.done, self._info()

    def _info(self) -> dict[str, Any]:
        return {"time_s": self.episodes.backend.time_s, "action_mask": self.action_masks()}

    def action_masks(self) -> NDArray[np.bool_]:
        """Which actions are real green stages (sb3-contrib's MaskablePPO reads this)."""
        mask: NDArray[np.bool_] = self.episodes.action_mask()[0]
        return mask

    def close(self) -> None:
        self.episodes.close()
