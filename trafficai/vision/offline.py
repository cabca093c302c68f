"""ultralytics with nothing fetched: call :func:`prepare_offline` before importing it.

Its traps (see the issue): a PyPI update check, a font download on the first plot, weights fetched
for a model name that is not a local path, hub and analytics calls. ``YOLO_OFFLINE`` turns its
online probe off (so the update check and every download path are skipped); its settings live in a
trafficai folder with sync off, and the fonts it looks for are a local copy of matplotlib's DejaVu
Sans. OpenVINO's telemetry sits in its model converter (``openvino.tools.ovc``), which trafficai
never calls: the OpenVINO path reads the exported ONNX file with ``openvino.Core`` directly.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from trafficai.errors import ConfigError

FONT_NAMES = ("Arial.ttf", "Arial.Unicode.ttf")


def ultralytics_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "trafficai" / "ultralytics"


def _local_font() -> Path | None:
    try:
        import matplotlib

        font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    except ImportError:
        return None
    return font if font.is_file() else None


def prepare_offline() -> Path:
    """Point ultralytics at a local settings folder with fonts and no online calls; idempotent."""
    folder = Path(os.environ.setdefault("YOLO_CONFIG_DIR", str(ultralytics_dir())))
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ.setdefault("YOLO_VERBOSE", "False")
    font = _local_font()
    for name in FONT_NAMES:
        target = folder / name
        if font is not None and not target.exists():
            shutil.copyfile(font, target)
    return folder


def settings_off() -> None:
    """Turn ultralytics' analytics and hub sync off (after ``prepare_offline``, once imported)."""
    from ultralytics.utils import SETTINGS

    SETTINGS.update({"sync": False})  # type: ignore[no-untyped-call]


def local_weights(path: str | Path) -> Path:
    """A weights path that exists (ultralytics would try to download any other name)."""
    weights = Path(path).expanduser()
    if not weights.is_file():
        raise ConfigError(f"weights file not found: {weights} (trafficai never downloads weights)")
    return weights
