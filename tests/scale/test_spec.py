"""Sweep specs: the template is valid, a mistake is one error naming its key and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import DATA
from trafficai.cli.launch import resolve_launch
from trafficai.errors import ConfigError
from trafficai.scale.spec import TEMPLATE, config_hash, expand, load_spec

TINY = str(DATA / "tiny" / "scenario.toml")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.toml"
    path.write_text(text)
    return path


def test_the_template_is_24_configurations_by_3_seeds(tmp_path: Path) -> None:
    runs = expand(load_spec(_write(tmp_path, TEMPLATE)), tmp_path / "spec.toml", resolve_launch)
    assert len(runs) == 72
    assert len({r.label for r in runs}) == 24
    assert len({r.config_hash for r in runs}) == 72


def test_an_unknown_key_is_named_with_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, f'[sweep]\nscenarios = ["{TINY}"]\nseedz = [1]\n')
    with pytest.raises(ConfigError, match=r"'sweep.seedz' \(line 3\): unknown key"):
        load_spec(path)


def test_a_bad_value_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, f'[sweep]\nscenarios = ["{TINY}"]\nseeds = []\n')
    with pytest.raises(ConfigError, match=r"'sweep.seeds' \(line 3\)"):
        load_spec(path)


def test_an_unknown_controller_or_scenario_is_refused_before_running(tmp_path: Path) -> None:
    path = _write(tmp_path, f'[sweep]\nscenarios = ["{TINY}"]\ncontrollers = ["fixed", "nope"]\n')
    with pytest.raises(ConfigError, match=r"'sweep.controllers' \(line 3\): unknown controller 'nope'"):
        expand(load_spec(path), path, resolve_launch)
    path = _write(tmp_path, '[sweep]\nscenarios = ["no-such-scenario"]\n')
    with pytest.raises(ConfigError, match=r"'sweep.scenarios' \(line 2\)"):
        expand(load_spec(path), path, resolve_launch)


def test_the_hash_follows_the_config(tmp_path: Path) -> None:
    a = resolve_launch(TINY, {"sim": {"seed": 1}})
    assert config_hash(a) == config_hash(resolve_launch(TINY, {"sim": {"seed": 1}}))
    assert config_hash(a) != config_hash(resolve_launch(TINY, {"sim": {"seed": 2}}))


def test_incident_sets_are_an_axis(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        f'[sweep]\nscenarios = ["{TINY}"]\nseeds = [1, 2]\nincidents = [[], ["close-lane:E_in_0@60+120"]]\n',
    )
    runs = expand(load_spec(path), path, resolve_launch)
    assert len(runs) == 4 and len({r.label for r in runs}) == 2
    assert [len(r.config.incidents) for r in runs] == [0, 0, 1, 1]
    assert runs[2].config.incidents[0].target == "E_in_0" and runs[2].label.endswith(
        "close-lane:E_in_0@60+120"
    )


def test_a_bad_incident_is_named_with_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, f'[sweep]\nscenarios = ["{TINY}"]\nincidents = [["melt-lane:E_in_0@60"]]\n')
    with pytest.raises(
        ConfigError, match=r"'sweep.incidents' \(line 3\): 'melt-lane:E_in_0@60': expected KIND"
    ):
        expand(load_spec(path), path, resolve_launch)


def test_observation_sources_are_an_axis(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        f'[sweep]\nscenarios = ["{TINY}"]\ncontrollers = ["max-pressure"]\nseeds = [1]\n'
        'observe = ["oracle", "loops", "cameras"]\n',
    )
    runs = expand(load_spec(path), path, resolve_launch)
    assert [r.config.observe.source for r in runs] == ["oracle", "loops", "cameras"]
    assert runs[0].label.endswith("demand 1") and runs[1].label.endswith("/ observe loops")
    assert len({r.config_hash for r in runs}) == 3


def test_an_unknown_observation_source_is_named_with_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, f'[sweep]\nscenarios = ["{TINY}"]\nobserve = ["oracle", "radar"]\n')
    with pytest.raises(ConfigError, match=r"'sweep.observe' \(line 3\)"):
        load_spec(path)


def test_a_sweep_run_observing_loops_is_run_on_what_the_loops_see(tmp_path: Path) -> None:
    from trafficai.scale.sweep import run_serially

    path = _write(
        tmp_path,
        f'[sweep]\nscenarios = ["{TINY}"]\ncontrollers = ["max-pressure"]\nseeds = [1]\nend_s = 300\n'
        'observe = ["oracle", "loops"]\n',
    )
    oracle, loops = run_serially(expand(load_spec(path), path, resolve_launch))
    assert oracle.ok and loops.ok
    assert oracle.kpis != loops.kpis  # the same demand and seed, other observations: other decisions
