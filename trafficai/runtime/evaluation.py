"""``trafficai evaluate``: a controller or trained model against every baseline, over several seeds.

Each (controller, seed) pair is one full headless run (:func:`~trafficai.runtime.session.run_headless`,
the same KPIs as ``trafficai run``); the result per controller is the mean and the sample standard
deviation over its episodes, never the best one. Several models (one learner trained with different
seeds) are evaluated on the same episodes and reported together: the mean and standard deviation over
every (model, episode) pair, and each model's own mean beside it. Runs can be spread over ``jobs``
processes (one SUMO each). With ``resco=<map>`` the scenario is a RESCO map from the optional
``sumo-rl`` package, run with RESCO's timing (decision every 10 s, 3 s yellow, no teleporting) for
every controller.
"""

from __future__ import annotations

import math
import multiprocessing as mp
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trafficai.config import IncidentSection, ObserveSection, RunConfig, SafetyConfig, SimConfig
from trafficai.control.registry import BASELINES, MODEL_PREFIX
from trafficai.core.kpis import RUN_KPI_KEYS
from trafficai.core.scenario import resolve_scenario
from trafficai.errors import ConfigError, ControllerError
from trafficai.runtime.session import run_headless

Progress = Callable[[int, int, str], None]  # (runs done, runs total, label of the last run)


@dataclass(frozen=True, slots=True)
class EvalPlan:
    scenario: str  # name or path given to run_headless
    scenario_name: str
    controllers: tuple[str, ...]  # evaluated first, then the baselines
    seeds: tuple[int, ...]
    end_s: float | None
    decision_interval_s: float
    safety: SafetyConfig
    time_to_teleport: float
    resco: str | None = None
    pooled: int = 1  # the first ``pooled`` controllers are training seeds of one learner
    explicit: tuple[str, ...] = ()  # asked for by name: a refusal of one of them is an error
    incidents: tuple[IncidentSection, ...] = ()  # scripted, the same in every episode
    # what every controller observes (oracle, loops, cameras)
    observe: ObserveSection = field(default_factory=ObserveSection)


POOLED = "pooled"


@dataclass
class ControllerStats:
    controller: str
    label: str
    episodes: int
    seeds: list[int]
    mean: dict[str, float]
    std: dict[str, float]
    per_episode: list[dict[str, float]] = field(default_factory=list)


def label_of(controller: str) -> str:
    if controller.startswith(MODEL_PREFIX):
        path = Path(controller[len(MODEL_PREFIX) :])
        # training runs all write model.zip: the run folder is what tells them apart
        return f"model:{path.parent.name}/{path.name}" if path.parent.name else f"model:{path.name}"
    return controller


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return mean, std


def plan_evaluation(
    scenario: str,
    controller: str | None,
    model: str | Sequence[str] | None,
    seeds: Sequence[int],
    end_s: float | None = None,
    baselines: bool = True,
    resco: str | None = None,
    incidents: Sequence[IncidentSection] = (),
) -> EvalPlan:
    """Resolve what to run. ``controller`` or ``model`` (or, with neither, only the baselines).

    ``model`` may be several files: the same learner trained with different seeds, pooled in the report.
    """
    models = [model] if isinstance(model, str) else list(model or [])
    if controller and models:
        raise ConfigError("give --controller or --model, not both")
    if not seeds:
        raise ConfigError("at least one seed (episode) is needed")
    safety = SafetyConfig()
    interval = 5.0
    teleport = 300.0
    evaluated: list[str] = []
    if models:
        from trafficai.control.rl.model import read_meta  # metadata only: no torch

        metas = [read_meta(Path(m)) for m in models]
        safety = metas[0].env.safety
        for other, meta in zip(models[1:], metas[1:], strict=True):
            if meta.env.safety != safety:
                raise ConfigError(
                    f"{other}: trained with other safety settings than {models[0]} "
                    "(models evaluated together must share them)"
                )
        for m in models:
            key = f"{MODEL_PREFIX}{Path(m).expanduser().resolve()}"
            if key in evaluated:
                raise ConfigError(f"{m}: the same model given twice")
            evaluated.append(key)
    elif controller:
        evaluated.append(controller)
    if resco is not None:
        from trafficai.control.rl.resco import resco_sumocfg, resco_timing

        path = resco_sumocfg(resco)
        timing = resco_timing(resco)
        scenario = str(path)
        interval = timing.decision_interval_s
        teleport = timing.time_to_teleport
        safety = safety.model_copy(update={"yellow_s": timing.yellow_s})
    resolved = resolve_scenario(scenario)
    name = resolved.name
    others = [b for b in BASELINES if b not in evaluated] if baselines else []
    return EvalPlan(
        scenario,
        name,
        tuple(evaluated + others),
        tuple(seeds),
        end_s,
        interval,
        safety,
        teleport,
        resco,
        pooled=max(1, len(models)),
        explicit=tuple(evaluated),
        incidents=(*resolved.incidents, *incidents),
    )


def run_one(plan: EvalPlan, controller: str, seed: int) -> dict[str, float]:
    config = RunConfig(
        scenario=plan.scenario,
        controller=controller,
        end_s=plan.end_s,
        decision_interval_s=plan.decision_interval_s,
        sim=SimConfig(seed=seed, time_to_teleport=plan.time_to_teleport),
        safety=plan.safety,
        incidents=plan.incidents,
        observe=plan.observe,
    )
    return run_headless(config).kpis


Task = tuple[str, int]  # (controller, seed): one episode
TaskResult = tuple[str, int, dict[str, float] | str]  # (controller, seed, KPIs or a refusal)
# runs every task of a plan, yielding results in completion order (serial, a process pool, Ray)
TaskRunner = Callable[[EvalPlan, Sequence[Task]], Iterator[TaskResult]]


def run_task(plan: EvalPlan, controller: str, seed: int) -> TaskResult:
    """One episode; a baseline the scenario refuses (signals switched off) gives the reason instead."""
    try:
        return controller, seed, run_one(plan, controller, seed)
    except ControllerError as exc:
        if controller in plan.explicit or controller not in BASELINES:
            raise
        return controller, seed, str(exc)


def run_serially(plan: EvalPlan, tasks: Sequence[Task]) -> Iterator[TaskResult]:
    """One episode after another in this process; a baseline already refused is not run again."""
    refused: set[str] = set()
    for controller, seed in tasks:
        if controller in refused:
            yield controller, seed, "refused"
            continue
        result = run_task(plan, controller, seed)
        if isinstance(result[2], str):
            refused.add(controller)
        yield result


def process_pool(jobs: int) -> TaskRunner:
    """Episodes spread over ``jobs`` spawned processes (one SUMO each)."""

    def run(plan: EvalPlan, tasks: Sequence[Task]) -> Iterator[TaskResult]:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as pool:
            futures = [pool.submit(run_task, plan, c, s) for c, s in tasks]
            for future in as_completed(futures):
                yield future.result()

    return run


def evaluate(
    plan: EvalPlan,
    jobs: int = 1,
    progress: Progress | None = None,
    refused: dict[str, str] | None = None,
    runner: TaskRunner | None = None,
) -> list[ControllerStats]:
    """Every (controller, seed) episode, run by ``runner`` (default: serially, or ``jobs`` processes).
    A baseline the scenario refuses (e.g. every signal switched off: only the net's own program
    runs) is left out, its reason put in ``refused``; a refusal of the controller asked for is an
    error. The report does not depend on the runner: results are keyed by (controller, seed)."""
    tasks = [(c, s) for c in plan.controllers for s in plan.seeds]
    results: dict[tuple[str, int], dict[str, float]] = {}
    skipped = refused if refused is not None else {}
    run_all = runner or (run_serially if jobs <= 1 else process_pool(jobs))
    for k, (controller, seed, outcome) in enumerate(run_all(plan, tasks)):
        _keep(results, skipped, controller, seed, outcome)
        if progress is not None:
            progress(k + 1, len(tasks), f"{label_of(controller)} seed {seed}")
    kept = [c for c in plan.controllers if c not in skipped]
    if not kept:
        raise ControllerError(
            f"{plan.scenario_name}: every controller was refused: {next(iter(skipped.values()))}"
        )
    stats = [_stats(c, label_of(c), [results[(c, s)] for s in plan.seeds], list(plan.seeds)) for c in kept]
    if plan.pooled > 1:
        group = plan.controllers[: plan.pooled]
        episodes = [results[(c, s)] for c in group for s in plan.seeds]
        label = f"{plan.pooled} models"
        stats.insert(0, _stats(POOLED, label, episodes, list(plan.seeds) * plan.pooled))
    return stats


def _keep(
    results: dict[tuple[str, int], dict[str, float]],
    skipped: dict[str, str],
    controller: str,
    seed: int,
    outcome: dict[str, float] | str,
) -> None:
    if isinstance(outcome, str):
        skipped.setdefault(controller, outcome)
    else:
        results[(controller, seed)] = outcome


def _stats(
    controller: str, label: str, episodes: list[dict[str, float]], seeds: list[int]
) -> ControllerStats:
    mean: dict[str, float] = {}
    std: dict[str, float] = {}
    for key in RUN_KPI_KEYS:
        mean[key], std[key] = _mean_std([e[key] for e in episodes])
    return ControllerStats(controller, label, len(episodes), seeds, mean, std, episodes)


def summary(
    plan: EvalPlan,
    stats: list[ControllerStats],
    chart: Path | None,
    refused: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON report: the evaluated controller first, every baseline beside it (and the baselines
    the scenario refused, with the reason)."""
    main = stats[0]
    baselines = [s for s in stats if s.controller in BASELINES and s.controller != main.controller]
    best = min(baselines, key=lambda s: s.mean["mean_delay_s"]) if baselines else None
    out: dict[str, Any] = {
        "scenario": plan.scenario_name,
        "resco": plan.resco,
        "controller": main.label,
        "episodes": main.episodes,
        "seeds": list(plan.seeds),
        "end_s": plan.end_s,
        "decision_interval_s": plan.decision_interval_s,
        "mean_delay_s": main.mean["mean_delay_s"],
        "std_delay_s": main.std["mean_delay_s"],
        "kpis": {k: {"mean": main.mean[k], "std": main.std[k]} for k in RUN_KPI_KEYS},
        "per_episode_delay_s": [e["mean_delay_s"] for e in main.per_episode],
        "models": [
            {
                "model": s.label,
                "mean_delay_s": s.mean["mean_delay_s"],
                "std_delay_s": s.std["mean_delay_s"],
                "per_episode_delay_s": [e["mean_delay_s"] for e in s.per_episode],
            }
            for s in stats[1 : plan.pooled + 1]
        ]
        if plan.pooled > 1
        else [],
        "baselines": {
            s.label: {
                "mean_delay_s": s.mean["mean_delay_s"],
                "std_delay_s": s.std["mean_delay_s"],
                "mean_waiting_s": s.mean["mean_waiting_s"],
                "throughput_veh": s.mean["throughput_veh"],
            }
            for s in baselines
        },
        "chart": str(chart) if chart else None,
        "skipped_baselines": dict(refused or {}),
        "incidents": [i.describe() for i in plan.incidents],
    }
    if best is not None:
        base = best.mean["mean_delay_s"]
        out["best_baseline"] = best.label
        out["best_baseline_delay_s"] = base
        out["vs_best_baseline_pct"] = 100.0 * (main.mean["mean_delay_s"] - base) / base if base else None
    return out


def write_chart(plan: EvalPlan, stats: list[ControllerStats], path: Path) -> Path:
    """Mean delay per controller with one-standard-deviation bars; the evaluated one highlighted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [s.label for s in stats]
    means = [s.mean["mean_delay_s"] for s in stats]
    stds = [s.std["mean_delay_s"] for s in stats]
    group = plan.pooled + 1 if plan.pooled > 1 else 1  # the pooled bar, then each model's
    colors = ["#d95f02" if i == 0 else "#fdb57f" if i < group else "#7570b3" for i in range(len(stats))]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(stats) + 2), 4.2), dpi=110)
    bars = ax.bar(labels, means, yerr=stds, capsize=4, color=colors)
    for bar, mean in zip(bars, means, strict=True):
        ax.annotate(
            f"{mean:.1f}",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
            xytext=(0, 3),
            textcoords="offset points",
        )
    where = f"RESCO {plan.resco}" if plan.resco else plan.scenario_name
    ax.set_title(f"{where}: mean delay per vehicle, {len(plan.seeds)} seed(s) each (bars: 1 std)")
    ax.set_ylabel("mean delay (s/veh)")
    ax.tick_params(axis="x", rotation=20)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
