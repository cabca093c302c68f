"""Can Qt's xcb platform plugin load on this machine? Asked before any QApplication exists.

Qt >= 6.5 needs system libraries (libxcb-cursor0, libxcb-icccm4, ...) that a fresh Debian or
Ubuntu machine lacks; without them creating the QApplication aborts the process with a core dump.
This module finds the plugin without importing Qt, asks ``ldd`` what it cannot resolve, and turns
the missing shared objects into one line naming the packages to install.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from trafficai.errors import DependencyError

log = logging.getLogger(__name__)

# shared object (without its version suffix) -> the Debian/Ubuntu package that installs it
DEBIAN_PACKAGES: dict[str, str] = {
    "libxcb-cursor.so": "libxcb-cursor0",
    "libxcb-icccm.so": "libxcb-icccm4",
    "libxcb-keysyms.so": "libxcb-keysyms1",
    "libxcb-image.so": "libxcb-image0",
    "libxcb-render-util.so": "libxcb-render-util0",
    "libxcb-render.so": "libxcb-render0",
    "libxcb-xkb.so": "libxcb-xkb1",
    "libxcb-shape.so": "libxcb-shape0",
    "libxcb-randr.so": "libxcb-randr0",
    "libxcb-xinerama.so": "libxcb-xinerama0",
    "libxcb-xfixes.so": "libxcb-xfixes0",
    "libxcb-xinput.so": "libxcb-xinput0",
    "libxcb-shm.so": "libxcb-shm0",
    "libxcb-sync.so": "libxcb-sync1",
    "libxcb-glx.so": "libxcb-glx0",
    "libxcb-util.so": "libxcb-util1",
    "libxcb.so": "libxcb1",
    "libxkbcommon-x11.so": "libxkbcommon-x11-0",
    "libxkbcommon.so": "libxkbcommon0",
    "libX11-xcb.so": "libx11-xcb1",
    "libX11.so": "libx11-6",
    "libSM.so": "libsm6",
    "libICE.so": "libice6",
    "libEGL.so": "libegl1",
    "libGL.so": "libgl1",
    "libGLX.so": "libglx0",
    "libOpenGL.so": "libopengl0",
    "libfontconfig.so": "libfontconfig1",
    "libfreetype.so": "libfreetype6",
    "libdbus-1.so": "libdbus-1-3",
    "libglib-2.0.so": "libglib2.0-0",
}

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)


def missing_from_ldd(ldd_output: str) -> list[str]:
    """The shared objects ``ldd`` reported as ``not found``, each once, in order."""
    return list(dict.fromkeys(_NOT_FOUND.findall(ldd_output)))


def debian_packages(sonames: Iterable[str]) -> tuple[list[str], list[str]]:
    """(packages that install ``sonames``, sonames no package is known for), each once."""
    packages: dict[str, None] = {}
    unknown: list[str] = []
    for soname in sonames:
        stem = soname.split(".so", 1)[0] + ".so"
        package = DEBIAN_PACKAGES.get(stem)
        if package is None:
            unknown.append(soname)
        else:
            packages[package] = None
    return list(packages), unknown


def xcb_plugin() -> Path | None:
    """PySide6's ``libqxcb.so``, found without importing Qt; ``None`` where it is not there."""
    try:
        spec = importlib.util.find_spec("PySide6")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        plugin = Path(folder) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if plugin.is_file():
            return plugin
    return None


def run_ldd(library: Path) -> str | None:
    """``ldd``'s report on ``library``; ``None`` where ldd is missing or fails to run."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return None
    try:
        done = subprocess.run([ldd, str(library)], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        log.debug("ldd %s failed: %s", library, exc)
        return None
    return done.stdout + done.stderr


def uses_xcb(env: Mapping[str, str]) -> bool:
    """Qt will pick the xcb plugin: an X display, and no other platform chosen (explicitly, or by
    a Wayland session, where Qt tries its wayland plugin first)."""
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.split(";")[0] == "xcb" and bool(env.get("DISPLAY"))
    wayland = env.get("XDG_SESSION_TYPE") == "wayland" and bool(env.get("WAYLAND_DISPLAY"))
    return bool(env.get("DISPLAY")) and not wayland


def missing_libraries_message(sonames: list[str]) -> str:
    packages, unknown = debian_packages(sonames)
    parts = [f"the Qt platform plugin xcb cannot load: missing system libraries {', '.join(sonames)}"]
    if packages:
        parts.append(f"install them with: sudo apt-get install {' '.join(packages)}")
    if unknown:
        parts.append(f"no package known for {', '.join(unknown)}")
    return "; ".join(parts)


def check_qt_platform(
    env: Mapping[str, str] | None = None,
    plugin: Path | None = None,
    ldd_output: str | None = None,
) -> None:
    """Raise :class:`DependencyError` with one line naming the missing libraries and the
    ``apt-get`` command when Qt's xcb plugin would fail to load. Silent where the check does not
    apply (another platform, not Linux, no plugin, no ldd): Qt then reports for itself."""
    env = os.environ if env is None else env
    if not uses_xcb(env) or not sys.platform.startswith("linux"):
        return
    if ldd_output is None:
        plugin = plugin or xcb_plugin()
        if plugin is None:
            return
        ldd_output = run_ldd(plugin)
        if ldd_output is None:
            return
    missing = missing_from_ldd(ldd_output)
    if missing:
        raise DependencyError(missing_libraries_message(missing))
