"""The two node-side options of a federated round's local update: FedProx's proximal term and
Adam's state kept across rounds (default suite: one tiny SUMO, no Ray)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import DATA
from trafficai.control.rl.portable import PolicySpec, SiteLearner, initial_params, site_env
from trafficai.errors import ModelError

pytest.importorskip("stable_baselines3")

TINY = str(DATA / "tiny" / "tiny.sumocfg")


def _drift(mu: float) -> float:
    """L2 distance an 8-decision update moves the parameters from where it started."""
    spec = PolicySpec()
    start = initial_params(spec, seed=0)
    with SiteLearner(
        [site_env(TINY, episode_s=60, seed=1000)], spec, seed=3, rollout_steps=8, prox_mu=mu
    ) as learner:
        new, _ = learner.train(start, 8)
    return float(
        np.sqrt(sum(np.sum((a.astype(np.float64) - b) ** 2) for a, b in zip(new, start, strict=True)))
    )


def test_the_proximal_term_pulls_the_update_back_to_the_global_parameters() -> None:
    free, pulled = _drift(0.0), _drift(1000.0)
    assert free > 0
    assert pulled < 0.5 * free  # a huge mu keeps the parameters near where the round began


def test_adam_state_round_trips_into_a_fresh_optimiser() -> None:
    spec = PolicySpec()
    with SiteLearner([site_env(TINY, episode_s=60, seed=1000)], spec, seed=3, rollout_steps=8) as learner:
        params, _ = learner.train(initial_params(spec), 8)
        saved = learner.optimizer_state()
        assert saved[0].min() > 0  # every parameter stepped
        learner.train(params, 8, optimizer_state=saved)  # a fresh model, the moments restored
        optimizer = learner.model.policy.optimizer
        first = next(p for group in optimizer.param_groups for p in group["params"])
        assert float(optimizer.state[first]["step"]) > float(saved[0][0])  # counting on from round 1
        with pytest.raises(ModelError, match="optimiser arrays"):
            learner.train(params, 8, optimizer_state=saved[:-1])
