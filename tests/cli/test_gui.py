"""``trafficai gui``: every reason it cannot open is one line and a non-zero exit, before Qt loads."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cli.support import assert_one_line_error, cli_app, trafficai
from tests.conftest import ROOT
from trafficai.cli.gui import parse_size, parse_speed
from trafficai.errors import ConfigError


def without_display() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}


def python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def test_parse_speed() -> None:
    assert parse_speed("max") is None and parse_speed("10x") == 10.0
    with pytest.raises(ConfigError):
        parse_speed("fast-ish")


def test_parse_size() -> None:
    assert parse_size("1366x768") == (1366, 768) and parse_size(None) is None
    for bad in ("1366", "wide", "10x10", "1366x768x2"):
        with pytest.raises(ConfigError, match="--size"):
            parse_size(bad)


def test_the_gui_commands_are_registered_without_loading_qt() -> None:
    result = CliRunner().invoke(cli_app(), ["gui", "--help"])
    assert result.exit_code == 0 and "--screenshot" in result.output
    result = CliRunner().invoke(cli_app(), ["bench", "gui", "--help"])
    assert result.exit_code == 0 and "--json" in result.output
    probe = "import sys, trafficai.cli.gui; assert not {'PySide6', 'pyqtgraph'} & set(sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True).returncode == 0


def test_gui_without_a_display_is_one_clear_error() -> None:
    assert_one_line_error(trafficai("gui", "single", env=without_display()), "no display", "trafficai run")


@pytest.mark.parametrize("display", [False, True])
def test_an_unknown_controller_is_refused_at_launch(display: bool) -> None:
    env = {**without_display(), "DISPLAY": ":99"} if display else without_display()
    proc = trafficai("gui", "single", "--controller", "bogus", env=env)
    assert_one_line_error(proc, "unknown controller 'bogus'", "max-pressure")
    assert proc.returncode == 1


def test_an_unknown_controller_from_the_environment_is_refused_at_launch_too() -> None:
    env = {**without_display(), "DISPLAY": ":99", "TRAFFICAI_RUN__CONTROLLER": "bogus"}
    proc = trafficai("gui", "city", env=env, timeout=60)
    assert_one_line_error(proc, "unknown controller 'bogus'")
    assert proc.returncode == 1


def test_without_the_gui_extra_one_line_names_the_install() -> None:
    proc = python(
        """
        import sys
        sys.modules["PySide6"] = None  # as on a base install: not importable
        from trafficai.cli import main
        main(["gui", "single", "--screenshot", "x.png"])
        """,
        without_display(),
    )
    assert_one_line_error(proc, "this command needs the gui extra: pip install 'trafficai[gui]'")
    assert proc.returncode == 1


MISSING = ("libxcb-cursor.so.99", "libxcb-icccm.so.99")


def build_plugin_with_missing_libraries(folder: Path) -> Path:
    """A shared object linked against a libxcb-cursor and a libxcb-icccm that are then deleted:
    what Qt's xcb plugin looks like on a fresh machine. Their versions (99) exist nowhere, so the
    system's own copies cannot stand in."""
    for name in MISSING:
        stub = folder / "c.c"
        stub.write_text("int stub(void) { return 0; }\n")
        command = ["gcc", "-shared", "-fPIC", f"-Wl,-soname,{name}", "-o", str(folder / name), str(stub)]
        subprocess.run(command, check=True)
    plugin_source = folder / "plugin.c"
    plugin_source.write_text("int plugin(void) { return 1; }\n")
    plugin = folder / "libqxcb.so"
    libs = [str(folder / name) for name in MISSING]
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-Wl,--no-as-needed", "-o", str(plugin), str(plugin_source), *libs],
        check=True,
    )
    for lib in libs:
        Path(lib).unlink()
    return plugin


@pytest.mark.skipif(shutil.which("gcc") is None or shutil.which("ldd") is None, reason="needs gcc and ldd")
def test_missing_qt_system_libraries_are_reported_not_aborted_on(tmp_path: Path) -> None:
    plugin = build_plugin_with_missing_libraries(tmp_path)
    env = {**without_display(), "DISPLAY": ":99"}
    proc = python(
        f"""
        from pathlib import Path
        import trafficai.gui.qt_platform as qt_platform
        qt_platform.xcb_plugin = lambda: Path({str(plugin)!r})
        from trafficai.cli import main
        main(["gui", "single"])
        """,
        env,
    )
    assert proc.returncode == 1, proc.stderr  # not 134: Qt never got to abort
    assert_one_line_error(
        proc,
        *MISSING,
        "sudo apt-get install libxcb-cursor0 libxcb-icccm4",
    )
