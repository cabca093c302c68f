"""Federated rounds end to end on Flower's simulation engine (Ray backend, two tiny sites), and
centralised training on pooled sites. Slow: Ray and two node processes start (about 1.5 min on 2
busy cores); run with ``pytest tests/federated -m slow``."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import DATA
from trafficai.control.rl.portable import PolicySpec, SiteLearner, initial_params, site_env

pytest.importorskip("flwr")

TINY = str(DATA / "tiny" / "tiny.sumocfg")
pytestmark = pytest.mark.slow


def _sites() -> tuple:  # type: ignore[type-arg]
    return (
        site_env(TINY, episode_s=60, seed=1000),
        site_env(TINY, episode_s=60, seed=1100, demand_scale=1.5),
    )


def test_two_sites_rounds_average_exactly() -> None:
    from trafficai.federated.flower_app import FederatedJob, run_federated

    spec = PolicySpec()
    start = initial_params(spec, seed=0)
    outcome = run_federated(
        FederatedJob(sites=_sites(), rounds=2, steps_per_round=8, initial=start, spec=spec, keep_updates=True)
    )
    assert [r.round for r in outcome.rounds] == [1, 2]
    for record in outcome.rounds:
        assert record.updates is not None and record.aggregate is not None and len(record.updates) == 2
        assert record.weights == [8.0, 8.0]  # one signal each, 8 decisions
        w = np.asarray(record.weights)
        for k, got in enumerate(record.aggregate):
            expected = (
                sum(wi * u[k].astype(np.float64) for wi, u in zip(w, record.updates, strict=True)) / w.sum()
            )
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
        assert not all(
            np.array_equal(a, b) for a, b in zip(*record.updates, strict=True)
        )  # two sites, two updates
        assert record.bytes_down > 2 * sum(p.nbytes for p in start) and record.bytes_up > 0
    last = outcome.rounds[-1].aggregate
    assert last is not None
    assert all(np.array_equal(a, b) for a, b in zip(outcome.params, last, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(outcome.params, start, strict=True))


def test_centralised_training_pools_every_site() -> None:
    spec = PolicySpec()
    with SiteLearner(_sites(), spec, rollout_steps=8) as learner:
        assert learner.env.num_envs == 2  # one slot per signal of each site
        params, examples = learner.train(initial_params(spec), 8)
    assert examples == 16 and len(params) == len(initial_params(spec))


def test_nodes_keep_their_optimiser_state_between_rounds_with_fedprox() -> None:
    """--keep-optimizer: Flower keeps each node's context between rounds, so round 2 restores the
    Adam state each node saved in round 1 (the state never travels: the replies carry a flag)."""
    from trafficai.federated.flower_app import FederatedJob, run_federated

    spec = PolicySpec()
    outcome = run_federated(
        FederatedJob(
            sites=_sites(),
            rounds=2,
            steps_per_round=8,
            initial=initial_params(spec, seed=0),
            spec=spec,
            keep_optimizer=True,
            prox_mu=0.5,
        )
    )
    assert [r.restored for r in outcome.rounds] == [[0, 0], [1, 1]]
    assert all(r.aggregate is not None for r in outcome.rounds)
