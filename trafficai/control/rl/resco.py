"""RESCO benchmark maps, read from the optional ``sumo-rl`` package (never shipped with trafficai).

RESCO's files carry non-commercial licences, so trafficai only locates them inside an installed
``sumo-rl`` (``sumo_rl/nets/RESCO/<map>/``) without importing it, and runs them with RESCO's timing:
a decision every 10 s with 3 s yellow (arterial4x4: 5 s / 2 s), no teleporting.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from trafficai.errors import ScenarioError

RESCO_MAPS = (
    "grid4x4",
    "arterial4x4",
    "ingolstadt1",
    "ingolstadt7",
    "ingolstadt21",
    "cologne1",
    "cologne3",
    "cologne8",
)


@dataclass(frozen=True, slots=True)
class RescoTiming:
    decision_interval_s: float = 10.0
    yellow_s: float = 3.0
    time_to_teleport: float = -1.0  # RESCO runs without teleporting


def resco_timing(name: str) -> RescoTiming:
    return RescoTiming(5.0, 2.0) if name == "arterial4x4" else RescoTiming()


def resco_root() -> Path:
    spec = importlib.util.find_spec("sumo_rl")
    if spec is None or spec.origin is None:
        raise ScenarioError(
            "RESCO maps come with the optional sumo-rl package, which is not installed (pip install sumo-rl)"
        )
    return Path(spec.origin).parent / "nets" / "RESCO"


def resco_sumocfg(name: str) -> Path:
    if name not in RESCO_MAPS:
        raise ScenarioError(f"unknown RESCO map '{name}' (known: {', '.join(RESCO_MAPS)})")
    path = resco_root() / name / f"{name}.sumocfg"
    if not path.is_file():
        raise ScenarioError(f"RESCO map '{name}' not found in the installed sumo-rl ({path})")
    return path
