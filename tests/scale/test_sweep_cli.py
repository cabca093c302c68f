"""``trafficai sweep``: template, one-line errors, --json with the serial check, --resume."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cli.support import assert_one_line_error, cli_app, last_json, trafficai
from tests.conftest import DATA

TINY = str(DATA / "tiny" / "scenario.toml")


def test_the_template_prints_a_spec() -> None:
    result = CliRunner().invoke(cli_app(), ["sweep", "--template"])
    assert result.exit_code == 0
    assert 'controllers = ["fixed", "max-pressure", "greedy", "sotl"]' in result.stdout


def test_an_unknown_key_is_one_line(tmp_path: Path) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text(f'[sweep]\nscenarios = ["{TINY}"]\nworkers = 4\n')
    assert_one_line_error(trafficai("sweep", str(spec)), "'sweep.workers' (line 3): unknown key")


@pytest.mark.usefixtures("ray_cluster")
@pytest.mark.xdist_group("ray")
def test_json_sweep_is_identical_to_serial_and_resume_runs_nothing_twice(tmp_path: Path) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text(
        f'[sweep]\nscenarios = ["{TINY}"]\ncontrollers = ["fixed", "greedy"]\nseeds = [1, 2]\nend_s = 120\n'
    )
    png = tmp_path / "summary.png"
    first = CliRunner().invoke(cli_app(), ["sweep", str(spec), "--json", "--measure-serial", "--chart", str(png)])
    assert first.exit_code == 0, first.output
    summary = last_json(first)
    assert summary["ran"] == 4 and summary["identical_to_serial"] is True
    assert isinstance(summary["speedup"], float)
    assert len(summary["configurations"]) == 2  # type: ignore[arg-type]
    assert summary["chart"] == str(png) and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = last_json(CliRunner().invoke(cli_app(), ["sweep", str(spec), "--json", "--resume"]))
    assert again["ran"] == 0 and again["resumed"] == 4
    assert again["configurations"] == summary["configurations"]
