"""The site learner's episodes keep their sites' SUMO seeds: the learner seed never reaches the
simulations (PPO(seed=s) would reset every episode to SUMO seed s + slot, i.e. the evaluation
seeds 1, 2, ... and the same episode in every federated round)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.conftest import DATA
from trafficai.control.rl.portable import PolicySpec, SiteLearner, initial_params, site_env

pytest.importorskip("stable_baselines3")

TINY = str(DATA / "tiny" / "tiny.sumocfg")


@pytest.mark.parametrize("learner_seed", [0, 1])
def test_training_episodes_use_the_sites_seeds_not_the_learner_seed(learner_seed: int) -> None:
    spec = PolicySpec()
    with SiteLearner(
        [site_env(TINY, episode_s=60, seed=1000)], spec, seed=learner_seed, rollout_steps=8
    ) as learner:
        learner.train(initial_params(spec), 8)
        local: Any = learner.env.workers[0]  # simulation 0 runs in this process
        assert local.episodes.next_seed == 1001  # one episode begun, on SUMO seed 1000
        learner.train(None, 8, fresh=True)  # a new model starts the site's next episode, not seed 0/1
        assert local.episodes.next_seed == 1002


def test_the_learner_seed_still_fixes_the_update() -> None:
    spec = PolicySpec()
    results = []
    for _ in range(2):
        with SiteLearner([site_env(TINY, episode_s=60, seed=1000)], spec, seed=3, rollout_steps=8) as learner:
            results.append(learner.train(initial_params(spec), 8)[0])
    assert all(np.array_equal(a, b) for a, b in zip(*results, strict=True))
