"""A history day's demand as SUMO files: the scenario's routes re-timed to a daily profile.

The scenario's route files give the *pool* of routes (their edges, how often each occurs); a day
draws departures from a non-homogeneous Poisson process whose rate is the scenario's mean rate
times ``BASE_OF_MEAN`` times the plan's profile (``DayPlan.rate_factor``), each departure taking a
route from the pool in proportion to its frequency and its origin's weight that day. The day's
files are a routes file and a ``scenario.toml`` pointing at the scenario's own net and additional
files, so the day runs like any scenario (``run_headless``).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from trafficai.core.scenario import Scenario
from trafficai.errors import ScenarioError
from trafficai.runtime.day_plan import DayPlan

# the profile's weekday peak (~1.4 x base) then sits near the shipped scenarios' own 20-minute peak
BASE_OF_MEAN = 0.85
_SLICE_S = 60.0
_NORMAL_TYPE, _WEATHER_TYPE = "history_normal", "history_weather"


@dataclass(frozen=True, slots=True)
class RoutePool:
    routes: tuple[str, ...]  # space-separated edges
    counts: tuple[int, ...]
    mean_rate_veh_s: float  # the scenario's own demand

    @property
    def origins(self) -> list[str]:
        return sorted({r.split()[0] for r in self.routes})


def read_route_pool(scenario: Scenario) -> RoutePool:
    """Every vehicle's route in the scenario's route files (nested ``<route>`` or a route id)."""
    named: dict[str, str] = {}
    used: Counter[str] = Counter()
    for path in scenario.routes:
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as exc:
            raise ScenarioError(f"{path}: malformed XML: {exc}") from exc
        for node in root.iter("route"):
            if node.get("id") and node.get("edges"):
                named[node.get("id", "")] = node.get("edges", "")
        for vehicle in root.iter("vehicle"):
            nested = vehicle.find("route")
            edges = nested.get("edges") if nested is not None else named.get(vehicle.get("route", ""))
            if edges:
                used[" ".join(edges.split())] += 1
    if not used:
        raise ScenarioError(
            f"{scenario.source}: no vehicle with a route in its route files "
            "(history needs routed <vehicle> demand; flows and trips are not re-timed)"
        )
    routes = tuple(sorted(used))
    return RoutePool(routes, tuple(used[r] for r in routes), sum(used.values()) / scenario.duration_s)


def loop_lanes(scenario: Scenario) -> list[str]:
    """Lanes with an induction loop (E1) in the scenario's additional files, on edges with two or
    more such lanes: where closures go."""
    lanes: set[str] = set()
    for path in scenario.additional:
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as exc:
            raise ScenarioError(f"{path}: malformed XML: {exc}") from exc
        for tag in ("inductionLoop", "e1Detector"):
            lanes.update(node.get("lane", "") for node in root.iter(tag))
    lanes.discard("")
    per_edge = Counter(lane.rsplit("_", 1)[0] for lane in lanes)
    # closing the only lane of an edge would close the edge (and stop its departures): keep 2+ lanes
    return sorted(lane for lane in lanes if per_edge[lane.rsplit("_", 1)[0]] >= 2)


def draw_departures(plan: DayPlan, pool: RoutePool) -> tuple[np.ndarray, np.ndarray]:
    """Departure times (sorted, seconds from the day's start) and route indices into the pool."""
    rng = np.random.default_rng([plan.sumo_seed, 7])
    base = pool.mean_rate_veh_s * BASE_OF_MEAN
    starts = np.arange(0.0, plan.day_s, _SLICE_S)
    times: list[np.ndarray] = []
    for start in starts:
        length = min(_SLICE_S, plan.day_s - start)
        n = rng.poisson(base * plan.rate_factor(start + length / 2) * length)
        times.append(start + rng.uniform(0.0, length, size=n))
    departs = np.sort(np.concatenate(times)) if times else np.zeros(0)
    weight = np.array(
        [
            c * plan.origin_weights.get(r.split()[0], 1.0)
            for r, c in zip(pool.routes, pool.counts, strict=True)
        ]
    )
    chosen = rng.choice(len(pool.routes), size=departs.size, p=weight / weight.sum())
    return departs, chosen


def write_day_files(plan: DayPlan, scenario: Scenario, pool: RoutePool, folder: Path) -> Path:
    """The day's routes file and manifest in ``folder``; returns the manifest's path."""
    folder.mkdir(parents=True, exist_ok=True)
    departs, chosen = draw_departures(plan, pool)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<routes>"]
    lines.append(f'    <vType id="{_NORMAL_TYPE}" speedFactor="normc(1,0.1,0.2,2)"/>')
    weather = plan.weather
    if weather is not None:
        lines.append(
            f'    <vType id="{_WEATHER_TYPE}" speedFactor="normc({weather.speed_factor:.3f},0.1,0.2,2)" '
            f'sigma="{weather.sigma:.3f}"/>'
        )
    for i, edges in enumerate(pool.routes):
        lines.append(f'    <route id="r{i}" edges={quoteattr(edges)}/>')
    begin = scenario.begin_s
    for n, (t, route) in enumerate(zip(departs, chosen, strict=True)):
        in_weather = weather is not None and weather.start_s <= t < weather.end_s
        kind = _WEATHER_TYPE if in_weather else _NORMAL_TYPE
        lines.append(
            f'    <vehicle id="h{n}" type="{kind}" route="r{route}" depart="{begin + t:.2f}" '
            'departLane="best" departSpeed="max"/>'
        )
    lines.append("</routes>")
    routes = folder / "day.rou.xml"
    routes.write_text("\n".join(lines) + "\n", encoding="utf-8")
    manifest = folder / "scenario.toml"
    manifest.write_text(_manifest_text(plan, scenario, routes), encoding="utf-8")
    return manifest


def _manifest_text(plan: DayPlan, scenario: Scenario, routes: Path) -> str:
    def q(value: object) -> str:
        return json.dumps(str(value))  # a TOML basic string

    additional = ", ".join(q(p) for p in scenario.additional)
    return (
        "[scenario]\n"
        f"name = {q(scenario.name)}\n"
        f"description = {q(f'history day {plan.day} ({plan.day_type}) of {scenario.name}')}\n"
        f"net = {q(scenario.net)}\n"
        f"routes = [{q(routes)}]\n"
        f"additional = [{additional}]\n"
        f"begin = {scenario.begin_s}\n"
        f"duration = {plan.day_s}\n"
        f"step_length = {scenario.step_length_s}\n"
        f"default_controller = {q(scenario.default_controller)}\n"
    )
