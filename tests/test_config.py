"""``trafficai.config.resolve_config``: one layering for every section (run, train, ...)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trafficai.config import RunConfig, resolve_config, resolve_run_config
from trafficai.errors import ConfigError


@pytest.fixture
def user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("TRAFFICAI_CONFIG", str(path))
    return path


def test_layers_from_manifest_to_flags(user_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user_config.write_text(
        '[run]\ncontroller = "greedy"\nbin_s = 30\n[run.sim]\nseed = 1\ndemand_scale = 2.0\n'
    )
    monkeypatch.setenv("TRAFFICAI_SIM__SEED", "7")
    manifest = {"controller": "actuated", "decision_interval_s": 10.0}
    config = resolve_run_config({"scenario": "x", "sim": {"demand_scale": 3.0, "seed": None}}, manifest)
    assert config.decision_interval_s == 10.0  # manifest (nothing above sets it)
    assert config.controller == "greedy" and config.bin_s == 30  # user config over manifest
    assert config.sim.seed == 7  # environment over user config; a flag left unset (None) hides nothing
    assert config.sim.demand_scale == 3.0  # flags over everything


def test_a_section_scoped_variable_wins_and_others_are_ignored(
    user_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAFFICAI_SIM__SEED", "7")
    monkeypatch.setenv("TRAFFICAI_RUN__SIM__SEED", "8")
    monkeypatch.setenv("TRAFFICAI_TRAIN__HYPER__N_STEPS", "16")  # another section's: no error for a run
    assert resolve_run_config({"scenario": "x"}).sim.seed == 8


def test_resumed_layer_sits_between_environment_and_flags(
    user_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAFFICAI_RUN__BIN_S", "20")
    resumed = {"scenario": "saved", "bin_s": 40.0, "end_s": 100.0}
    config = resolve_config(RunConfig, "run", {"end_s": 50.0}, resumed=resumed)
    assert (config.scenario, config.bin_s, config.end_s) == ("saved", 40.0, 50.0)


def test_invalid_values_name_the_field_and_the_section(user_config: Path) -> None:
    with pytest.raises(ConfigError, match=r"^run configuration: field 'end_s'"):
        resolve_run_config({"scenario": "x", "end_s": -5})
    with pytest.raises(ConfigError, match=r"^my section: field 'sim.seed'"):
        resolve_config(RunConfig, "run", {"scenario": "x", "sim": {"seed": "abc"}}, what="my section")
    user_config.write_text("run = 3\n")
    with pytest.raises(ConfigError, match=r"\[run\] must be a table"):
        resolve_run_config({"scenario": "x"})


def test_the_train_section_uses_the_same_resolver(user_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trafficai.cli.rl import resolve_train_config

    user_config.write_text('[train]\nalgo = "dqn"\n[train.env]\nscenario = "single"\n')
    monkeypatch.setenv("TRAFFICAI_TRAIN__HYPER__N_STEPS", "16")
    config = resolve_train_config({"timesteps": 64}, {"timesteps": 32, "algo": "a2c"})
    assert config.algo == "a2c" and config.timesteps == 64 and config.hyper["n_steps"] == 16
    assert config.env.scenario == "single"
    with pytest.raises(ConfigError, match=r"^training configuration: field 'timesteps'"):
        resolve_train_config({"timesteps": 0})


def test_an_unknown_table_in_the_user_config_is_one_line_naming_it(user_config: Path) -> None:
    user_config.write_text("[health]\nbias_camera = false\n")  # read by nobody: belongs in [run.health]
    with pytest.raises(ConfigError, match=r"unknown table \[health\] .*run settings go in \[run.health\]"):
        resolve_run_config({"scenario": "x"})
    user_config.write_text("[gui]\ntheme = 'dark'\n")
    with pytest.raises(ConfigError, match=r"config.toml: unknown table \[gui\] \(known: \[run\], \[train\]"):
        resolve_run_config({"scenario": "x"})
    user_config.write_text("[run.health]\nbias_camera = false\n[storage]\nretention_days = 30\n")
    config = resolve_run_config({"scenario": "x"})
    assert config.health is not None and config.health.bias_camera is False
