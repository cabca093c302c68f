"""Optional parts of the install: which extra brings which modules, and the one-line refusal.

The base install runs everything headless that needs no GUI, no torch and no YOLO; a command that
needs more checks here first, so a missing extra is one line naming the ``pip install`` to run
instead of an ``ImportError`` traceback from deep inside a library.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterable

from trafficai.errors import DependencyError

log = logging.getLogger(__name__)

# what each extra installs, by import name (pyproject's optional-dependencies hold the versions)
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "gui": ("PySide6", "pyqtgraph"),
    "rl": ("torch", "stable_baselines3", "gymnasium", "pettingzoo", "tensorboard", "matplotlib"),
    "vision": ("ultralytics", "torch"),
    "iot": ("paho",),
    "forecast": ("lightgbm",),
    "scale": ("ray",),
    "federated": ("flwr",),
}


def is_installed(module: str) -> bool:
    """The top-level ``module`` can be imported (looked up, not imported: nothing heavy loads)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent that fails to import, or a module set to None
        return False


def missing_modules(modules: Iterable[str]) -> list[str]:
    return [m for m in modules if not is_installed(m)]


def require_extra(extra: str, modules: Iterable[str] | None = None) -> None:
    """Raise :class:`DependencyError` naming ``pip install 'trafficai[extra]'`` when any of
    ``modules`` (default: everything the extra installs) is missing."""
    wanted = EXTRA_MODULES[extra] if modules is None else tuple(modules)
    missing = missing_modules(wanted)
    if missing:
        log.debug("extra %s: missing modules %s", extra, ", ".join(missing))
        raise DependencyError(f"this command needs the {extra} extra: pip install 'trafficai[{extra}]'")
