"""Controllers selectable by name."""

from __future__ import annotations

from collections.abc import Callable

from trafficai.control.baselines import (
    GreedyController,
    MaxPressureController,
    SotlController,
    WebsterController,
)
from trafficai.control.controller import Controller, ProgramController
from trafficai.errors import ControllerError

Factory = Callable[[], Controller]

_FACTORIES: dict[str, Factory] = {
    "fixed": lambda: ProgramController("fixed", "original"),
    "actuated": lambda: ProgramController("actuated", "actuated"),
    "webster": WebsterController,
    "max-pressure": MaxPressureController,
    "greedy": GreedyController,
    "sotl": SotlController,
}

BASELINES = tuple(_FACTORIES)


def register(name: str, factory: Factory) -> None:
    """Add a controller (e.g. RL policies) under a name."""
    _FACTORIES[name] = factory


def controller_names() -> tuple[str, ...]:
    return tuple(_FACTORIES)


def make_controller(name: str) -> Controller:
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise ControllerError(f"unknown controller '{name}' (known: {', '.join(_FACTORIES)})") from None
    return factory()
