"""The check before the QApplication: missing system libraries of Qt's xcb plugin, as one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from trafficai.errors import DependencyError
from trafficai.gui.qt_platform import (
    check_qt_platform,
    debian_packages,
    missing_from_ldd,
    uses_xcb,
)

LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /opt/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f)
\tlibxcb-cursor.so.0 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibwhatever.so.3 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)
"""
X_DISPLAY = {"DISPLAY": ":0"}


def test_missing_shared_objects_are_read_from_ldd_once_each() -> None:
    assert missing_from_ldd(LDD_OUTPUT) == [
        "libxcb-cursor.so.0",
        "libxcb-icccm.so.4",
        "libxcb-keysyms.so.1",
        "libwhatever.so.3",
    ]
    assert missing_from_ldd("\tlibc.so.6 => /lib/libc.so.6 (0x1)\n") == []


def test_shared_objects_map_to_debian_packages() -> None:
    packages, unknown = debian_packages(
        ["libxcb-cursor.so.0", "libxkbcommon-x11.so.0", "libEGL.so.1", "libdbus-1.so.3", "libfoo.so.2"]
    )
    assert packages == ["libxcb-cursor0", "libxkbcommon-x11-0", "libegl1", "libdbus-1-3"]
    assert unknown == ["libfoo.so.2"]
    # libxcb-render-util is not libxcb-render, libxcb-util is not libxcb
    assert debian_packages(
        ["libxcb-render-util.so.0", "libxcb-render.so.0", "libxcb-util.so.1", "libxcb.so.1"]
    )[0] == ["libxcb-render-util0", "libxcb-render0", "libxcb-util1", "libxcb1"]


def test_missing_libraries_are_one_line_with_the_install_command() -> None:
    with pytest.raises(DependencyError) as info:
        check_qt_platform(X_DISPLAY, ldd_output=LDD_OUTPUT)
    message = str(info.value)
    assert "\n" not in message
    assert "libxcb-cursor.so.0, libxcb-icccm.so.4, libxcb-keysyms.so.1, libwhatever.so.3" in message
    assert "sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1" in message
    assert "no package known for libwhatever.so.3" in message


def test_nothing_missing_or_not_xcb_passes() -> None:
    check_qt_platform(X_DISPLAY, ldd_output="\tlibc.so.6 => /lib/libc.so.6 (0x1)\n")
    wayland_session = {"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}
    for env in (
        {},
        {"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"},
        {"WAYLAND_DISPLAY": "wayland-0"},
        wayland_session,
        {"QT_QPA_PLATFORM": "xcb"},  # no display: the no-display error applies, not this check
    ):
        assert not uses_xcb(env)
        check_qt_platform(env, ldd_output=LDD_OUTPUT)  # the check does not apply: Qt picks another plugin
    assert uses_xcb({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"})
    assert uses_xcb({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb;wayland"})
    assert uses_xcb({**wayland_session, "QT_QPA_PLATFORM": "xcb"})


def test_a_file_ldd_cannot_read_is_not_an_error(tmp_path: Path) -> None:
    fake = tmp_path / "libqxcb.so"
    fake.write_text("not an ELF file")
    check_qt_platform(X_DISPLAY, plugin=fake)


def test_the_installed_plugin_is_found_without_importing_qt() -> None:
    import subprocess
    import sys

    probe = (
        "import sys; from trafficai.gui.qt_platform import xcb_plugin; p = xcb_plugin(); "
        "assert p is None or p.name == 'libqxcb.so', p; assert 'PySide6' not in sys.modules"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
