"""The base install (no extras): the headless commands work and load no heavy library.

A subprocess stands in for a machine where PySide6, torch, ultralytics, stable-baselines3,
gymnasium, tensorboard (and the rest of the extras) are not installed: each is set to ``None`` in
``sys.modules``, which is how Python marks a module that cannot be imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT
from trafficai.extras import EXTRA_MODULES

HEAVY = ("PySide6", "torch", "ultralytics", "stable_baselines3", "gymnasium", "tensorboard", "pyqtgraph")


def python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
        timeout=240,
    )


@pytest.mark.parametrize(
    "argv", [None, ["run", "--help"], ["--help"]], ids=["import", "run --help", "--help"]
)
def test_import_and_help_load_no_heavy_library(argv: list[str] | None) -> None:
    code = f"""
        import sys
        import trafficai.cli
        argv = {argv!r}
        if argv is not None:
            try:
                trafficai.cli.main(argv)
            except SystemExit as exc:
                assert exc.code == 0, exc.code
        loaded = sorted(m for m in {HEAVY!r} if m in sys.modules)
        sys.stderr.write(f"loaded {{loaded}}\\n")
        assert not loaded, loaded
        """
    proc = python(code)
    assert proc.returncode == 0, proc.stderr


BLOCK_EXTRAS = f"""
    import sys
    for name in {sorted({m for mods in EXTRA_MODULES.values() for m in mods})!r}:
        sys.modules[name] = None  # not installed
    from trafficai.cli import main

    def trafficai(*argv):
        try:
            main(list(argv))
        except SystemExit as exc:
            return exc.code
        return 0
    """


@pytest.mark.sumo
def test_the_headless_commands_run_without_any_extra(tiny: str, tmp_path: object) -> None:
    code = (
        BLOCK_EXTRAS
        + f"""
    import contextlib, io, json
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        codes = {{"run": trafficai("run", {tiny!r}, "--end", "200", "--json")}}
    run_id = json.loads(out.getvalue())["run_id"]
    codes["scenarios"] = trafficai("scenarios")
    codes["runs"] = trafficai("runs")
    codes["compare"] = trafficai("compare", run_id)
    codes["export"] = trafficai("export", run_id, "--format", "csv", "--out", {str(tmp_path)!r})
    codes["bench sim"] = trafficai("bench", "sim", {tiny!r}, "--end", "100", "--json")
    print(json.dumps(codes))
    """
    )
    proc = python(textwrap.dedent(code))
    assert proc.returncode == 0, proc.stderr
    codes = json.loads(proc.stdout.strip().splitlines()[-1])
    assert codes == dict.fromkeys(("run", "scenarios", "runs", "compare", "export", "bench sim"), 0), (
        proc.stderr
    )


@pytest.mark.parametrize(
    ("argv", "extra"),
    [
        (["gui", "single", "--screenshot", "x.png"], "gui"),
        (["bench", "gui", "single"], "gui"),
        (["train", "single"], "rl"),
        (["evaluate", "single"], "rl"),
        (["bench", "rl", "single"], "rl"),
        (["vision", "dataset"], "vision"),
        (["vision", "eval"], "vision"),
        (["bench", "vision"], "vision"),
        (
            ["run", "single", "--controller", "rl", "--end", "60"],
            "rl",
        ),  # refused where the RL controller loads
    ],
    ids=lambda v: v if isinstance(v, str) else " ".join(v[:2]),
)
def test_a_command_that_needs_an_extra_says_which(argv: list[str], extra: str) -> None:
    proc = python(BLOCK_EXTRAS + f"\n    raise SystemExit(trafficai(*{argv!r}))\n")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert (
        proc.stderr.strip()
        == f"error: this command needs the {extra} extra: pip install 'trafficai[{extra}]'"
    )
