"""Federated rounds on Flower's simulation engine (``flwr.simulation.run_simulation``, Ray backend).

Each site is one Flower node (``partition-id`` = its index). In a round the server sends the
global policy parameters and the training config; the node starts its own simulation, trains the
portable policy from those parameters for the round's decision steps and replies with its new
parameters and the number of agent decisions it learned from. That is everything that travels:
the model, a few config numbers and that count; never detector data or trajectories (the
messages are measured, :class:`MeteredStrategy`). The server aggregates with FedAvg, FedAvgM
(FedAvg with server-side momentum), each site weighted by its number of agent decisions
(``num-examples``), by its square root (``sqrt-examples``, ``weighting="sqrt-decisions"``: a
network of many signals still counts more, but does not drown a small one) or equally
(``num-sites``, ``weighting="sites"``); with ``dp_clip`` each node
clips its update to that L2 norm (``fixedclipping_mod``) and the server adds Gaussian noise of
``dp_noise x dp_clip / nodes`` to the average (Flower's ``DifferentialPrivacyClientSideFixedClipping``,
whose noise scale assumes equal weights: DP runs weight sites equally).

This module is the only place Flower is imported (import-linter contract).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp
from flwr.clientapp.mod import fixedclipping_mod
from flwr.common.serde import recorddict_to_proto
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import (
    DifferentialPrivacyClientSideFixedClipping,
    FedAvg,
    FedAvgM,
    Strategy,
)
from flwr.simulation import run_simulation

from trafficai.control.rl.config import EnvConfig
from trafficai.control.rl.portable import Params, PolicySpec, SiteLearner

log = logging.getLogger(__name__)

# weighting -> the reply metric the server weighs each site's parameters by
WEIGHTINGS = {"decisions": "num-examples", "sqrt-decisions": "sqrt-examples", "sites": "num-sites"}


@dataclass(frozen=True, slots=True)
class FederatedJob:
    sites: tuple[EnvConfig, ...]  # one per node; seed = the SUMO seed of round 1
    rounds: int
    steps_per_round: int  # decision steps each site trains per round
    initial: Params
    spec: PolicySpec = field(default_factory=PolicySpec)
    strategy: str = "fedavg"
    weighting: str = "decisions"  # a key of WEIGHTINGS
    server_momentum: float = 0.5  # FedAvgM's (Hsu et al. 2019), server learning rate 1
    local_minibatch: int = 256  # PPO minibatch of a node's update (smaller: more local steps)
    prox_mu: float = 0.0  # FedProx's proximal term mu/2 ||w - w_global||^2 in each node's PPO loss
    keep_optimizer: bool = False  # each node keeps its Adam state across rounds (never sent)
    learner_seed: int = 0
    dp_clip: float | None = None
    dp_noise: float = 0.0
    num_cpus: int = 2
    keep_updates: bool = False  # keep every node's reply (tests check the averaging with them)


@dataclass
class RoundRecord:
    round: int
    bytes_down: int  # server -> nodes, every message's content
    bytes_up: int  # nodes -> server
    weights: list[float]
    update_norms: list[float] = field(default_factory=list)  # L2 norm of each reply minus the sent params
    restored: list[int] = field(default_factory=list)  # per reply: 1 if its node reused its Adam state
    aggregate: Params | None = None
    updates: list[Params] | None = None  # only with keep_updates


@dataclass
class FederatedOutcome:
    params: Params
    rounds: list[RoundRecord] = field(default_factory=list)

    @property
    def bytes_per_round(self) -> float:
        return float(np.mean([r.bytes_down + r.bytes_up for r in self.rounds])) if self.rounds else 0.0

    @property
    def bytes_total(self) -> int:
        return sum(r.bytes_down + r.bytes_up for r in self.rounds)


def content_bytes(content: RecordDict) -> int:
    """Size of a message's content as Flower serialises it (protobuf)."""
    return int(recorddict_to_proto(content).ByteSize())


def _arrays(params: Iterable[np.ndarray]) -> ArrayRecord:
    return ArrayRecord([np.asarray(p) for p in params])


def weight_key(strategy: Strategy) -> str:
    """The reply metric ``strategy`` weights sites by (looking through a DP wrapper)."""
    while not hasattr(strategy, "weighted_by_key") and hasattr(strategy, "strategy"):
        strategy = strategy.strategy
    return str(getattr(strategy, "weighted_by_key", "num-examples"))


class MeteredStrategy(Strategy):
    """Delegates to ``inner``; measures every message and keeps what each round aggregated."""

    def __init__(self, inner: Strategy, keep_updates: bool) -> None:
        self.inner = inner
        self.keep_updates = keep_updates
        self.records: list[RoundRecord] = []
        self._sent: list[np.ndarray] = []

    def summary(self) -> None:
        self.inner.summary()

    def configure_train(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        messages = list(self.inner.configure_train(server_round, arrays, config, grid))
        self._sent = arrays.to_numpy_ndarrays()
        down = sum(content_bytes(m.content) for m in messages)
        self.records.append(RoundRecord(server_round, down, 0, []))
        return messages

    def aggregate_train(
        self, server_round: int, replies: Iterable[Message]
    ) -> tuple[ArrayRecord | None, MetricRecord | None]:
        replies = list(replies)
        record = self.records[-1]
        ok = [r for r in replies if not r.has_error()]
        for reply in replies:
            if reply.has_error():
                log.error("round %d: a site failed: %s", server_round, reply.error.reason)
        record.bytes_up = sum(content_bytes(r.content) for r in ok)
        key = weight_key(self.inner)
        record.weights = [float(r.content["metrics"][key]) for r in ok]  # type: ignore[arg-type]
        received = [r.content["arrays"].to_numpy_ndarrays() for r in ok]  # type: ignore[union-attr]
        record.update_norms = [update_norm(p, self._sent) for p in received]
        record.restored = [int(r.content["metrics"].get("optimizer-restored", 0)) for r in ok]  # type: ignore[union-attr,arg-type]
        if self.keep_updates:
            record.updates = received
        arrays, metrics = self.inner.aggregate_train(server_round, ok)
        if arrays is not None:
            record.aggregate = arrays.to_numpy_ndarrays()
        return arrays, metrics

    def configure_evaluate(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        return self.inner.configure_evaluate(server_round, arrays, config, grid)

    def aggregate_evaluate(self, server_round: int, replies: Iterable[Message]) -> MetricRecord | None:
        return self.inner.aggregate_evaluate(server_round, replies)


def update_norm(new: list[np.ndarray], old: list[np.ndarray]) -> float:
    """L2 norm of a site's update (its parameters minus those it received), all arrays flattened."""
    return float(np.sqrt(sum(np.sum((a.astype(np.float64) - b) ** 2) for a, b in zip(new, old, strict=True))))


def make_strategy(job: FederatedJob) -> Strategy:
    """The server's aggregation for ``job`` (FedAvg or FedAvgM; DP around it)."""
    n = len(job.sites)
    common: dict[str, Any] = {
        "fraction_train": 1.0,
        "fraction_evaluate": 0.0,
        "min_train_nodes": n,
        "min_available_nodes": n,
        "weighted_by_key": WEIGHTINGS[job.weighting],
    }
    inner: Strategy
    if job.strategy == "fedavgm":
        inner = FedAvgM(server_learning_rate=1.0, server_momentum=job.server_momentum, **common)
    else:
        inner = FedAvg(**common)
    if job.dp_clip is not None:
        inner = DifferentialPrivacyClientSideFixedClipping(inner, job.dp_noise, job.dp_clip, n)
    return inner


def train_on_site(message: Message, context: Context) -> Message:
    """A node's round: its own simulation, the received parameters, ``steps`` decisions of PPO."""
    config = message.content["config"]
    sites = json.loads(str(config["sites"]))
    index = int(context.node_config["partition-id"])
    server_round = int(config["server-round"])  # type: ignore[arg-type]
    site = EnvConfig.model_validate(sites[index])
    site = site.model_copy(update={"seed": site.seed + server_round - 1})  # a new episode each round
    spec = PolicySpec(pad_phases=int(config["pad-phases"]))  # type: ignore[arg-type]
    params = message.content["arrays"].to_numpy_ndarrays()  # type: ignore[union-attr]
    steps = int(config["steps"])  # type: ignore[arg-type]
    learner_seed = int(config["learner-seed"]) + index  # type: ignore[arg-type]
    minibatch = int(config["minibatch"])  # type: ignore[arg-type]
    mu = float(config["prox-mu"])  # type: ignore[arg-type]
    keep = bool(config["keep-optimizer"])
    saved = context.state["optimizer"] if keep and "optimizer" in context.state else None
    with SiteLearner(
        [site], spec, seed=learner_seed, rollout_steps=steps, minibatch=minibatch, prox_mu=mu
    ) as learner:
        new, examples = learner.train(
            params,
            steps,
            optimizer_state=saved.to_numpy_ndarrays() if saved is not None else None,  # type: ignore[union-attr]
        )
        if keep:  # the node's own state (Flower keeps it between rounds); it never leaves the node
            context.state["optimizer"] = _arrays(learner.optimizer_state())
    # num-examples / sqrt-examples / num-sites: the weights (--weighting picks one);
    # optimizer-restored: whether this node's Adam state came from its previous round (a flag,
    # checked by the tests; the state itself stays on the node)
    metrics = MetricRecord(
        {
            "num-examples": examples,
            "sqrt-examples": float(np.sqrt(examples)),
            "num-sites": 1,
            "optimizer-restored": int(saved is not None),
        }
    )
    reply = RecordDict({"arrays": _arrays(new), "metrics": metrics})
    return Message(content=reply, reply_to=message)


def client_app(dp: bool) -> ClientApp:
    app = ClientApp(mods=[fixedclipping_mod] if dp else [])
    app.train()(train_on_site)
    return app


def server_app(job: FederatedJob, outcome: FederatedOutcome) -> ServerApp:
    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        initial = _arrays(job.initial)
        metered = MeteredStrategy(make_strategy(job), job.keep_updates)
        train_config = ConfigRecord(
            {
                "sites": json.dumps([s.model_dump(mode="json") for s in job.sites]),
                "steps": job.steps_per_round,
                "learner-seed": job.learner_seed,
                "pad-phases": job.spec.pad_phases,
                "minibatch": job.local_minibatch,
                "prox-mu": job.prox_mu,
                "keep-optimizer": job.keep_optimizer,
            }
        )
        result = metered.start(grid, initial, num_rounds=job.rounds, train_config=train_config)
        outcome.params = result.arrays.to_numpy_ndarrays()
        outcome.rounds = metered.records

    return app


def run_federated(job: FederatedJob) -> FederatedOutcome:
    """Run ``job.rounds`` rounds over ``len(job.sites)`` simulated Flower nodes (one CPU each)."""
    outcome = FederatedOutcome(params=list(job.initial))
    backend_config: dict[str, Any] = {
        "client_resources": {"num_cpus": 1, "num_gpus": 0.0},
        "init_args": {"num_cpus": job.num_cpus, "include_dashboard": False, "log_to_driver": False},
    }
    # an already started Ray (the command starts it, trafficai.scale.cluster) is used as it is;
    # Flower shuts Ray down when the simulation ends
    run_simulation(
        server_app=server_app(job, outcome),
        client_app=client_app(job.dp_clip is not None),
        num_supernodes=len(job.sites),
        backend_config=backend_config,  # type: ignore[arg-type]
    )
    if len(outcome.rounds) != job.rounds or any(r.aggregate is None for r in outcome.rounds):
        from trafficai.errors import SimulationError

        failed = next((r.round for r in outcome.rounds if r.aggregate is None), len(outcome.rounds) + 1)
        raise SimulationError(f"federated training stopped in round {failed}: a site failed (see the log)")
    return outcome
