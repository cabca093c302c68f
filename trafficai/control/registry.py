"""Controllers selectable by name."""

from __future__ import annotations

from collections.abc import Callable

from trafficai.control.baselines import (
    GreedyController,
    LoopPressureController,
    MaxPressureController,
    SotlController,
    WebsterController,
)
from trafficai.control.controller import Controller, ProgramController
from trafficai.errors import ControllerError
from trafficai.extras import require_extra

Factory = Callable[[], Controller]

_FACTORIES: dict[str, Factory] = {
    "fixed": lambda: ProgramController("fixed", "original"),
    "actuated": lambda: ProgramController("actuated", "actuated"),
    "webster": WebsterController,
    "max-pressure": MaxPressureController,
    "greedy": GreedyController,
    "sotl": SotlController,
}

BASELINES = tuple(_FACTORIES)  # the non-learning controllers
MODEL_PREFIX = "rl:"  # "rl:PATH" names a trained model file
# max-pressure on the loops' word (the spoofing evaluation's target), not one of the benchmarked baselines
_FACTORIES["max-pressure-loops"] = LoopPressureController


def _rl(model: str | None = None) -> Controller:
    """RL policies load torch and stable-baselines3: imported only when one is asked for, and
    refused in one line when the ``rl`` extra is not installed."""
    require_extra("rl", ("torch", "stable_baselines3"))
    from trafficai.control.rl.controller import RLController

    return RLController(model)


_FACTORIES["rl"] = _rl  # the zoo policy trained on the network's signals


def controller_names() -> tuple[str, ...]:
    return tuple(_FACTORIES)


def check_controller(name: str) -> None:
    """Raise :class:`ControllerError` unless ``name`` names a controller (nothing is built: a
    launch refuses a typo before any simulation starts)."""
    if name.startswith(MODEL_PREFIX) and len(name) > len(MODEL_PREFIX):
        return
    if name not in _FACTORIES:
        raise ControllerError(f"unknown controller '{name}' (known: {', '.join(_FACTORIES)})")


def make_controller(name: str) -> Controller:
    """A controller by name; ``rl`` is the scenario's zoo policy, ``rl:PATH`` a model file."""
    check_controller(name)
    if name.startswith(MODEL_PREFIX):
        return _rl(name[len(MODEL_PREFIX) :])
    return _FACTORIES[name]()
