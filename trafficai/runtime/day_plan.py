"""One simulated day of history: what varies from day to day, drawn from a seed.

A *day* is ``day_s`` simulated seconds whose demand follows a daily profile: weekdays have a
morning and an evening peak, weekends one broad midday hump. Every day draws its own overall
scale (within +-15 %), peak shifts and heights, spatial mix (origin weights), an optional
weather-like slowdown (vehicles departing in a window drive slower and less evenly: a lower
``speedFactor`` and a higher ``sigma``), random lane closures and a smooth random drift of demand
within the day (the short-term variation a forecaster can track and a daily profile cannot).
The plan is pure data; the same ``(seed, day)`` always gives the same plan whatever the order or
process it is drawn in.

Why a profile and not the scenario's own hour repeated: identical demand every day makes the
historical average an almost perfect forecaster, and the forecasting benchmark meaningless.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

WEEKDAY, WEEKEND = "weekday", "weekend"
MAX_SCALE_DEVIATION = 0.15
# profile heights relative to the scenario's base rate (its own demand without its peak)
_NIGHT_LEVEL = 0.35
_WEEKDAY_PEAKS = ((0.25, 0.055, 1.0), (0.70, 0.065, 0.9))  # (centre, width, height) as day fractions
_MIDDAY = (0.48, 0.12, 0.3)
_WEEKEND_HUMP = (0.55, 0.16, 0.75)
# demand also drifts within a day (events, school runs, the weather of the morning): a smooth
# random multiplier, log-Ornstein-Uhlenbeck with a 45-minute memory, 12 % deviation, 5-minute knots
FLUCTUATION_STEP_S = 300.0
_FLUCTUATION_MEMORY_S = 2700.0
_FLUCTUATION_SD = 0.12


def day_type(day: int) -> str:
    """Day 0 is a Monday: days 5 and 6 of every week are the weekend."""
    return WEEKEND if day % 7 >= 5 else WEEKDAY


@dataclass(frozen=True, slots=True)
class Weather:
    """Vehicles departing in ``[start_s, end_s)`` get ``speed_factor`` and ``sigma`` (SUMO vType)."""

    start_s: float
    end_s: float
    speed_factor: float
    sigma: float


@dataclass(frozen=True, slots=True)
class Closure:
    """A lane closed from ``at_s`` for ``duration_s`` (ground truth for incident days)."""

    lane: str
    at_s: float
    duration_s: float


@dataclass(frozen=True, slots=True)
class DayPlan:
    day: int
    day_type: str
    day_s: float
    sumo_seed: int
    scale: float  # overall demand of the day against the profile (1 +- 0.15)
    peak_shift_s: tuple[float, ...]  # per peak of the profile (weekend: one)
    peak_height: tuple[float, ...]
    origin_weights: dict[str, float] = field(default_factory=dict)
    weather: Weather | None = None
    closures: tuple[Closure, ...] = ()
    fluctuation: tuple[float, ...] = ()  # log demand multiplier every FLUCTUATION_STEP_S

    @property
    def has_incident(self) -> bool:
        return bool(self.closures)

    def as_record(self) -> dict[str, Any]:
        """What the run store keeps with the day's run (JSON-safe)."""
        record = asdict(self)
        record["origin_weights"] = dict(sorted(self.origin_weights.items()))
        record["has_incident"] = self.has_incident
        return record

    def peaks(self) -> tuple[tuple[float, float, float], ...]:
        """(centre, width, height) of each peak in day fractions, after this day's shifts."""
        base = _WEEKDAY_PEAKS if self.day_type == WEEKDAY else (_WEEKEND_HUMP,)
        return tuple(
            (centre + shift / self.day_s, width, height * factor)
            for (centre, width, height), shift, factor in zip(
                base, self.peak_shift_s, self.peak_height, strict=True
            )
        )

    def rate_factor(self, t_s: float) -> float:
        """The day's demand at ``t_s`` relative to the scenario's base rate."""
        x = t_s / self.day_s
        level = _NIGHT_LEVEL
        if self.day_type == WEEKDAY:
            centre, width, height = _MIDDAY
            level += height * math.exp(-0.5 * ((x - centre) / width) ** 2)
        for centre, width, height in self.peaks():
            level += height * math.exp(-0.5 * ((x - centre) / width) ** 2)
        return self.scale * level * math.exp(self.drift(t_s))

    def drift(self, t_s: float) -> float:
        """The log demand multiplier at ``t_s`` (linear between the knots; 0 without any)."""
        if not self.fluctuation:
            return 0.0
        knots = np.arange(len(self.fluctuation)) * FLUCTUATION_STEP_S
        return float(np.interp(t_s, knots, self.fluctuation))


def draw_day_plan(
    seed: int, day: int, day_s: float, origins: list[str], closable_lanes: list[str]
) -> DayPlan:
    """The plan of day ``day`` of the history seeded ``seed`` (independent of the other days)."""
    rng = np.random.default_rng([seed, day])
    kind = day_type(day)
    n_peaks = 2 if kind == WEEKDAY else 1
    scale = float(np.clip(rng.normal(1.0, 0.08), 1 - MAX_SCALE_DEVIATION, 1 + MAX_SCALE_DEVIATION))
    shifts = tuple(float(np.clip(rng.normal(0.0, 0.03), -0.06, 0.06) * day_s) for _ in range(n_peaks))
    heights = tuple(float(np.clip(rng.normal(1.0, 0.1), 0.75, 1.25)) for _ in range(n_peaks))
    weights = {o: float(np.exp(rng.normal(0.0, 0.12))) for o in sorted(origins)}
    weather = None
    if rng.random() < 0.3:
        start = float(rng.uniform(0.05, 0.7) * day_s)
        length = float(rng.uniform(0.15, 0.4) * day_s)
        weather = Weather(
            start, min(day_s, start + length), float(rng.uniform(0.75, 0.9)), float(rng.uniform(0.6, 0.8))
        )
    closures: list[Closure] = []
    n_closures = int(rng.choice([0, 1, 2], p=[0.55, 0.3, 0.15])) if closable_lanes else 0
    for _ in range(n_closures):
        lane = str(closable_lanes[int(rng.integers(len(closable_lanes)))])
        at = float(rng.uniform(0.1, 0.85) * day_s)
        duration = float(rng.uniform(600.0, 1800.0))
        closures.append(Closure(lane, round(at), round(min(duration, day_s - at))))
    closures.sort(key=lambda c: c.at_s)
    return DayPlan(
        day=day,
        day_type=kind,
        day_s=day_s,
        sumo_seed=(seed * 1000 + day) % 2**31,
        scale=scale,
        peak_shift_s=shifts,
        peak_height=heights,
        origin_weights=weights,
        weather=weather,
        closures=tuple(c for c in closures if c.duration_s > 0),
        fluctuation=_fluctuation(rng, day_s),
    )


def _fluctuation(rng: np.random.Generator, day_s: float) -> tuple[float, ...]:
    keep = math.exp(-FLUCTUATION_STEP_S / _FLUCTUATION_MEMORY_S)
    value = float(rng.normal(0.0, _FLUCTUATION_SD))
    out = [value]
    for _ in range(int(day_s // FLUCTUATION_STEP_S) + 1):
        value = keep * value + math.sqrt(1 - keep**2) * float(rng.normal(0.0, _FLUCTUATION_SD))
        out.append(round(value, 4))
    return tuple(out)
