"""Smoke test of the desktop bundle (packaging/): build it, or reuse dist/trafficai when it is newer
than every source it is made from, then run the bundled executable the way an operator would.

Slow (a build takes minutes): run it explicitly with

    .venv/bin/python -m pytest tests/packaging -m slow -q
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "dist" / "trafficai"
EXECUTABLE = BUNDLE / "trafficai"
INTERNAL = BUNDLE / "_internal"
# What goes into the bundle: a newer file here means dist/ is stale.
SOURCES = ("trafficai", "scenarios", "assets", "packaging", "pyproject.toml")
# Never in the bundle (the RL stack and its GPU runtimes; see packaging/trafficai.spec).
EXCLUDED = (
    "torch",
    "torchvision",
    "ultralytics",
    "stable_baselines3",
    "tensorboard",
    "triton",
    "nvidia",
    "cuda",
)

pytestmark = [pytest.mark.slow, pytest.mark.gui, pytest.mark.sumo, pytest.mark.timeout(1800)]


def newest_source_mtime() -> float:
    newest = 0.0
    for name in SOURCES:
        path = ROOT / name
        files = [path] if path.is_file() else (p for p in path.rglob("*") if p.is_file())
        for file in files:
            if "__pycache__" in file.parts or file.suffix == ".pyc":
                continue
            newest = max(newest, file.stat().st_mtime)
    return newest


@pytest.fixture(scope="module")
def bundle() -> Path:
    """The bundled executable, built by packaging/build.sh unless an up-to-date one is in dist/."""
    if not (EXECUTABLE.is_file() and EXECUTABLE.stat().st_mtime > newest_source_mtime()):
        env = {**os.environ, "PYTHON": sys.executable}
        build = subprocess.run(
            ["bash", str(ROOT / "packaging" / "build.sh"), "--log-level", "WARN"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1500,
        )
        log = f"{build.stdout[-4000:]}\n{build.stderr[-4000:]}"
        assert build.returncode == 0, f"packaging/build.sh failed:\n{log}"
    assert os.access(EXECUTABLE, os.X_OK), f"no executable at {EXECUTABLE}"
    return EXECUTABLE


@pytest.fixture
def bundle_env() -> dict[str, str]:
    """The environment an operator's desktop gives the bundle: offscreen here, and no pointers into
    the source tree (the bundle must find its own scenarios and SUMO)."""
    env = dict(os.environ)
    for name in ("TRAFFICAI_SCENARIOS", "SUMO_HOME", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(name, None)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PATH"] = "/usr/bin:/bin"
    return env


def check_png(path: Path) -> tuple[int, int]:
    """Assert ``path`` is a PNG Qt can read, showing more than a blank window; returns its size."""
    assert path.is_file(), f"no screenshot at {path}"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    from PySide6.QtGui import QImage

    image = QImage(str(path))
    assert not image.isNull(), "Qt cannot read the PNG"
    colours = {
        image.pixel(x, y)
        for x in range(0, image.width(), max(1, image.width() // 64))
        for y in range(0, image.height(), max(1, image.height() // 64))
    }
    assert len(colours) > 20, f"the screenshot is nearly uniform ({len(colours)} colours sampled)"
    return image.width(), image.height()


def test_bundle_holds_scenarios_sumo_and_icon_but_not_the_rl_stack(bundle: Path) -> None:
    for scenario in ("single", "grid4x4", "corridor", "city"):
        assert (INTERNAL / "scenarios" / scenario / "scenario.toml").is_file()
    sumo = INTERNAL / "sumo" / "bin" / "sumo"
    assert os.access(sumo, os.X_OK)
    assert (INTERNAL / "sumo" / "data" / "xsd").is_dir()
    assert list((INTERNAL / "libsumo").glob("_libsumo*.so"))
    assert (INTERNAL / "assets" / "icons" / "trafficai.png").is_file()
    for name in ("trafficai.desktop", "icon.png", "icon.svg"):
        assert (INTERNAL / "desktop" / name).is_file()
    present = sorted(name for name in EXCLUDED if (INTERNAL / name).exists())
    assert not present, f"excluded packages were bundled: {present}"


def test_screenshot_from_the_bundle(bundle: Path, bundle_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "shot.png"
    started = time.monotonic()
    result = subprocess.run(
        [str(bundle), "gui", "single", "--screenshot", str(out), "--after", "3"],
        cwd=tmp_path,
        env=bundle_env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    width, height = check_png(out)
    assert width >= 800 and height >= 600
    assert time.monotonic() - started < 120


def test_headless_run_with_the_bundled_sumo_binary(
    bundle: Path, bundle_env: dict[str, str], tmp_path: Path
) -> None:
    """The TraCI backend starts the bundled bin/sumo: its libraries and SUMO_HOME resolve inside."""
    runs = {}
    for backend in ("libsumo", "traci"):
        result = subprocess.run(
            [str(bundle), "run", "single", "--end", "120", "--backend", backend, "--json"],
            cwd=tmp_path,
            env=bundle_env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, f"{backend}: exit {result.returncode}\n{result.stderr}"
        runs[backend] = json.loads(result.stdout)
    assert runs["libsumo"]["departed"] > 0
    assert runs["libsumo"]["kpis"] == runs["traci"]["kpis"]


def test_plain_launch_opens_the_control_center_on_the_default_scenario(
    bundle: Path, bundle_env: dict[str, str], tmp_path: Path
) -> None:
    """No arguments (a desktop launch): the window opens on grid4x4 and stays up until closed."""
    process = subprocess.Popen(
        [str(bundle)],
        cwd=tmp_path,
        env=bundle_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        time.sleep(8)
        assert process.poll() is None, f"exited with {process.returncode}: {process.communicate()}"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        _out, err = process.communicate(timeout=60)
    assert "Traceback" not in err, err
    from trafficai.storage import RunStore

    with RunStore() as store:  # the test's own store: TRAFFICAI_DATA_DIR, as the bundle was given
        recorded = store.list_runs(5)
    assert [r.scenario for r in recorded] == ["grid4x4"]
