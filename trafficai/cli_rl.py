"""``trafficai train``, ``trafficai evaluate`` and ``trafficai bench rl``.

Wired into the main app by ``register(app, bench_app)``. Heavy modules (torch, stable-baselines3,
SUMO, matplotlib) are imported inside the commands, so ``import trafficai.cli`` stays light.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from trafficai.errors import ConfigError

out = Console()
err = Console(stderr=True)

TRAIN_CONFIG_FILE = "train_config.json"


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip()) if value else ()


def _ints(value: str | None, what: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in _csv(value))
    except ValueError:
        raise ConfigError(f"{what}: expected comma-separated integers, got {value!r}") from None


def resolve_train_config(cli: dict[str, Any], base: dict[str, Any] | None = None) -> Any:
    """User config ``[train]`` table < ``TRAFFICAI_TRAIN__*`` variables < ``base`` (a saved config
    being resumed) < CLI flags, validated into a TrainConfig."""
    from trafficai.config import _env_overrides, _merge, load_toml, user_config_path
    from trafficai.control.rl.config import parse_train_config

    layers: dict[str, Any] = {}
    path = user_config_path()
    if path.exists():
        layers = _merge(layers, load_toml(path).get("train", {}))
    layers = _merge(layers, _env_overrides().get("train", {}))
    if base:
        layers = _merge(layers, base)
    layers = _merge(layers, cli)
    return parse_train_config(layers)


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            value = _drop_none(value)
            if value:
                clean[key] = value
        elif value is not None:
            clean[key] = value
    return clean


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
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout")] = False,
) -> None:
    """Train a shared RL policy for every controlled signal of a scenario (stable-baselines3)."""
    from trafficai.control.rl.training import TrainProgress, latest_checkpoint
    from trafficai.control.rl.training import train as run_training
    from trafficai.core.scenario import resolve_scenario

    timing: dict[str, Any] = {}
    if (scenario is None) == (resco is None):
        raise ConfigError("give a SCENARIO or --resco MAP (one of them)")
    if resco is not None:
        from trafficai.control.rl.resco import resco_sumocfg, resco_timing

        scenario = str(resco_sumocfg(resco))
        rt = resco_timing(resco)
        timing = {"time_to_teleport": rt.time_to_teleport, "safety": {"yellow_s": rt.yellow_s}}
        delta = delta if delta is not None else rt.decision_interval_s
    assert scenario is not None
    name = resolve_scenario(scenario).name
    folder = output or Path("runs") / "train" / f"{name}-{algo or 'ppo'}"
    saved: dict[str, Any] | None = None
    checkpoint = resume_from
    if resume or resume_from:
        config_file = folder / TRAIN_CONFIG_FILE
        if config_file.is_file():
            saved = json.loads(config_file.read_text(encoding="utf-8"))
        if checkpoint is None:
            checkpoint = latest_checkpoint(folder)
            if checkpoint is None:
                raise ConfigError(f"--resume: no checkpoint in {folder / 'checkpoints'}")
    observation: dict[str, Any] = {
        "features": _csv(features) or None,
        "source": "sensors" if sensors else None,
    }
    cli = _drop_none(
        {
            "env": {
                "scenario": scenario,
                "signals": _csv(signals) or None,
                "delta_time_s": delta,
                "episode_s": episode,
                "seed": seed,
                "observation": observation,
                "reward": {"kind": reward, "scale": reward_scale},
                **timing,
            },
            "algo": algo,
            "policy": policy,
            "timesteps": timesteps,
            "n_envs": envs,
            "seed": seed,
            "out": str(folder),
            "checkpoint_every": checkpoint_every,
            "patience": patience,
        }
    )
    config = resolve_train_config(cli, saved)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / TRAIN_CONFIG_FILE).write_text(config.model_dump_json(indent=2) + "\n", encoding="utf-8")
    if as_json:
        result = run_training(config, resume=checkpoint)
    else:
        err.print(
            f"training {config.algo.upper()} on {name}: {config.timesteps:,} timesteps, "
            f"{config.n_envs} simulation(s), out {folder}"
        )
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:>10,.0f}/{task.total:,.0f}"),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err,
        ) as progress:
            task = progress.add_task("train", total=config.timesteps, info="")

            def update(p: TrainProgress) -> None:
                ret = f"return {p.mean_return:.3f}" if p.mean_return is not None else "return -"
                progress.update(task, completed=p.timesteps, info=f"{p.fps:,.0f}/s · ep {p.episodes} · {ret}")
                if p.kind in ("checkpoint", "early_stop", "stopped"):
                    progress.console.print(f"{p.kind}: {p.message}")

            result = run_training(config, resume=checkpoint, on_progress=update)
    payload = {
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
    if as_json:
        sys.stdout.write(json.dumps(payload) + "\n")
        return
    out.print(
        f"[bold]{result.status}[/]: {result.timesteps:,} timesteps in {result.wall_s:,.0f} s, "
        f"{len(result.returns)} episodes; model {result.model_path}"
    )


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
    output: Annotated[Path, typer.Option("--out", help="Folder for the chart and the JSON report")] = Path(
        "runs/evaluation"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout")] = False,
) -> None:
    """Mean and spread of a controller's KPIs over several episodes, beside every baseline."""
    from trafficai.runtime.evaluation import evaluate as run_evaluation
    from trafficai.runtime.evaluation import plan_evaluation, summary, write_chart

    if scenario is None and resco is None:
        raise ConfigError("give a SCENARIO or --resco MAP")
    if scenario is not None and resco is not None:
        raise ConfigError("give a SCENARIO or --resco MAP, not both")
    if episodes < 1:
        raise ConfigError("--episodes must be at least 1")
    seed_list = _ints(seeds, "--seeds") or tuple(range(1, episodes + 1))
    plan = plan_evaluation(
        scenario or "", controller, [str(m) for m in model or []], seed_list, end, baselines, resco
    )
    total = len(plan.controllers) * len(plan.seeds)
    if as_json:
        stats = run_evaluation(plan, jobs)
    else:
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} runs"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
        ) as progress:
            task = progress.add_task(f"evaluate {plan.scenario_name}", total=total)
            stats = run_evaluation(
                plan, jobs, lambda done, _n, label: progress.update(task, completed=done, description=label)
            )
    tag = stats[0].label.replace(":", "-").replace("/", "-").replace(" ", "_")
    chart = write_chart(plan, stats, output / f"{plan.scenario_name}_{tag}.png")
    report = summary(plan, stats, chart)
    (output / f"{plan.scenario_name}_{tag}.json").write_text(
        json.dumps(report, indent=2) + "\n", encoding="utf-8"
    )
    if as_json:
        sys.stdout.write(json.dumps(report) + "\n")
        return
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
    out.print(table)
    out.print(f"chart: {chart}")


def bench_rl(
    scenario: Annotated[
        str, typer.Argument(help="Scenario name or .sumocfg (network + routes are used)")
    ] = "grid4x4",
    seconds: Annotated[
        float | None, typer.Option(help="Simulated seconds per episode (default: the scenario's)")
    ] = None,
    repeat: Annotated[int, typer.Option(help="Alternating repetitions; each variant keeps its best")] = 2,
    envs: Annotated[str, typer.Option(help="Simulation process counts for the scaling runs")] = "1,2",
    resco: Annotated[str | None, typer.Option(help="Run on a RESCO map from sumo-rl instead")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout")] = False,
) -> None:
    """Environment steps per second: trafficai vs sumo-rl on the same net, and --envs scaling."""
    from trafficai.runtime.bench_rl import bench_rl as measure

    counts = _ints(envs, "--envs") or (1,)
    if any(c < 1 for c in counts):
        raise ConfigError("--envs: process counts must be at least 1")
    say = None if as_json else (lambda msg: err.print(f"[dim]{msg}[/]"))
    result = measure(scenario, seconds, repeat, counts, resco, progress=say)
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    ours, theirs = result["trafficai"], result["sumo_rl"]
    table = Table(
        title=f"bench rl · {result['scenario']} · {result['agents']} agents · delta 5 s · "
        f"{result['seconds']:g} s episode · best of {result['repeat']}"
    )
    for column in ("environment", "steps", "wall (s)", "steps/s", "ratio"):
        table.add_column(column, justify="left" if column == "environment" else "right")
    table.add_row(
        "trafficai ParallelEnv",
        str(ours["steps"]),
        f"{ours['seconds']:.2f}",
        f"{ours['steps_per_s']:.0f}",
        "",
    )
    if theirs is not None:
        table.add_row(
            f"sumo-rl {result['sumo_rl_version']} SumoEnvironment",
            str(theirs["steps"]),
            f"{theirs['seconds']:.2f}",
            f"{theirs['steps_per_s']:.0f}",
            f"{result['ratio_vs_sumo_rl']:.2f}x",
        )
    out.print(table)
    if theirs is None:
        out.print("sumo-rl is not installed (pip install sumo-rl): only trafficai was measured")
    scaling = Table(title=f"--envs scaling ({os.cpu_count()} CPU cores)")
    for column in ("simulations", "steps/s", "agent steps/s", "speedup"):
        scaling.add_column(column, justify="right")
    for row in result["scaling"]:
        scaling.add_row(
            str(row["workers"]),
            f"{row['steps_per_s']:.0f}",
            f"{row['agent_steps_per_s']:,.0f}",
            f"{row['speedup']:.2f}x",
        )
    out.print(scaling)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``train`` and ``evaluate`` to ``app`` and ``rl`` to ``bench_app``."""
    app.command("train")(train)
    app.command("evaluate")(evaluate)
    bench_app.command("rl")(bench_rl)
