"""SB3 policies that never pick a green stage a signal does not have.

Every observation ends with the action mask (see :mod:`.observations`). The actor-critic policy
(PPO, A2C) sets the logits of masked actions to a large negative number, so they are never sampled
and carry no probability mass; the DQN policy takes its greedy action over unmasked Q-values only.
(DQN's random exploration may still draw a masked index; the environment treats it as "keep the
current green", so it is a well-defined alias, never an error.)
"""

from __future__ import annotations

from typing import Any

import torch as th
from stable_baselines3.common.distributions import Distribution
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.dqn.policies import DQNPolicy, QNetwork

MASKED_LOGIT = -1e8


def _mask_of(obs: th.Tensor, n_actions: int) -> th.Tensor:
    return obs[..., -n_actions:] > 0.5


class MaskedActorCriticPolicy(ActorCriticPolicy):
    """ActorCriticPolicy whose categorical distribution respects the observation's action mask."""

    _mask: th.Tensor | None = None

    def _n_actions(self) -> int:
        return int(self.action_space.n)  # type: ignore[attr-defined]

    def _get_action_dist_from_latent(self, latent_pi: th.Tensor) -> Distribution:
        logits = self.action_net(latent_pi)
        if self._mask is not None:
            logits = th.where(self._mask, logits, th.full_like(logits, MASKED_LOGIT))
        return self.action_dist.proba_distribution(action_logits=logits)  # type: ignore[no-any-return]

    def _with_mask(self, obs: Any) -> None:
        self._mask = _mask_of(obs.float(), self._n_actions()) if isinstance(obs, th.Tensor) else None

    def forward(self, obs: th.Tensor, deterministic: bool = False) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
        self._with_mask(obs)
        try:
            return super().forward(obs, deterministic)  # type: ignore[no-any-return]
        finally:
            self._mask = None

    def evaluate_actions(self, obs: Any, actions: th.Tensor) -> tuple[th.Tensor, th.Tensor, th.Tensor | None]:
        self._with_mask(obs)
        try:
            return super().evaluate_actions(obs, actions)  # type: ignore[no-any-return]
        finally:
            self._mask = None

    def get_distribution(self, obs: Any) -> Distribution:
        self._with_mask(obs)
        try:
            return super().get_distribution(obs)  # type: ignore[no-any-return]
        finally:
            self._mask = None


class MaskedQNetwork(QNetwork):
    def _predict(self, observation: Any, deterministic: bool = True) -> th.Tensor:
        q_values = self(observation)
        n = q_values.shape[-1]
        mask = _mask_of(observation.float(), n)
        q_values = th.where(mask, q_values, th.full_like(q_values, MASKED_LOGIT))
        return q_values.argmax(dim=1).reshape(-1)


class MaskedDQNPolicy(DQNPolicy):
    def make_q_net(self) -> QNetwork:
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        return MaskedQNetwork(**net_args).to(self.device)


STAGE_FEATURES = ("phase", "phase_queue", "phase_density", "phase_pressure", "mask")
SIGNAL_FEATURES = ("min_green", "time_in_green")


class PhaseScoringPolicy(MaskedActorCriticPolicy):
    """Masked actor-critic whose logits add a score per green stage from one small network shared
    by all stages (FRAP / MPLight's idea): stage k is scored from its own features (is it the
    current stage, its queue, density, pressure, whether it exists) and the signal's min-green
    and time-in-green. A stage is judged by what it serves, not by its index, which keeps the
    policy meaningful across intersections whose stage k means different movements. The usual
    MLP head still adds a per-index term, and the critic is the usual MLP.

    ``stage_blocks``: start offsets in the observation of each per-stage feature (each block is
    ``n_actions`` wide); ``signal_features``: indices of per-signal scalars.
    """

    _stage_index: th.Tensor
    _signal_index: th.Tensor

    def __init__(
        self,
        *args: Any,
        stage_blocks: list[int] | None = None,
        signal_features: list[int] | None = None,
        scorer_arch: list[int] | None = None,
        **kwargs: Any,
    ) -> None:
        self.stage_blocks = list(stage_blocks or [])
        self.signal_features = list(signal_features or [])
        self.scorer_arch = list(scorer_arch or [32, 32])
        self._obs: th.Tensor | None = None
        super().__init__(*args, **kwargs)

    def _build(self, lr_schedule: Any) -> None:
        from torch import nn

        layers: list[nn.Module] = []
        width = len(self.stage_blocks) + len(self.signal_features)
        for hidden in self.scorer_arch:
            layers += [nn.Linear(width, hidden), nn.Tanh()]
            width = hidden
        layers.append(nn.Linear(width, 1))
        self.scorer = nn.Sequential(*layers)  # before super()._build: the optimizer must see it
        n = int(self.action_space.n)  # type: ignore[attr-defined]
        index = th.tensor(self.stage_blocks, dtype=th.long)[None, :] + th.arange(n)[:, None]
        self.register_buffer("_stage_index", index, persistent=False)
        self.register_buffer(
            "_signal_index", th.tensor(self.signal_features, dtype=th.long), persistent=False
        )
        super()._build(lr_schedule)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(
            stage_blocks=self.stage_blocks, signal_features=self.signal_features, scorer_arch=self.scorer_arch
        )
        return data  # type: ignore[no-any-return]

    def _with_mask(self, obs: Any) -> None:
        super()._with_mask(obs)
        self._obs = obs.float() if isinstance(obs, th.Tensor) else None

    def _get_action_dist_from_latent(self, latent_pi: th.Tensor) -> Distribution:
        logits = self.action_net(latent_pi)
        if self._obs is not None and self.stage_blocks:
            obs = self._obs
            stage = obs[:, self._stage_index]  # (batch, n_actions, blocks)
            signal = obs[:, self._signal_index].unsqueeze(1).expand(-1, stage.shape[1], -1)
            logits = logits + self.scorer(th.cat([stage, signal], dim=-1)).squeeze(-1)
        if self._mask is not None:
            logits = th.where(self._mask, logits, th.full_like(logits, MASKED_LOGIT))
        return self.action_dist.proba_distribution(action_logits=logits)  # type: ignore[no-any-return]

    def forward(self, obs: th.Tensor, deterministic: bool = False) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
        try:
            return super().forward(obs, deterministic)
        finally:
            self._obs = None

    def evaluate_actions(self, obs: Any, actions: th.Tensor) -> tuple[th.Tensor, th.Tensor, th.Tensor | None]:
        try:
            return super().evaluate_actions(obs, actions)
        finally:
            self._obs = None

    def get_distribution(self, obs: Any) -> Distribution:
        try:
            return super().get_distribution(obs)
        finally:
            self._obs = None
