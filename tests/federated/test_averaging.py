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
