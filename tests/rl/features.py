"""Observation features shared by the RL tests: every oracle (lane-state) feature at once."""

from __future__ import annotations

ORACLE_FEATURES = (
    "phase",
    "min_green",
    "time_in_green",
    "queue",
    "density",
    "occupancy",
    "speed",
    "phase_queue",
    "phase_density",
    "phase_pressure",
)
