"""FedAvg through the metered strategy: the aggregate is the weighted mean of the sites' parameters,
and every message is measured (no Ray here: the strategy is driven with replies directly)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from trafficai.control.rl.portable import PolicySpec, build_policy, get_params, initial_params, set_params
from trafficai.errors import ModelError

flwr = pytest.importorskip("flwr")

from flwr.app import ArrayRecord, ConfigRecord, Message, MessageType, MetricRecord, RecordDict  # noqa: E402
from flwr.serverapp.strategy import FedAvg  # noqa: E402

from trafficai.federated.flower_app import MeteredStrategy, content_bytes  # noqa: E402


@pytest.fixture(autouse=True)
def _flower_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """What Flower's runtime sets before a ServerApp runs: messages are made inside a run."""
    from flwr.supercore.task_identity import TaskIdentity

    for name, value in (("_task_id", 1), ("_run_id", 1), ("_node_id", 0)):
        monkeypatch.setattr(TaskIdentity, name, value, raising=False)


class _Grid:
    def __init__(self, nodes: list[int]) -> None:
        self.nodes = nodes

    def get_node_ids(self) -> list[int]:
        return self.nodes


def _reply(params: list[np.ndarray], examples: int) -> Message:
    """A node's reply (as :func:`train_on_site` builds it; here without a running Flower)."""
    content = RecordDict({"arrays": ArrayRecord(params), "metrics": MetricRecord({"num-examples": examples})})
    return Message(content=content, dst_node_id=0, message_type=MessageType.TRAIN)


def test_fedavg_is_the_weighted_mean_of_the_sites_parameters() -> None:
    spec = PolicySpec()
    start = initial_params(spec, seed=0)
    strategy = MeteredStrategy(FedAvg(min_train_nodes=2, min_available_nodes=2, fraction_evaluate=0.0), True)
    grid: Any = _Grid([11, 12])  # the strategy only asks a grid for its node ids
    requests = list(strategy.configure_train(1, ArrayRecord(start), ConfigRecord({"steps": 8}), grid))
    assert len(requests) == 2
    rng = np.random.default_rng(3)
    updates = [[(p + rng.normal(0, 0.1, p.shape)).astype(np.float32) for p in start] for _ in range(2)]
    weights = [16 * 120, 1 * 120]  # grid4x4's 16 signals against single's 1, same steps
    replies = [_reply(update, weight) for update, weight in zip(updates, weights, strict=True)]
    arrays, _ = strategy.aggregate_train(1, replies)
    assert arrays is not None
    record = strategy.records[0]
    assert record.weights == weights
    total = sum(weights)
    for got, a, b in zip(arrays.to_numpy_ndarrays(), updates[0], updates[1], strict=True):
        expected = (weights[0] * a.astype(np.float64) + weights[1] * b) / total
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    assert record.bytes_down == sum(content_bytes(m.content) for m in requests)
    size = sum(p.nbytes for p in start)
    assert size < record.bytes_down / 2 < 1.2 * size  # the model is the message (plus array names, shapes)
    assert record.bytes_up == sum(content_bytes(r.content) for r in replies)


def test_parameters_round_trip_and_shape_checks() -> None:
    spec = PolicySpec()
    a, b = build_policy(spec, seed=1), build_policy(spec, seed=2)
    assert any(not np.array_equal(x, y) for x, y in zip(get_params(a), get_params(b), strict=True))
    set_params(b, get_params(a))
    assert all(np.array_equal(x, y) for x, y in zip(get_params(a), get_params(b), strict=True))
    with pytest.raises(ModelError, match="parameter arrays"):
        set_params(a, get_params(a)[:-1])
    wrong = get_params(a)
    wrong[0] = np.zeros((3, 3), np.float32)
    with pytest.raises(ModelError, match="shape"):
        set_params(a, wrong)
    assert spec.obs_size == 22 and PolicySpec(pad_phases=6).obs_size == 32


def _job(**kwargs: Any) -> Any:
    from tests.conftest import DATA
    from trafficai.control.rl.portable import site_env
    from trafficai.federated.flower_app import FederatedJob

    site = site_env(str(DATA / "tiny" / "tiny.sumocfg"), episode_s=60)
    return FederatedJob(sites=(site, site), rounds=2, steps_per_round=8, initial=[], **kwargs)


def _round(strategy: MeteredStrategy, server_round: int, sent: list[np.ndarray], updates: list[Any]) -> Any:
    """One round driven by hand: ``updates`` are (params, decisions) replies; the new global arrays."""
    grid: Any = _Grid([11, 12])
    list(strategy.configure_train(server_round, ArrayRecord(sent), ConfigRecord({"steps": 8}), grid))
    replies = [_reply(params, weight) for params, weight in updates]
    for reply, (_, weight) in zip(replies, updates, strict=True):  # as train_on_site replies
        reply.content["metrics"]["num-sites"] = 1
        reply.content["metrics"]["sqrt-examples"] = float(np.sqrt(weight))
    arrays, _ = strategy.aggregate_train(server_round, replies)
    assert arrays is not None
    return arrays.to_numpy_ndarrays()


def _updates(start: list[np.ndarray], rng: np.random.Generator, weights: list[int]) -> list[Any]:
    return [([(p + rng.normal(0, 0.1, p.shape)).astype(np.float32) for p in start], w) for w in weights]


def test_weighting_by_sites_is_the_plain_mean() -> None:
    from trafficai.federated.flower_app import make_strategy

    start = initial_params(PolicySpec(), seed=0)
    strategy = MeteredStrategy(make_strategy(_job(weighting="sites")), True)
    updates = _updates(start, np.random.default_rng(5), [16 * 120, 120])
    got = _round(strategy, 1, start, updates)
    assert strategy.records[0].weights == [1.0, 1.0]  # grid4x4's 16 signals weigh as much as single's 1
    for k, array in enumerate(got):
        expected = (updates[0][0][k].astype(np.float64) + updates[1][0][k]) / 2
        np.testing.assert_allclose(array, expected, rtol=0, atol=1e-6)
    norms = strategy.records[0].update_norms  # what the sites moved, measured on the server
    for (params, _), norm in zip(updates, norms, strict=True):
        flat = np.concatenate(
            [(p.astype(np.float64) - s).ravel() for p, s in zip(params, start, strict=True)]
        )
        assert norm == pytest.approx(float(np.linalg.norm(flat)), rel=1e-9)


def test_weighting_by_sqrt_decisions_is_between_decisions_and_sites() -> None:
    from trafficai.federated.flower_app import make_strategy

    start = initial_params(PolicySpec(), seed=0)
    strategy = MeteredStrategy(make_strategy(_job(weighting="sqrt-decisions", strategy="fedavg")), True)
    updates = _updates(start, np.random.default_rng(6), [16 * 120, 120])
    got = _round(strategy, 1, start, updates)
    assert strategy.records[0].weights == pytest.approx([np.sqrt(1920), np.sqrt(120)])  # 4 : 1, not 16 : 1
    for k, array in enumerate(got):
        expected = (4 * updates[0][0][k].astype(np.float64) + updates[1][0][k]) / 5
        np.testing.assert_allclose(array, expected, rtol=0, atol=1e-6)


def test_fedavgm_applies_server_momentum_exactly() -> None:
    """Hsu et al. 2019: v = m v + (x - mean), x = x - v (server learning rate 1), over two rounds."""
    from trafficai.federated.flower_app import make_strategy

    momentum = 0.9
    start = initial_params(PolicySpec(), seed=0)
    strategy = MeteredStrategy(make_strategy(_job(strategy="fedavgm", server_momentum=momentum)), True)
    rng = np.random.default_rng(7)
    weights = [6 * 120, 120]
    x = [p.astype(np.float64) for p in start]
    velocity: list[np.ndarray] | None = None
    sent = start
    for server_round in (1, 2):
        updates = _updates(sent, rng, weights)
        got = _round(strategy, server_round, sent, updates)
        (first, _), (second, _) = updates
        mean = [
            (weights[0] * a.astype(np.float64) + weights[1] * b) / sum(weights)
            for a, b in zip(first, second, strict=True)
        ]
        gradient = [xi - mi for xi, mi in zip(x, mean, strict=True)]
        velocity = (
            gradient
            if velocity is None
            else [momentum * v + g for v, g in zip(velocity, gradient, strict=True)]
        )
        x = [xi - v for xi, v in zip(x, velocity, strict=True)]
        for array, expected in zip(got, x, strict=True):
            np.testing.assert_allclose(array, expected, rtol=0, atol=1e-5)
        sent = got
    plain_mean = mean  # the second round's FedAvg would have stopped at the mean; momentum went further
    assert any(not np.allclose(a, m, atol=1e-4) for a, m in zip(got, plain_mean, strict=True))


def test_dp_needs_equal_weights_and_strategies_are_checked() -> None:
    from trafficai.errors import ConfigError
    from trafficai.federated.compare import CompareSettings, check_settings

    with pytest.raises(ConfigError, match="--weighting sites"):
        check_settings(CompareSettings(dp_clip=1.0, dp_noise=0.5), 6)  # the default weighs by decisions
    check_settings(CompareSettings(dp_clip=1.0, dp_noise=0.5, weighting="sites"), 6)
    with pytest.raises(ConfigError, match="fedavg, fedavgm"):
        check_settings(CompareSettings(strategy="fedsgd"), 6)
    with pytest.raises(ConfigError, match="decisions, sites"):
        check_settings(CompareSettings(weighting="signals"), 6)
    from trafficai.federated import compare, flower_app

    assert set(compare.WEIGHTINGS) == set(flower_app.WEIGHTINGS)
