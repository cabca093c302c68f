"""Headless training with stable-baselines3: one shared policy over every controlled signal.

``train`` builds a :class:`~.vec_env.SharedPolicyVecEnv` (``n_envs`` SUMO processes), a PPO /
DQN / A2C model with the masked policies of :mod:`.policies`, and learns with callbacks for
progress reports, periodic checkpoints (metadata included, the last ``keep_checkpoints`` kept),
early stopping (no new best mean episode return for ``patience`` episodes) and an external stop
request. TensorBoard logs go to ``<out>/tb``. The final model is ``<out>/model.zip`` with its
resolved config in ``<out>/model.json``. ``resume`` continues from a checkpoint: the step count
carries on and the total stays ``config.timesteps``.

Crash handling: if an environment worker fails, training stops, the model is saved as
``<out>/checkpoints/crash_<steps>.zip`` beside the last periodic checkpoint, and a
:class:`~trafficai.errors.SimulationError` says which worker failed and where to resume from.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trafficai
from trafficai.control.rl.config import TrainConfig
from trafficai.control.rl.model import (
    ModelMeta,
    algorithm_class,
    load_algorithm,
    now_iso,
    read_meta,
    save_model,
)
from trafficai.control.rl.vec_env import SharedPolicyVecEnv, WorkerFactory
from trafficai.core.scenario import resolve_scenario
from trafficai.errors import ModelError, SimulationError

if TYPE_CHECKING:
    from trafficai.control.rl.callbacks import TrainingLog


@dataclass(frozen=True, slots=True)
class TrainProgress:
    timesteps: int
    total: int
    episodes: int
    mean_return: float | None  # mean episode return per signal, last 20 episodes
    fps: float  # timesteps per wall second since start
    elapsed_s: float
    kind: str = "progress"  # progress | episode | checkpoint | early_stop | stopped
    message: str = ""
    episode_return: float | None = None  # kind "episode": that episode's mean return per signal


@dataclass(frozen=True, slots=True)
class TrainResult:
    model_path: Path
    timesteps: int
    wall_s: float
    status: str  # completed | early_stop | stopped
    best_mean_return: float | None
    checkpoints: tuple[Path, ...] = ()
    returns: tuple[float, ...] = field(default_factory=tuple)  # mean return of each finished episode


ProgressFn = Callable[[TrainProgress], None]


def default_hyper(algo: str, num_envs: int) -> dict[str, Any]:
    """Algorithm settings that suit many short-horizon agents sharing one policy."""
    if algo == "ppo":
        n_steps = int(min(512, max(32, round(6144 / num_envs))))
        return {
            "n_steps": n_steps,
            "batch_size": 256,
            "n_epochs": 8,
            "gae_lambda": 0.95,
            "ent_coef": 0.01,
            "clip_range": 0.2,
        }
    if algo == "a2c":
        return {"n_steps": 8, "ent_coef": 0.01, "gae_lambda": 0.95}
    return {
        "buffer_size": 100_000,
        "learning_starts": 2_000,
        "batch_size": 128,
        "train_freq": 1,
        "gradient_steps": max(1, num_envs // 8),
        "target_update_interval": 2_000,
        "exploration_fraction": 0.3,
        "exploration_final_eps": 0.02,
    }


def _meta(config: TrainConfig, env: SharedPolicyVecEnv, timesteps: int, wall_s: float) -> ModelMeta:
    scenario = resolve_scenario(config.env.scenario)
    describe = env.workers[0].describe()
    return ModelMeta(
        algo=config.algo,
        scenario=scenario.name,
        scenario_source=str(scenario.source),
        env=config.env,
        obs_size=int(describe["obs_size"]),
        n_actions=int(describe["n_actions"]),
        max_lanes=int(describe["max_lanes"]),
        max_phases=int(describe["max_phases"]),
        signals=describe["signatures"],
        timesteps=timesteps,
        train=config.model_dump(mode="json", exclude={"env"}),
        wall_s=round(wall_s, 1),
        created=now_iso(),
        trafficai_version=trafficai.__version__,
    )


def _callbacks(
    config: TrainConfig,
    env: SharedPolicyVecEnv,
    out: Path,
    on_progress: ProgressFn | None,
    should_stop: Callable[[], bool] | None,
    started: float,
    start_steps: int,
) -> tuple[Any, TrainingLog]:
    from trafficai.control.rl.callbacks import TrainingLog, training_callbacks

    folder = out / "checkpoints"
    log = TrainingLog(checkpoints=sorted(folder.glob("step_*.zip"), key=_step_of))

    def report(timesteps: int, kind: str, message: str, value: float | None) -> None:
        if on_progress is None:
            return
        elapsed = time.perf_counter() - started
        fps = (timesteps - start_steps) / max(elapsed, 1e-9)
        progress = TrainProgress(
            timesteps, config.timesteps, log.episodes, log.mean_recent(), fps, elapsed, kind, message, value
        )
        on_progress(progress)

    def save(model: Any, path: Path, timesteps: int) -> None:
        save_model(model, path, _meta(config, env, timesteps, time.perf_counter() - started))

    callbacks = training_callbacks(
        log,
        n_signals=env.n_signals,
        min_delta=config.min_delta,
        checkpoint_folder=folder,
        checkpoint_every=config.checkpoint_every,
        keep_checkpoints=config.keep_checkpoints,
        start_steps=start_steps,
        save=save,
        should_stop=should_stop,
        patience=config.patience,
        report=report,
    )
    return callbacks, log


def _step_of(path: Path) -> int:
    try:
        return int(path.stem.split("_")[-1])
    except ValueError:
        return -1


def latest_checkpoint(out: Path) -> Path | None:
    found = sorted((out / "checkpoints").glob("*.zip"), key=lambda p: (_step_of(p), p.stat().st_mtime))
    return found[-1] if found else None


def train(
    config: TrainConfig,
    *,
    resume: Path | None = None,
    on_progress: ProgressFn | None = None,
    should_stop: Callable[[], bool] | None = None,
    worker_factory: WorkerFactory | None = None,
) -> TrainResult:
    """Train (or continue training) a shared policy; see the module docstring. ``worker_factory``
    makes the simulations elsewhere (``trafficai train --ray``: Ray actors); the learner, its
    checkpoints, TensorBoard logs and early stop stay here, the same either way."""
    import torch

    torch.set_num_threads(config.torch_threads)
    out = Path(config.out).expanduser()
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    resume_meta = read_meta(resume) if resume is not None else None
    if resume_meta is not None and resume_meta.algo != config.algo:
        raise ModelError(
            f"{resume}: a {resume_meta.algo.upper()} checkpoint cannot resume {config.algo.upper()} training"
        )
    if resume_meta is not None and resume_meta.env != config.env:
        raise ModelError(
            f"{resume}: the checkpoint was trained with a different environment config "
            f"(see {resume.with_suffix('.json') if resume else ''})"
        )
    started = time.perf_counter()
    env = SharedPolicyVecEnv(config.env, config.n_envs, worker_factory=worker_factory)
    model: Any = None
    try:
        tb = str(out / "tb") if config.tensorboard else None
        if resume is not None and resume_meta is not None:
            model = load_algorithm(resume, resume_meta, env=env)
            model.tensorboard_log = tb
            start_steps = int(model.num_timesteps)
        else:
            model = _new_model(config, env, tb)
            start_steps = 0
        if tb is None:
            from stable_baselines3.common.logger import Logger

            # without TensorBoard, SB3 would make an empty SB3-<date> folder in /tmp on every learn()
            model.set_logger(Logger(folder=None, output_formats=[]))
        remaining = config.timesteps - start_steps
        callback, log = _callbacks(config, env, out, on_progress, should_stop, started, start_steps)
        if remaining > 0:
            try:
                model.learn(
                    total_timesteps=remaining,
                    callback=callback,
                    reset_num_timesteps=resume is None,
                    tb_log_name=config.algo,
                    progress_bar=False,
                )
            except SimulationError as exc:
                crash = out / "checkpoints" / f"crash_{model.num_timesteps}.zip"
                save_model(
                    model, crash, _meta(config, env, int(model.num_timesteps), time.perf_counter() - started)
                )
                last = log.checkpoints[-1] if log.checkpoints else crash
                raise SimulationError(
                    f"training stopped at {model.num_timesteps:,} timesteps: {exc}; last checkpoint {last} "
                    f"(state at the crash: {crash}); continue with --resume"
                ) from exc
        wall = time.perf_counter() - started
        final = save_model(model, out / "model.zip", _meta(config, env, int(model.num_timesteps), wall))
        return TrainResult(
            final,
            int(model.num_timesteps),
            wall,
            log.status,
            log.best,
            tuple(log.checkpoints),
            tuple(log.returns),
        )
    finally:
        env.close()


def _new_model(config: TrainConfig, env: SharedPolicyVecEnv, tensorboard_log: str | None) -> Any:
    from trafficai.control.rl.policies import (
        SIGNAL_FEATURES,
        STAGE_FEATURES,
        MaskedActorCriticPolicy,
        MaskedDQNPolicy,
        PhaseScoringPolicy,
    )

    cls = algorithm_class(config.algo)
    hyper = default_hyper(config.algo, env.num_envs)
    hyper.update(config.hyper)
    arch = list(config.net_arch)
    if config.algo == "dqn":
        policy: Any = MaskedDQNPolicy
        policy_kwargs: dict[str, Any] = {"net_arch": arch}
    else:
        policy = MaskedActorCriticPolicy
        policy_kwargs = {"net_arch": {"pi": arch, "vf": arch}}
        if config.policy == "phase":
            slices: dict[str, tuple[int, int]] = env.workers[0].describe()["slices"]
            policy = PhaseScoringPolicy
            policy_kwargs["stage_blocks"] = [slices[f][0] for f in STAGE_FEATURES if f in slices]
            policy_kwargs["signal_features"] = [slices[f][0] for f in SIGNAL_FEATURES if f in slices]
    if config.algo == "ppo":
        rollout = int(hyper["n_steps"]) * env.num_envs
        hyper["batch_size"] = int(min(int(hyper["batch_size"]), rollout))
    with warnings.catch_warnings():
        # SB3 suggests a batch size dividing n_steps x n_envs; a last shorter mini-batch is harmless
        warnings.filterwarnings("ignore", message=".*mini-batch size.*", category=UserWarning)
        return cls(
            policy,
            env,
            learning_rate=config.learning_rate,
            gamma=config.gamma,
            seed=config.seed,
            device="cpu",
            verbose=0,
            tensorboard_log=tensorboard_log,
            policy_kwargs=policy_kwargs,
            **hyper,
        )
