"""``trafficai train`` and ``trafficai evaluate``: reinforcement learning (the ``rl`` extra).

torch, stable-baselines3, SUMO and matplotlib are imported inside the commands, after the extra is
checked, so ``import trafficai.cli`` stays light and a base install gets one line, not a traceback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from trafficai.cli.observe_options import (
    CameraDropOpt,
    CameraFallbackOpt,
    CameraFpsOpt,
    CameraLightOpt,
    CameraOfflineOpt,
    CameraRuntimeOpt,
    CameraWeightsOpt,
    ObserveOpt,
    observe_flags,
    observe_section,
)
from trafficai.cli.output import err, out, print_json, progress_bar
from trafficai.cli.parsing import INCIDENT_HELP, csv_values, int_values
from trafficai.config import drop_none, parse_incident, resolve_config
from trafficai.errors import ConfigError
from trafficai.extras import require_extra

if TYPE_CHECKING:
    from trafficai.control.rl.config import TrainConfig
    from trafficai.control.rl.training import TrainResult
    from trafficai.control.rl.vec_env import WorkerFactory
    from trafficai.runtime.evaluation import ControllerStats, EvalPlan, TaskRunner

TRAIN_CONFIG_FILE = "train_config.json"
TRAINING_MODULES = ("torch", "stable_baselines3", "gymnasium")
EVALUATION_MODULES = ("matplotlib",)  # the chart; models add TRAINING_MODULES


def resolve_train_config(cli: dict[str, Any], base: dict[str, Any] | None = None) -> TrainConfig:
    """User config ``[train]`` table < ``TRAFFICAI_TRAIN__*`` variables < ``base`` (a saved config
    being resumed) < CLI flags, validated into a TrainConfig."""
    from trafficai.control.rl.config import TrainConfig

    return resolve_config(TrainConfig, "train", cli, resumed=base, what="training configuration")


def _resco_layer(resco: str, delta: float | None) -> tuple[str, dict[str, Any], float]:
    """A RESCO map's .sumocfg, its timing as env config, and the decision interval to use."""
    from trafficai.control.rl.resco import resco_sumocfg, resco_timing

    timing = resco_timing(resco)
    layer = {"time_to_teleport": timing.time_to_teleport, "safety": {"yellow_s": timing.yellow_s}}
    return str(resco_sumocfg(resco)), layer, delta if delta is not None else timing.decision_interval_s


def _resumed(folder: Path, resume_from: Path | None) -> tuple[dict[str, Any] | None, Path]:
    """The saved config of a training being resumed, and the checkpoint to resume from."""
    from trafficai.control.rl.training import latest_checkpoint

    config_file = folder / TRAIN_CONFIG_FILE
    saved = json.loads(config_file.read_text(encoding="utf-8")) if config_file.is_file() else None
    checkpoint = resume_from or latest_checkpoint(folder)
    if checkpoint is None:
        raise ConfigError(f"--resume: no checkpoint in {folder / 'checkpoints'}")
    return saved, checkpoint


def _run_training(
    config: TrainConfig, checkpoint: Path | None, name: str, quiet: bool, workers: WorkerFactory | None
) -> TrainResult:
    from trafficai.control.rl.training import TrainProgress
    from trafficai.control.rl.training import train as run_training

    if quiet:
        return run_training(config, resume=checkpoint, worker_factory=workers)
    where = " (Ray actors)" if workers is not None else ""
    err.print(
        f"training {config.algo.upper()} on {name}: {config.timesteps:,} timesteps, "
        f"{config.n_envs} simulation(s){where}, out {config.out}"
    )
    with progress_bar("{task.completed:>10,.0f}/{task.total:,.0f}", transient=False, info=True) as progress:
        task = progress.add_task("train", total=config.timesteps, info="")

        def update(p: TrainProgress) -> None:
            ret = f"return {p.mean_return:.3f}" if p.mean_return is not None else "return -"
            progress.update(task, completed=p.timesteps, info=f"{p.fps:,.0f}/s · ep {p.episodes} · {ret}")
            if p.kind in ("checkpoint", "early_stop", "stopped"):
                progress.console.print(f"{p.kind}: {p.message}")

        return run_training(config, resume=checkpoint, on_progress=update, worker_factory=workers)


@contextmanager
def _training_cluster(config: TrainConfig, ray: bool, address: str | None) -> Iterator[WorkerFactory | None]:
    """With ``--ray``: every simulation a Ray actor, on a local cluster of ``--envs`` CPUs or on the
    cluster at ``address`` (the scenario files shipped in the job's runtime environment)."""
    if not ray:
        yield None
        return
    require_extra("scale")
    from trafficai.scale.cluster import connect, shutdown
    from trafficai.scale.ray_env import ray_workers
    from trafficai.scale.shipping import stage

    shipment = stage([config.env.scenario]) if address else None
    try:
        started = connect(address, max(config.n_envs, 2), shipment.runtime_env() if shipment else None)
        try:
            yield ray_workers(shipment)
        finally:
            if started:
                shutdown()
    finally:
        if shipment is not None:
            shipment.cleanup()


def _report_training(result: TrainResult, config: TrainConfig, folder: Path, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "model": str(result.model_path),
                "config": str(folder / TRAIN_CONFIG_FILE),
                "timesteps": result.timesteps,
                "wall_s": round(result.wall_s, 1),
                "status": result.status,
                "episodes": len(result.returns),
                "best_mean_return": result.best_mean_return,
                "checkpoints": [str(p) for p in result.checkpoints],
                "tensorboard": str(folder / "tb") if config.tensorboard else None,
            }
        )
        return
    out.print(
        f"[bold]{result.status}[/]: {result.timesteps:,} timesteps in {result.wall_s:,.0f} s, "
        f"{len(result.returns)} episodes; model {result.model_path}"
    )


def train(
    scenario: Annotated[
        str | None, typer.Argument(help="Scenario name, folder or .sumocfg (omit with --resco)")
    ] = None,
    algo: Annotated[str | None, typer.Option(help="ppo (default), dqn or a2c")] = None,
    timesteps: Annotated[
        int | None, typer.Option(help="Agent decisions to train for, all signals together")
    ] = None,
    envs: Annotated[int | None, typer.Option("--envs", help="Simulation processes in parallel")] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed of the learner and of the first SUMO episode")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default: runs/train/SCENARIO-ALGO)")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue from the latest checkpoint in --out")
    ] = False,
    resume_from: Annotated[Path | None, typer.Option(help="Continue from this checkpoint")] = None,
    episode: Annotated[float | None, typer.Option(help="Simulated seconds per training episode")] = None,
    delta: Annotated[float | None, typer.Option(help="Seconds between decisions (default 5)")] = None,
    reward: Annotated[
        str | None, typer.Option(help="diff-waiting-time, queue, pressure, delay or total-delay")
    ] = None,
    reward_scale: Annotated[float | None, typer.Option(help="Multiplier of the reward")] = None,
    features: Annotated[str | None, typer.Option(help="Comma-separated observation features")] = None,
    sensors: Annotated[
        bool, typer.Option("--sensors", help="Observe E1/E2 detectors instead of lane state")
    ] = False,
    signals: Annotated[
        str | None, typer.Option(help="Comma-separated signal ids to control (default: all)")
    ] = None,
    checkpoint_every: Annotated[int | None, typer.Option(help="Timesteps between checkpoints")] = None,
    patience: Annotated[
        int | None, typer.Option(help="Stop after this many episodes without a better return")
    ] = None,
    resco: Annotated[
        str | None, typer.Option(help="Train on a RESCO map (sumo-rl), with RESCO's timing")
    ] = None,
    policy: Annotated[
        str | None, typer.Option(help="mlp (default) or phase (one scorer shared by all stages)")
    ] = None,
    ray: Annotated[
        bool, typer.Option("--ray", help="Run the --envs simulations as Ray actors (the scale extra)")
    ] = False,
    address: Annotated[
        str | None, typer.Option(help="With --ray: an existing Ray cluster (HOST:PORT); default: a local one")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout")] = False,
) -> None:
    """Train a shared RL policy for every controlled signal of a scenario (stable-baselines3)."""
    if (scenario is None) == (resco is None):
        raise ConfigError("give a SCENARIO or --resco MAP (one of them)")
    if address and not ray:
        raise ConfigError("--address needs --ray")
    require_extra("rl", TRAINING_MODULES)
    from trafficai.core.scenario import resolve_scenario

    timing: dict[str, Any] = {}
    if resco is not None:
        scenario, timing, delta = _resco_layer(resco, delta)
    assert scenario is not None
    name = resolve_scenario(scenario).name
    folder = output or Path("runs") / "train" / f"{name}-{algo or 'ppo'}"
    saved, checkpoint = _resumed(folder, resume_from) if resume or resume_from else (None, None)
    observation = {"features": csv_values(features) or None, "source": "sensors" if sensors else None}
    env = {
        "scenario": scenario,
        "signals": csv_values(signals) or None,
        "delta_time_s": delta,
        "episode_s": episode,
        "seed": seed,
        "observation": observation,
        "reward": {"kind": reward, "scale": reward_scale},
        **timing,
    }
    flags = {"env": env, "algo": algo, "policy": policy, "timesteps": timesteps, "n_envs": envs}
    flags.update(seed=seed, out=str(folder), checkpoint_every=checkpoint_every, patience=patience)
    config = resolve_train_config(drop_none(flags), saved)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / TRAIN_CONFIG_FILE).write_text(config.model_dump_json(indent=2) + "\n", encoding="utf-8")
    with _training_cluster(config, ray, address) as workers:
        result = _run_training(config, checkpoint, name, as_json, workers)
    _report_training(result, config, folder, as_json)


def _evaluation_table(plan: EvalPlan, stats: list[ControllerStats], report: dict[str, Any]) -> Table:
    title = f"RESCO {plan.resco}" if plan.resco else plan.scenario_name
    table = Table(
        title=f"{title} · {len(plan.seeds)} episode(s), seeds {', '.join(map(str, plan.seeds))} · mean ± std"
    )
    for column in (
        "controller",
        "delay (s/veh)",
        "waiting (s/veh)",
        "travel time (s)",
        "throughput",
        "queue (veh)",
        "vs best baseline",
    ):
        table.add_column(column, justify="left" if column == "controller" else "right")
    base = report.get("best_baseline_delay_s")
    for s in stats:
        delta = f"{100 * (s.mean['mean_delay_s'] - base) / base:+.1f} %" if base else ""
        table.add_row(
            s.label,
            f"{s.mean['mean_delay_s']:.2f} ± {s.std['mean_delay_s']:.2f}",
            f"{s.mean['mean_waiting_s']:.2f} ± {s.std['mean_waiting_s']:.2f}",
            f"{s.mean['mean_travel_time_s']:.1f}",
            f"{s.mean['throughput_veh']:.0f}",
            f"{s.mean['mean_queue_veh']:.1f}",
            delta,
        )
    return table


def _note_refused(refused: dict[str, str]) -> None:
    """One line per reason for the baselines the scenario refused (on stderr: --json stays clean)."""
    by_reason: dict[str, list[str]] = {}
    for controller, reason in refused.items():
        by_reason.setdefault(_reason_of(reason), []).append(controller)
    for reason, controllers in by_reason.items():
        err.print(f"note: baseline(s) {', '.join(controllers)} skipped: {reason}", soft_wrap=True)


def _reason_of(message: str) -> str:
    """The refusal without its file prefix and controller name, so that baselines refused for the
    same reason share one line."""
    text = message.split(": ", 1)[1] if message.startswith("/") and ": " in message else message
    return re.sub(r"controller '[^']*'", "these controllers", text)


def _check_evaluated(controller: str | None, models: list[Path]) -> None:
    """Refuse an unknown controller, or a missing extra, before any simulation starts."""
    from trafficai.control.registry import MODEL_PREFIX, check_controller

    require_extra("rl", EVALUATION_MODULES)
    if controller:
        check_controller(controller)
    if models or (controller and (controller == "rl" or controller.startswith(MODEL_PREFIX))):
        require_extra("rl", TRAINING_MODULES)


@contextmanager
def _cluster(plan: EvalPlan, ray: bool, address: str | None, jobs: int) -> Iterator[TaskRunner | None]:
    """With ``--ray``: the Ray runner on a local cluster of ``max(jobs, 2)`` CPUs, or on the cluster
    at ``address`` with the scenario and model files shipped in the job's runtime environment."""
    if not ray:
        yield None
        return
    require_extra("scale")
    from trafficai.scale.cluster import connect, shutdown
    from trafficai.scale.evaluate import model_files, ray_runner
    from trafficai.scale.shipping import stage

    shipment = stage([plan.scenario], model_files(plan)) if address else None
    try:
        started = connect(address, max(jobs, 2), shipment.runtime_env() if shipment else None)
        try:
            yield ray_runner(shipment)
        finally:
            if started:
                shutdown()
    finally:
        if shipment is not None:
            shipment.cleanup()


def evaluate(
    scenario: Annotated[
        str | None, typer.Argument(help="Scenario name, folder or .sumocfg (omit with --resco)")
    ] = None,
    controller: Annotated[str | None, typer.Option(help="Controller to evaluate (e.g. rl, greedy)")] = None,
    model: Annotated[
        list[Path] | None,
        typer.Option(help="Trained model file to evaluate; repeat for training seeds, reported together"),
    ] = None,
    episodes: Annotated[int, typer.Option(help="Episodes (SUMO seeds 1..N) when --seeds is not given")] = 5,
    seeds: Annotated[str | None, typer.Option(help="Comma-separated SUMO seeds, one episode each")] = None,
    end: Annotated[
        float | None, typer.Option(help="Simulated seconds per episode (default: the scenario's)")
    ] = None,
    resco: Annotated[
        str | None, typer.Option(help="A RESCO map from the optional sumo-rl package, e.g. cologne8")
    ] = None,
    baselines: Annotated[
        bool, typer.Option("--baselines/--no-baselines", help="Compare with every baseline")
    ] = True,
    jobs: Annotated[int, typer.Option(help="Runs in parallel (one SUMO process each)")] = 1,
    ray: Annotated[
        bool, typer.Option("--ray", help="Run the episodes as Ray tasks (the scale extra); see --address")
    ] = False,
    address: Annotated[
        str | None,
        typer.Option(
            help="With --ray: an existing Ray cluster (HOST:PORT); default: a local one of --jobs CPUs"
        ),
    ] = None,
    incident: Annotated[list[str] | None, typer.Option("--incident", help=INCIDENT_HELP)] = None,
    output: Annotated[Path, typer.Option("--out", help="Folder for the chart and the JSON report")] = Path(
        "runs/evaluation"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout")] = False,
    observe: ObserveOpt = None,
    camera_runtime: CameraRuntimeOpt = None,
    camera_fps: CameraFpsOpt = None,
    camera_drop: CameraDropOpt = None,
    camera_offline: CameraOfflineOpt = None,
    camera_light: CameraLightOpt = None,
    camera_fallback: CameraFallbackOpt = None,
    camera_weights: CameraWeightsOpt = None,
) -> None:
    """Mean and spread of a controller's KPIs over several episodes, beside every baseline."""
    if scenario is None and resco is None:
        raise ConfigError("give a SCENARIO or --resco MAP")
    if scenario is not None and resco is not None:
        raise ConfigError("give a SCENARIO or --resco MAP, not both")
    if episodes < 1:
        raise ConfigError("--episodes must be at least 1")
    if address and not ray:
        raise ConfigError("--address needs --ray")
    _check_evaluated(controller, model or [])
    from trafficai.runtime.evaluation import evaluate as run_evaluation
    from trafficai.runtime.evaluation import plan_evaluation, summary, write_chart

    seed_list = int_values(seeds, "--seeds") or tuple(range(1, episodes + 1))
    scripted = tuple(parse_incident(spec) for spec in incident or [])
    models = [str(m) for m in model or []]
    plan = plan_evaluation(scenario or "", controller, models, seed_list, end, baselines, resco, scripted)
    flags = observe_flags(
        observe, camera_runtime, camera_fps, camera_drop, camera_offline, camera_light, camera_fallback,
        camera_weights,
    )  # fmt: skip
    plan = replace(plan, observe=observe_section(flags))
    refused: dict[str, str] = {}
    with _cluster(plan, ray, address, jobs) as runner:
        if as_json:
            stats = run_evaluation(plan, jobs, refused=refused, runner=runner)
        else:
            with progress_bar("{task.completed}/{task.total} runs") as progress:
                task = progress.add_task(
                    f"evaluate {plan.scenario_name}", total=len(plan.controllers) * len(plan.seeds)
                )
                stats = run_evaluation(
                    plan,
                    jobs,
                    lambda done, _n, label: progress.update(task, completed=done, description=label),
                    refused,
                    runner,
                )
    _note_refused(refused)
    tag = stats[0].label.replace(":", "-").replace("/", "-").replace(" ", "_")
    chart = write_chart(plan, stats, output / f"{plan.scenario_name}_{tag}.png")
    report = summary(plan, stats, chart, refused)
    (output / f"{plan.scenario_name}_{tag}.json").write_text(
        json.dumps(report, indent=2) + "\n", encoding="utf-8"
    )
    if as_json:
        print_json(report)
        return
    out.print(_evaluation_table(plan, stats, report))
    out.print(f"chart: {chart}")


def register(app: typer.Typer) -> None:
    """Add ``train`` and ``evaluate`` to ``app``."""
    app.command("train")(train)
    app.command("evaluate")(evaluate)
