"""Federated vs centralised vs local-only training of the portable policy, on the same budget.

Budget: ``rounds x steps`` decision steps of every training site's simulation, for every method,
and ``rounds`` PPO updates:

* **federated**: each round every site trains ``steps`` decisions from the global parameters
  (one PPO rollout and update) and the server aggregates (:mod:`.flower_app`);
* **centralised**: all sites' simulations feed one learner at once (their slots pooled in one
  VecEnv: the data of every site in one place), ``rounds`` rollouts of ``steps``;
* **local-only**: each site trains alone, ``rounds`` rollouts of ``steps``, and never shares.

Every resulting policy is evaluated by full headless runs (the KPIs of ``trafficai run``: mean
delay = time loss + departure delay per vehicle) on every training site and on held-out sites
that no method trained on, on SUMO seeds that no training episode used. Local-only's figure on a
site is its own model's; on a held-out site, the mean over every site's model (what a new site
gets from one other site's policy).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trafficai.config import RunConfig, SimConfig
from trafficai.control.rl.config import EnvConfig
from trafficai.control.rl.portable import (
    Params,
    PolicySpec,
    PortableController,
    SiteLearner,
    initial_params,
    site_env,
)
from trafficai.errors import ConfigError
from trafficai.federated.sites import SiteInfo
from trafficai.federated.traffic import raw_bins_bytes
from trafficai.runtime.session import run_headless

log = logging.getLogger(__name__)
STRATEGIES = ("fedavg", "fedavgm")  # built by flower_app.make_strategy (importing it imports Flower)
WEIGHTINGS = ("decisions", "sqrt-decisions", "sites")
TRAIN_SEED_BASE = 1000  # training episodes use SUMO seeds from here; evaluation uses 1, 2, ...


@dataclass(frozen=True, slots=True)
class Budget:
    rounds: int = 10
    steps: int = 120  # decision steps per site per round
    delta_s: float = 5.0

    @property
    def episode_s(self) -> float:
        return self.steps * self.delta_s


@dataclass(frozen=True, slots=True)
class CompareSettings:
    budget: Budget = Budget()
    eval_seeds: tuple[int, ...] = (1, 2)
    eval_end_s: float | None = None  # None: the training episode length
    # FedAvgM 0.5 weighted by decisions measured best over three learner seeds (docs/benchmarks.md)
    strategy: str = "fedavgm"
    weighting: str = "decisions"
    server_momentum: float = 0.5  # 0.9 overshot on the city districts (docs/benchmarks.md)
    local_minibatch: int = 256  # a site learner's PPO minibatch (federated nodes and local-only)
    prox_mu: float = 0.0  # FedProx (federated nodes)
    keep_optimizer: bool = False  # federated nodes keep their Adam state across rounds
    dp_clip: float | None = None
    dp_noise: float = 0.0
    learner_seed: int = 0
    jobs: int = 2
    methods: tuple[str, ...] = ("federated", "centralised", "local_only")


@dataclass
class Comparison:
    sites: list[str]
    heldout: list[str]
    delays: dict[str, dict[str, float]] = field(default_factory=dict)  # method -> site -> mean delay
    train_wall_s: dict[str, float] = field(default_factory=dict)
    bytes_per_round: float = 0.0
    bytes_total: int = 0
    raw_bins_bytes_per_round: int = 0
    rounds_bytes: list[dict[str, int]] = field(default_factory=list)
    update_norms: list[list[float]] = field(default_factory=list)  # per round, per site
    optimizer_restored: list[int] = field(
        default_factory=list
    )  # per round: nodes that reused their Adam state


def env_of(info: SiteInfo, index: int, budget: Budget, pad_phases: int) -> EnvConfig:
    return site_env(
        info.site.source,
        signals=info.signals,
        demand_scale=info.site.demand_scale,
        episode_s=budget.episode_s,
        seed=TRAIN_SEED_BASE + 100 * index,
        pad_phases=pad_phases,
    )


def _train_local(
    config: EnvConfig, spec: PolicySpec, params: Params, budget: Budget, seed: int, minibatch: int
) -> Params:
    with SiteLearner([config], spec, seed=seed, rollout_steps=budget.steps, minibatch=minibatch) as learner:
        new, _ = learner.train(params, budget.rounds * budget.steps)
    return new


def _train_centralised(
    configs: Sequence[EnvConfig], spec: PolicySpec, params: Params, budget: Budget, seed: int
) -> Params:
    with SiteLearner(configs, spec, seed=seed, rollout_steps=budget.steps) as learner:
        new, _ = learner.train(params, budget.rounds * budget.steps)
    return new


def evaluate_on(info: SiteInfo, params: Params, spec: PolicySpec, seed: int, end_s: float) -> float:
    """Mean delay (s/veh) of one headless run of ``info``'s site driven by ``params``."""
    config = RunConfig(
        scenario=info.site.source,
        end_s=end_s,
        signals=info.signals,
        sim=SimConfig(seed=seed, demand_scale=info.site.demand_scale),
    )
    return float(run_headless(config, controller=PortableController(params, spec)).kpis["mean_delay_s"])


def _pool(jobs: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn"))


def _evaluate_all(
    tasks: list[tuple[str, SiteInfo, Params]], spec: PolicySpec, settings: CompareSettings, end_s: float
) -> dict[str, dict[str, float]]:
    """tasks: (method, site, params); each over every evaluation seed; mean per (method, site)."""
    out: dict[str, dict[str, list[float]]] = {}
    with _pool(settings.jobs) as pool:
        futures = [
            (method, info.site.text, pool.submit(evaluate_on, info, params, spec, seed, end_s))
            for method, info, params in tasks
            for seed in settings.eval_seeds
        ]
        for method, site, future in futures:
            out.setdefault(method, {}).setdefault(site, []).append(future.result())
    return {m: {s: float(np.mean(v)) for s, v in sites.items()} for m, sites in out.items()}


def compare(
    train: Sequence[SiteInfo],
    heldout: Sequence[SiteInfo],
    settings: CompareSettings,
    on_stage: Callable[[str], None] | None = None,
) -> Comparison:
    from trafficai.federated.flower_app import FederatedJob, run_federated

    stage = on_stage or (lambda _: None)
    budget = settings.budget
    pad = max(4, *(i.max_stages for i in (*train, *heldout)))
    spec = PolicySpec(pad_phases=pad)
    configs = [env_of(info, k, budget, pad) for k, info in enumerate(train)]
    start = initial_params(spec, settings.learner_seed)
    result = Comparison([i.site.text for i in train], [i.site.text for i in heldout])
    models: dict[str, Params] = {}
    local: dict[str, Params] = {}
    if "federated" in settings.methods:
        stage(
            f"federated: {budget.rounds} rounds x {len(train)} sites ({settings.strategy}, "
            f"weighted by {settings.weighting}"
            + (f", FedProx mu {settings.prox_mu:g}" if settings.prox_mu else "")
            + (", optimiser state kept" if settings.keep_optimizer else "")
            + ")"
        )
        began = time.perf_counter()
        job = FederatedJob(
            tuple(configs),
            budget.rounds,
            budget.steps,
            start,
            spec,
            strategy=settings.strategy,
            weighting=settings.weighting,
            server_momentum=settings.server_momentum,
            local_minibatch=settings.local_minibatch,
            prox_mu=settings.prox_mu,
            keep_optimizer=settings.keep_optimizer,
            learner_seed=settings.learner_seed,
            dp_clip=settings.dp_clip,
            dp_noise=settings.dp_noise,
            num_cpus=settings.jobs,
        )
        outcome = run_federated(job)
        result.train_wall_s["federated"] = time.perf_counter() - began
        models["federated"] = outcome.params
        result.bytes_per_round, result.bytes_total = outcome.bytes_per_round, outcome.bytes_total
        result.rounds_bytes = [
            {"round": r.round, "down": r.bytes_down, "up": r.bytes_up} for r in outcome.rounds
        ]
        result.update_norms = [[round(n, 4) for n in r.update_norms] for r in outcome.rounds]
        result.optimizer_restored = [sum(r.restored) for r in outcome.rounds]
    if "centralised" in settings.methods:
        stage("centralised: one learner on every site's simulation at once")
        began = time.perf_counter()
        models["centralised"] = _train_centralised(configs, spec, start, budget, settings.learner_seed)
        result.train_wall_s["centralised"] = time.perf_counter() - began
    if "local_only" in settings.methods:
        stage("local-only: every site alone")
        began = time.perf_counter()
        with _pool(settings.jobs) as pool:
            futures = {
                info.site.text: pool.submit(
                    _train_local, c, spec, start, budget, settings.learner_seed + k, settings.local_minibatch
                )
                for k, (info, c) in enumerate(zip(train, configs, strict=True))
            }
            local = {site: f.result() for site, f in futures.items()}
        result.train_wall_s["local_only"] = time.perf_counter() - began
    result.raw_bins_bytes_per_round = sum(raw_bins_bytes(i, budget.episode_s) for i in train)
    stage("evaluating every model on every site")
    tasks: list[tuple[str, SiteInfo, Params]] = []
    for method, params in models.items():
        tasks += [(method, info, params) for info in (*train, *heldout)]
    for k, info in enumerate(train):
        if local:
            tasks.append(("local_only", info, local[info.site.text]))
            tasks += [(f"local_only:{k}", h, local[info.site.text]) for h in heldout]
    end_s = settings.eval_end_s or budget.episode_s
    delays = _evaluate_all(tasks, spec, settings, end_s)
    if local:
        for h in heldout:  # local-only on a held-out site: the mean over every site's own model
            values = [delays.pop(f"local_only:{k}")[h.site.text] for k in range(len(train))]
            delays["local_only"][h.site.text] = float(np.mean(values))
    result.delays = delays
    return result


def mean_over(delays: dict[str, float], sites: Sequence[str]) -> float | None:
    values = [delays[s] for s in sites if s in delays]
    return float(np.mean(values)) if values else None


def report(result: Comparison, settings: CompareSettings) -> dict[str, Any]:
    """The JSON report: per-method means over the training sites and on the held-out site(s)."""
    methods = list(result.delays)
    fed = mean_over(result.delays.get("federated", {}), result.sites)
    cen = mean_over(result.delays.get("centralised", {}), result.sites)
    loc = mean_over(result.delays.get("local_only", {}), result.sites)
    held = {m: mean_over(result.delays[m], result.heldout) for m in methods}
    out: dict[str, Any] = {
        "sites": result.sites,
        "heldout_sites": result.heldout,
        "rounds": settings.budget.rounds,
        "steps_per_round": settings.budget.steps,
        "env_steps_per_method": settings.budget.rounds * settings.budget.steps * len(result.sites),
        "strategy": settings.strategy,
        "weighting": settings.weighting,
        "server_momentum": settings.server_momentum if settings.strategy == "fedavgm" else None,
        "learner_seed": settings.learner_seed,
        "local_minibatch": settings.local_minibatch,
        "prox_mu": settings.prox_mu,
        "keep_optimizer": settings.keep_optimizer,
        "dp": {"clip": settings.dp_clip, "noise_multiplier": settings.dp_noise} if settings.dp_clip else None,
        "eval_seeds": list(settings.eval_seeds),
        "federated_delay_s": fed,
        "centralised_delay_s": cen,
        "local_only_delay_s": loc,
        "heldout_site_delay_s": held,
        "per_site_delay_s": result.delays,
        "train_wall_s": {k: round(v, 1) for k, v in result.train_wall_s.items()},
        "bytes_per_round": result.bytes_per_round,
        "bytes_total": result.bytes_total,
        "raw_bins_bytes_per_round": result.raw_bins_bytes_per_round,
        "raw_bins_bytes_total": result.raw_bins_bytes_per_round * settings.budget.rounds,
        "rounds_bytes": result.rounds_bytes,
        "update_norms": result.update_norms,
        "optimizer_restored_per_round": result.optimizer_restored,
        "update_norm_median": float(np.median(flat))
        if (flat := [n for r in result.update_norms for n in r])
        else None,
    }
    if fed is not None and cen:
        out["federated_vs_centralised_pct"] = round(100 * (fed - cen) / cen, 2)
    hf, hl = held.get("federated"), held.get("local_only")
    if hf is not None and hl:
        out["heldout_federated_vs_local_pct"] = round(100 * (hf - hl) / hl, 2)
    return out


def check_settings(settings: CompareSettings, n_sites: int) -> None:
    if n_sites < 2:
        raise ConfigError("federated training needs at least two training sites")
    if not 1 <= settings.budget.rounds <= 1000:
        raise ConfigError(f"--rounds {settings.budget.rounds}: must be 1..1000")
    if settings.strategy not in STRATEGIES:
        raise ConfigError(f"--strategy {settings.strategy!r}: choose from {', '.join(STRATEGIES)}")
    if settings.weighting not in WEIGHTINGS:
        raise ConfigError(f"--weighting {settings.weighting!r}: choose from {', '.join(WEIGHTINGS)}")
    if settings.dp_clip is not None and settings.weighting != "sites":
        raise ConfigError(
            "--dp-clip needs --weighting sites: its noise (z x C / sites) assumes every site weighs the same"
        )
    if not 8 <= settings.local_minibatch <= 4096:
        raise ConfigError(f"--local-minibatch {settings.local_minibatch}: must be 8..4096")
    if not 0 <= settings.prox_mu <= 100:
        raise ConfigError(f"--prox-mu {settings.prox_mu:g}: must be in [0, 100]")
    if not 0 <= settings.server_momentum < 1:
        raise ConfigError(f"--server-momentum {settings.server_momentum:g}: must be in [0, 1)")
