"""A signal policy that fits any site: per-intersection, fixed-size, index-free observations.

Federated training (``trafficai federated``) moves one policy between sites whose networks differ:
different numbers of signals, lanes and stages. The portable policy therefore observes each
signal only through per-stage and per-signal features (no per-lane block, whose width depends on
the site), padded to a fixed number of stages (:data:`PORTABLE_PHASES`), and scores stages with
the shared stage scorer of :class:`~.policies.PhaseScoringPolicy`. One parameter vector then
drives every signal of every site (parameter sharing, as ``trafficai train`` does within a site).

This module holds the torch / SB3 side (the only layer allowed to import them): building the
policy, reading and writing its parameters as numpy arrays (what travels between sites),
training it on one site or on several pooled sites for a number of decision steps
(:class:`SiteLearner`), and a :class:`PortableController` that drives a headless run with given
parameters, so a policy is evaluated with the same KPIs as every other controller.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from trafficai.control.controller import ControlContext, Controller
from trafficai.control.rl.config import EnvConfig, ObservationConfig, ObservationFeature, RewardConfig
from trafficai.control.rl.controller import snapshot_parts
from trafficai.control.rl.observations import (
    PhaseState,
    SignalTopology,
    build_topology,
    feature_slices,
    observation_size,
    observe,
)
from trafficai.control.safety import SignalStatus
from trafficai.core.snapshot import Snapshot
from trafficai.errors import ModelError

PORTABLE_FEATURES: tuple[ObservationFeature, ...] = (
    "phase",
    "min_green",
    "time_in_green",
    "phase_queue",
    "phase_density",
    "phase_pressure",
)
PORTABLE_PHASES = 4  # stages padded to this; a site with a signal of more stages is refused
PORTABLE_OBSERVATION = ObservationConfig(features=PORTABLE_FEATURES)
PORTABLE_REWARD = RewardConfig(kind="delay", scale=0.05)  # the zoo policies' reward
NET_ARCH = (32, 32)
Params = list[NDArray[np.float32]]


def site_env(
    scenario: str,
    *,
    signals: tuple[str, ...] = (),
    demand_scale: float = 1.0,
    episode_s: float | None = 600.0,
    seed: int = 1,
    pad_phases: int = PORTABLE_PHASES,
) -> EnvConfig:
    """The training environment of one site: portable observations, the zoo's reward."""
    return EnvConfig(
        scenario=scenario,
        signals=signals,
        demand_scale=demand_scale,
        episode_s=episode_s,
        seed=seed,
        pad_phases=pad_phases,
        observation=PORTABLE_OBSERVATION,
        reward=PORTABLE_REWARD,
    )


@dataclass(frozen=True, slots=True)
class PolicySpec:
    """Everything that fixes the shape of the portable policy (same on every site)."""

    pad_phases: int = PORTABLE_PHASES
    net_arch: tuple[int, ...] = NET_ARCH

    @property
    def obs_size(self) -> int:
        return self.slices()["mask"][1]

    def slices(self) -> dict[str, tuple[int, int]]:
        widths = {"phase": self.pad_phases, "min_green": 1, "time_in_green": 1}
        out, start = {}, 0
        for feature in (*PORTABLE_FEATURES, "mask"):
            width = widths.get(feature, self.pad_phases)
            out[feature] = (start, start + width)
            start += width
        return out


def _policy_kwargs(spec: PolicySpec) -> dict[str, Any]:
    from trafficai.control.rl.policies import SIGNAL_FEATURES, STAGE_FEATURES

    slices = spec.slices()
    arch = list(spec.net_arch)
    return {
        "net_arch": {"pi": arch, "vf": arch},
        "stage_blocks": [slices[f][0] for f in STAGE_FEATURES],
        "signal_features": [slices[f][0] for f in SIGNAL_FEATURES if f in slices],
    }


def build_policy(spec: PolicySpec, seed: int = 0) -> Any:
    """A fresh portable policy (torch module), its weights drawn from ``seed``."""
    import torch
    from gymnasium import spaces

    from trafficai.control.rl.policies import PhaseScoringPolicy

    torch.manual_seed(seed)
    low = np.zeros(spec.obs_size, np.float32)
    low[slice(*spec.slices()["phase_pressure"])] = -1.0
    observation_space = spaces.Box(low=low, high=np.ones(spec.obs_size, np.float32), dtype=np.float32)
    action_space: spaces.Discrete[np.int64] = spaces.Discrete(spec.pad_phases)
    return PhaseScoringPolicy(observation_space, action_space, lambda _: 3e-4, **_policy_kwargs(spec))


def get_params(policy: Any) -> Params:
    """The policy's parameters in a fixed order (its state dict's), as float32 numpy arrays."""
    return [t.detach().cpu().numpy().astype(np.float32, copy=True) for t in policy.state_dict().values()]


def set_params(policy: Any, params: Sequence[NDArray[np.floating]]) -> None:
    import torch

    state = policy.state_dict()
    if len(params) != len(state):
        raise ModelError(f"{len(params)} parameter arrays for a policy of {len(state)}")
    new = {}
    for (key, current), value in zip(state.items(), params, strict=True):
        if tuple(current.shape) != tuple(value.shape):
            raise ModelError(
                f"parameter {key}: shape {tuple(value.shape)}, the policy's is {tuple(current.shape)}"
            )
        new[key] = torch.as_tensor(np.asarray(value, dtype=np.float32))
    policy.load_state_dict(new)


def initial_params(spec: PolicySpec, seed: int = 0) -> Params:
    return get_params(build_policy(spec, seed))


class SiteLearner:
    """PPO on the signals of one site (or several pooled sites) for a budget of decision steps.

    ``configs``: one environment per site; with more than one, every site runs in its own process
    and one learner sees all of them at once (centralised training on all sites' data). Each call
    of :meth:`train` starts from the given parameters with a fresh optimiser, collects
    ``steps`` decisions on every site (one PPO rollout of ``rollout_steps``, repeated; 8 epochs of
    ``minibatch``-sized gradient steps on each) and returns the new parameters and the number of
    agent decisions it learned from.

    Two options of federated nodes: ``prox_mu`` > 0 adds FedProx's proximal term
    ``mu/2 ||w - w0||^2`` (w0: the parameters ``train`` started from) to the PPO loss, as its
    gradient ``mu (w - w0)`` added to every parameter's gradient before each optimiser step (after
    PPO's clipping of its own gradient); ``optimizer_state`` (from :meth:`optimizer_state` of an
    earlier call) restores Adam's moments instead of starting them at zero.
    """

    def __init__(
        self,
        configs: Sequence[EnvConfig],
        spec: PolicySpec = PolicySpec(),
        *,
        seed: int = 0,
        rollout_steps: int = 120,
        learning_rate: float = 1e-3,
        minibatch: int = 256,
        prox_mu: float = 0.0,
    ) -> None:
        from trafficai.control.rl.vec_env import SharedPolicyVecEnv

        self.spec = spec
        self.env = SharedPolicyVecEnv.of_sites(list(configs))
        if self.env.observation_space.shape != (spec.obs_size,):
            self.env.close()
            raise ModelError(
                f"observation size {self.env.observation_space.shape} does not fit the portable policy "
                f"({spec.obs_size})"
            )
        self.seed = seed
        self.rollout_steps = rollout_steps
        self.learning_rate = learning_rate
        self.minibatch = minibatch
        self.prox_mu = prox_mu
        self.model: Any = None
        self._prox: ProximalTerm | None = None

    def _make_model(self) -> Any:
        import torch
        from stable_baselines3 import PPO
        from stable_baselines3.common.logger import Logger
        from stable_baselines3.common.utils import set_random_seed

        from trafficai.control.rl.policies import PhaseScoringPolicy

        torch.set_num_threads(1)
        # The learner seed seeds torch and numpy (weights, sampling, minibatches) but never the
        # simulations: PPO(seed=s) would call env.seed(s), so every episode would start from SUMO
        # seed s + slot (the evaluation seeds 1, 2, ... for small s, and the same episode in every
        # federated round). The episodes keep their configs' seeds (from TRAIN_SEED_BASE).
        set_random_seed(self.seed)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*mini-batch size.*", category=UserWarning)
            model = PPO(
                PhaseScoringPolicy,
                self.env,
                learning_rate=self.learning_rate,
                n_steps=self.rollout_steps,
                batch_size=min(self.minibatch, self.rollout_steps * self.env.num_envs),
                n_epochs=8,
                gamma=0.95,
                gae_lambda=0.95,
                ent_coef=0.01,
                seed=None,
                device="cpu",
                verbose=0,
                policy_kwargs=_policy_kwargs(self.spec),
            )
        model.set_logger(Logger(folder=None, output_formats=[]))
        return model

    def train(
        self,
        params: Sequence[NDArray[np.floating]] | None,
        steps: int,
        *,
        fresh: bool = True,
        optimizer_state: Sequence[NDArray[np.floating]] | None = None,
    ) -> tuple[Params, int]:
        """Learn for ``steps`` decision steps of every site; ``fresh``: a new optimiser first
        (with ``optimizer_state``: Adam's moments restored into it)."""
        if self.model is None or fresh:
            self.model = self._make_model()
            if optimizer_state is not None:
                load_adam_state(self.model.policy.optimizer, optimizer_state)
            self._prox = ProximalTerm(self.model.policy, self.prox_mu) if self.prox_mu > 0 else None
        if params is not None:
            set_params(self.model.policy, params)
        if self._prox is not None:
            self._prox.anchor_here()
        before = int(self.model.num_timesteps)
        self.model.learn(
            total_timesteps=steps * self.env.num_envs, reset_num_timesteps=False, progress_bar=False
        )
        return get_params(self.model.policy), int(self.model.num_timesteps) - before

    def optimizer_state(self) -> Params:
        """Adam's state after the last :meth:`train` (for ``optimizer_state`` of the next)."""
        return adam_state(self.model.policy.optimizer)

    def close(self) -> None:
        self.env.close()

    def __enter__(self) -> SiteLearner:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class ProximalTerm:
    """FedProx's ``mu/2 ||w - w0||^2`` on a policy: its gradient ``mu (w - w0)`` is added to every
    parameter's gradient by an optimiser step pre-hook; :meth:`anchor_here` sets w0."""

    def __init__(self, policy: Any, mu: float) -> None:
        self.mu = mu
        self.params = [p for p in policy.parameters() if p.requires_grad]
        self.anchor = [p.detach().clone() for p in self.params]
        self.handle = policy.optimizer.register_step_pre_hook(self._pre_step)

    def anchor_here(self) -> None:
        self.anchor = [p.detach().clone() for p in self.params]

    def _pre_step(self, *_: object) -> None:
        for p, p0 in zip(self.params, self.anchor, strict=True):
            if p.grad is not None:
                p.grad.add_(p.detach() - p0, alpha=self.mu)


def adam_state(optimizer: Any) -> Params:
    """Adam's per-parameter moments as arrays: [steps, exp_avg_0, exp_avg_sq_0, exp_avg_1, ...]
    (parameters in the optimiser's order; zeros for one it has not stepped yet)."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    steps, moments = [], []
    for p in params:
        state = optimizer.state.get(p, {})
        steps.append(float(state["step"]) if "step" in state else 0.0)
        for key in ("exp_avg", "exp_avg_sq"):
            value = state.get(key)
            moments.append(
                value.detach().cpu().numpy().astype(np.float32, copy=True)
                if value is not None
                else np.zeros(tuple(p.shape), np.float32)
            )
    return [np.asarray(steps, np.float32), *moments]


def load_adam_state(optimizer: Any, arrays: Sequence[NDArray[np.floating]]) -> None:
    """Restore what :func:`adam_state` saved into a fresh Adam over the same parameters."""
    import torch

    params = [p for group in optimizer.param_groups for p in group["params"]]
    if len(arrays) != 1 + 2 * len(params):
        raise ModelError(f"{len(arrays)} optimiser arrays for {len(params)} parameters")
    steps = arrays[0]
    for i, p in enumerate(params):
        if steps[i] <= 0:
            continue
        avg, avg_sq = arrays[1 + 2 * i], arrays[2 + 2 * i]
        if tuple(avg.shape) != tuple(p.shape):
            raise ModelError(
                f"optimiser state of shape {tuple(avg.shape)} for a parameter of {tuple(p.shape)}"
            )
        optimizer.state[p] = {
            "step": torch.tensor(float(steps[i])),
            "exp_avg": torch.as_tensor(np.asarray(avg, np.float32)).clone(),
            "exp_avg_sq": torch.as_tensor(np.asarray(avg_sq, np.float32)).clone(),
        }


class PortableController(Controller):
    """Drives a run with portable-policy parameters (deterministic: the best-scored stage)."""

    name = "portable-rl"

    def __init__(
        self,
        params: Sequence[NDArray[np.floating]],
        spec: PolicySpec = PolicySpec(),
        decision_interval_s: float = 5.0,
    ) -> None:
        self.spec = spec
        self.policy = build_policy(spec)
        set_params(self.policy, params)
        self.decision_interval_s = decision_interval_s
        self.needs = snapshot_parts(PORTABLE_OBSERVATION)
        self.topology: SignalTopology | None = None

    def reset(self, context: ControlContext) -> None:
        super().reset(context)
        topology = build_topology(context.geometry, context.signal_ids, pad_phases=self.spec.pad_phases)
        size = observation_size(topology, PORTABLE_OBSERVATION)
        if size != self.spec.obs_size:  # pragma: no cover - fixed by the feature set
            raise ModelError(f"observation size {size}, the portable policy takes {self.spec.obs_size}")
        assert (
            feature_slices(topology, PORTABLE_OBSERVATION)["phase_pressure"].start
            == self.spec.slices()["phase_pressure"][0]
        )
        self.topology = topology

    def decide(self, snapshot: Snapshot, status: Mapping[str, SignalStatus]) -> dict[str, int]:
        assert self.topology is not None
        topology = self.topology
        statuses = [status[s] for s in topology.signal_ids]
        obs = observe(topology, PORTABLE_OBSERVATION, snapshot, PhaseState.from_statuses(statuses))
        actions, _ = self.policy.predict(obs, deterministic=True)
        out: dict[str, int] = {}
        for i, st in enumerate(statuses):
            if st.controlled:
                action = int(actions[i])
                out[st.signal_id] = action if action < topology.n_greens[i] else st.current_green
        return out
