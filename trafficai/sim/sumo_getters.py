"""SUMO's per-object getters for the values trafficai reads, and their conversion to its units.

The one table both the backend's snapshots and the partial readers read through, so that a value
(an E2 occupancy, say) cannot come out of the two in different units: SUMO reports lane occupancy
as a fraction but detector occupancy in percent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from trafficai.core.snapshot import LANE_COUNTS, LANE_EMISSIONS, LANE_FLOW

ValueReader = Callable[[Sequence[str]], NDArray[Any]]  # object ids -> one value each, in our units


@dataclass(frozen=True, slots=True)
class RawGetter:
    """SUMO's getter of one value (``domain.method(object_id)``) and its conversion."""

    domain: str  # TraCI domain: lane, inductionloop, lanearea, vehicle
    method: str
    dtype: type
    divisor: float = 1.0  # SUMO's value / divisor = trafficai's (percent -> fraction: 100)


LANE_VALUES = ("vehicles", "halting", "occupancy", "mean_speed", "waiting", "co2_mg_s")
E1_VALUES = ("occupancy", "speed")  # E1 counts are cumulative: the backend keeps their totals
E2_VALUES = ("vehicles", "halting", "occupancy", "speed")
LANE_PART = {  # the snapshot part each lane value belongs to
    "vehicles": LANE_COUNTS,
    "halting": LANE_COUNTS,
    "occupancy": LANE_FLOW,
    "mean_speed": LANE_FLOW,
    "waiting": LANE_EMISSIONS,
    "co2_mg_s": LANE_EMISSIONS,
}

GETTERS: MappingProxyType[tuple[str, str], RawGetter] = MappingProxyType(
    {
        ("lane", "vehicles"): RawGetter("lane", "getLastStepVehicleNumber", np.int32),
        ("lane", "halting"): RawGetter("lane", "getLastStepHaltingNumber", np.int32),
        ("lane", "occupancy"): RawGetter("lane", "getLastStepOccupancy", np.float32),  # a fraction
        ("lane", "mean_speed"): RawGetter("lane", "getLastStepMeanSpeed", np.float32),
        ("lane", "waiting"): RawGetter("lane", "getWaitingTime", np.float32),
        ("lane", "co2_mg_s"): RawGetter("lane", "getCO2Emission", np.float32),
        ("e1", "occupancy"): RawGetter("inductionloop", "getLastStepOccupancy", np.float32, 100.0),
        ("e1", "speed"): RawGetter("inductionloop", "getLastStepMeanSpeed", np.float32),
        ("e2", "vehicles"): RawGetter("lanearea", "getLastStepVehicleNumber", np.int32),
        ("e2", "halting"): RawGetter("lanearea", "getLastStepHaltingNumber", np.int32),
        ("e2", "occupancy"): RawGetter("lanearea", "getLastStepOccupancy", np.float32, 100.0),
        ("e2", "speed"): RawGetter("lanearea", "getLastStepMeanSpeed", np.float32),
        # one inspected vehicle (the GUI's inspector): delay so far = time lost against driving at
        # the allowed speed since departure; the position on its route
        ("vehicle", "time_loss"): RawGetter("vehicle", "getTimeLoss", np.float32),
        ("vehicle", "route_index"): RawGetter("vehicle", "getRouteIndex", np.int32),
    }
)


def raw_function(api: Any, domain: str, name: str) -> Callable[..., Any]:
    """The function itself: libsumo's raw SWIG function when there is one (its Python wrapper costs
    as much as the call), else the domain's method (TraCI)."""
    raw = getattr(getattr(api, "_libsumo", None), f"{domain}_{name}", None)
    fn: Callable[..., Any] = raw if raw is not None else getattr(getattr(api, domain), name)
    return fn


def getter(kind: str, value: str) -> RawGetter:
    try:
        return GETTERS[(kind, value)]
    except KeyError:
        known = ", ".join(f"{k}.{v}" for k, v in GETTERS)
        raise ValueError(f"no SUMO getter for {kind}.{value} (known: {known})") from None


def value_reader(api: Any, kind: str, value: str) -> ValueReader:
    """A reader of ``kind.value`` for a list of object ids over ``api`` (libsumo or a TraCI
    connection), converted to trafficai's units."""
    spec = getter(kind, value)
    fn = raw_function(api, spec.domain, spec.method)
    dtype, divisor = spec.dtype, spec.divisor

    def read(ids: Sequence[str]) -> NDArray[Any]:
        values: NDArray[Any] = np.fromiter(map(fn, ids), dtype, len(ids))
        return values / divisor if divisor != 1.0 else values

    return read
