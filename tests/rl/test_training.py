"""Tiny-budget training: PPO / DQN / A2C save, load and act the same; resume; refusals; the controller."""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from trafficai.config import RunConfig, SimConfig
from trafficai.control.registry import make_controller
from trafficai.control.rl.config import EnvConfig, ObservationConfig, RewardConfig, TrainConfig
from trafficai.control.rl.controller import RLController
from trafficai.control.rl.model import load_algorithm, read_meta
from trafficai.control.rl.training import latest_checkpoint, train
from trafficai.control.rl.vec_env import SharedPolicyVecEnv
from trafficai.errors import ModelError
from trafficai.runtime.session import run_headless

pytestmark = pytest.mark.sumo

FEATURES = ObservationConfig(
    features=("phase", "min_green", "queue", "density", "phase_queue", "phase_pressure")
)
SMALL = {
    "ppo": {"n_steps": 16, "batch_size": 16, "n_epochs": 2},
    "a2c": {"n_steps": 4},
    "dqn": {"learning_starts": 8, "buffer_size": 500, "batch_size": 8, "target_update_interval": 16},
}


def tiny_config(
    scenario: str, out: Path, algo: str = "ppo", timesteps: int = 48, **env: object
) -> TrainConfig:
    return TrainConfig(
        env=EnvConfig(
            scenario=scenario,
            episode_s=100,
            observation=FEATURES,
            reward=RewardConfig(kind="queue", scale=0.1),
            **env,
        ),  # type: ignore[arg-type]
        algo=algo,  # type: ignore[arg-type]
        timesteps=timesteps,
        out=str(out),
        checkpoint_every=16,
        keep_checkpoints=2,
        net_arch=(16, 16),
        hyper=SMALL[algo],
        tensorboard=False,
    )


@pytest.mark.parametrize("algo", ["ppo", "dqn", "a2c"])
def test_train_save_load_same_deterministic_actions(
    algo: str, tiny: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    result = train(tiny_config(tiny, tmp_path / algo, algo))
    assert not list(scratch.glob("SB3-*"))  # no stray SB3-<date> log folder without TensorBoard
    assert result.model_path.is_file() and result.timesteps >= 48
    meta = read_meta(result.model_path)
    assert meta.algo == algo and meta.scenario == "tiny" and meta.obs_size == 2 + 1 + 4 + 4 + 2 + 2 + 2
    sidecar = json.loads(result.model_path.with_suffix(".json").read_text())
    assert sidecar["env"]["observation"]["features"] == list(FEATURES.features)  # resolved config beside it
    assert sidecar["train"]["timesteps"] == 48
    env = SharedPolicyVecEnv(meta.env)
    try:
        obs = env.reset()
        rng = np.random.default_rng(0)
        batch = [obs]
        for _ in range(10):
            obs, *_ = env.step(rng.integers(0, 2, env.num_envs))
            batch.append(obs)
    finally:
        env.close()
    observations = np.concatenate(batch)
    first = load_algorithm(result.model_path, meta)
    second = load_algorithm(result.model_path, meta)
    a1, _ = first.predict(observations, deterministic=True)
    a2, _ = second.predict(observations, deterministic=True)
    np.testing.assert_array_equal(a1, a2)
    assert set(np.unique(a1)) <= {0, 1}  # masked: never a stage the signal lacks


@pytest.mark.parametrize("policy", ["mlp", "phase"])
def test_masked_policy_never_picks_missing_stages(policy: str, tiny: str, tmp_path: Path) -> None:
    config = tiny_config(tiny, tmp_path / "pad", "ppo", pad_phases=5).model_copy(update={"policy": policy})
    result = train(config)
    model = load_algorithm(result.model_path, read_meta(result.model_path))
    assert type(model.policy).__name__ == (
        "PhaseScoringPolicy" if policy == "phase" else "MaskedActorCriticPolicy"
    )
    again = load_algorithm(result.model_path, read_meta(result.model_path))
    rng = np.random.default_rng(1)
    obs = rng.random((500, model.observation_space.shape[0])).astype(np.float32)
    obs[:, -5:] = [1, 1, 0, 0, 0]
    for deterministic in (True, False):
        actions, _ = model.predict(obs, deterministic=deterministic)
        assert set(np.unique(actions)) <= {0, 1}
    np.testing.assert_array_equal(
        model.predict(obs, deterministic=True)[0], again.predict(obs, deterministic=True)[0]
    )


def test_resume_continues_the_step_count(tiny: str, tmp_path: Path) -> None:
    out = tmp_path / "resume"
    first = train(tiny_config(tiny, out, timesteps=32))
    checkpoint = latest_checkpoint(out)
    assert checkpoint is not None and read_meta(checkpoint).timesteps == 32
    result = train(tiny_config(tiny, out, timesteps=80), resume=checkpoint)
    assert first.timesteps == 32
    assert result.timesteps >= 80
    assert read_meta(result.model_path).timesteps == result.timesteps
    steps = sorted(int(p.stem.split("_")[1]) for p in (out / "checkpoints").glob("step_*.zip"))
    assert steps[-1] >= 64 and len(steps) == 2  # numbering continued; only the last two kept


def test_early_stop_and_stop_request(tiny: str, tmp_path: Path) -> None:
    config = tiny_config(tiny, tmp_path / "early", timesteps=5_000).model_copy(update={"patience": 1})
    result = train(config)
    assert result.status == "early_stop" and result.timesteps < 5_000
    asked = []

    def stop_after_four_steps() -> bool:
        asked.append(1)
        return len(asked) > 4

    stopped = train(tiny_config(tiny, tmp_path / "stop", timesteps=5_000), should_stop=stop_after_four_steps)
    assert stopped.status == "stopped" and stopped.timesteps < 5_000


def test_controller_runs_headless_and_registry_names(tiny: str, tmp_path: Path) -> None:
    result = train(tiny_config(tiny, tmp_path / "ctl"))
    run = run_headless(
        RunConfig(scenario=tiny, controller=f"rl:{result.model_path}", end_s=300, sim=SimConfig(seed=3))
    )
    assert run.kpis["departed"] > 0 and run.kpis["mean_delay_s"] > 0
    controller = make_controller(f"rl:{result.model_path}")
    assert isinstance(controller, RLController) and controller.decision_interval_s == 5.0


def test_zoo_policy_is_found_by_network_signature(
    tiny: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = train(tiny_config(tiny, tmp_path / "zoo-train"))
    zoo = tmp_path / "models" / "tiny"
    zoo.mkdir(parents=True)
    (zoo / "policy.zip").write_bytes(result.model_path.read_bytes())
    monkeypatch.setenv("TRAFFICAI_MODELS", str(tmp_path / "models"))
    run = run_headless(RunConfig(scenario=tiny, controller="rl", end_s=200))
    assert run.kpis["departed"] > 0
    # a .sumocfg over the same network (same signals and lanes) finds the same zoo policy
    run = run_headless(
        RunConfig(scenario=str(Path(tiny).parent / "tiny.sumocfg"), controller="rl", end_s=200)
    )
    assert run.kpis["departed"] > 0


def test_incompatible_model_is_refused(
    tiny: str, grid2x2: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = train(tiny_config(tiny, tmp_path / "tiny"))
    with pytest.raises(
        ModelError,
        match=r"trained on scenario 'tiny'.*4 of the 4 signal\(s\) to control are not in the model",
    ):
        run_headless(RunConfig(scenario=grid2x2, controller=f"rl:{result.model_path}", end_s=60))
    monkeypatch.setenv("TRAFFICAI_MODELS", str(tmp_path / "empty"))
    with pytest.raises(ModelError, match="no zoo policy"):
        run_headless(RunConfig(scenario=grid2x2, controller="rl", end_s=60))


def test_bad_model_files_are_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nope.zip"
    with pytest.raises(ModelError, match="not found"):
        RLController(missing)
    (tmp_path / "text.zip").write_text("hello")
    with pytest.raises(ModelError, match="not a zip"):
        read_meta(tmp_path / "text.zip")
    with zipfile.ZipFile(tmp_path / "plain.zip", "w") as z:
        z.writestr("data", "{}")
    with pytest.raises(ModelError, match="not a trafficai model"):
        read_meta(tmp_path / "plain.zip")


def test_resume_with_another_environment_is_refused(tiny: str, tmp_path: Path) -> None:
    result = train(tiny_config(tiny, tmp_path / "a", timesteps=16))
    other = tiny_config(tiny, tmp_path / "a", timesteps=32).model_copy(
        update={"env": EnvConfig(scenario=tiny)}
    )
    with pytest.raises(ModelError, match="different environment"):
        train(other, resume=result.model_path)


def test_crashed_worker_stops_training_and_keeps_the_checkpoint(tiny: str, tmp_path: Path) -> None:
    import multiprocessing as mp
    import os
    import signal

    from trafficai.control.rl.training import TrainProgress
    from trafficai.errors import SimulationError

    out = tmp_path / "crash"
    config = tiny_config(tiny, out, timesteps=2_000).model_copy(update={"n_envs": 2})
    killed: list[int] = []

    def on_progress(p: TrainProgress) -> None:
        if p.kind == "checkpoint" and not killed:
            workers = [c for c in mp.active_children() if c.name.startswith("trafficai-env-")]
            assert len(workers) == 1 and workers[-1].pid is not None  # simulation 0 is in-process
            os.kill(workers[-1].pid, signal.SIGKILL)  # a worker dies the hard way
            killed.append(workers[-1].pid)

    with pytest.raises(
        SimulationError, match=r"training stopped at .*environment worker .*last checkpoint .*step_"
    ):
        train(config, on_progress=on_progress)
    assert killed
    assert list((out / "checkpoints").glob("step_*.zip"))  # the last periodic checkpoint is kept
    crash = list((out / "checkpoints").glob("crash_*.zip"))
    assert crash and read_meta(crash[0]).timesteps > 0
