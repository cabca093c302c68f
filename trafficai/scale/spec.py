"""A sweep spec: scenarios x controllers x demand scales x incident sets x observation sources x
seeds, validated before anything runs.

The grid expands to one :class:`SweepRun` per (configuration, seed); each carries the resolved
:class:`RunConfig` and a hash of it, the key ``--resume`` matches finished runs by.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from trafficai.config import Frozen, RunConfig, load_toml, parse_incident
from trafficai.errors import ConfigError, TrafficAIError

TEMPLATE = """\
# trafficai sweep spec: every combination of the lists below is one configuration, and every
# configuration runs once per seed (same seeds, same results as running them one by one).
# This example: 2 scenarios x 4 controllers x 3 demand scales = 24 configurations x 3 seeds.

[sweep]
# shipped scenario names, scenario folders or .sumocfg paths
scenarios = ["single", "corridor"]
# any of `trafficai scenarios`' controllers (fixed, actuated, webster, max-pressure, greedy, sotl)
controllers = ["fixed", "max-pressure", "greedy", "sotl"]
# demand multipliers (1.0: the scenario's own demand)
demand_scales = [0.8, 1.0, 1.2]
# scripted incident sets, each one axis value (as `trafficai run --incident`; [] is none), e.g.
# incidents = [[], ["close-lane:E_in_0@120+300"]]
# what the controllers observe, each one axis value (as `trafficai run --observe`), e.g.
# observe = ["oracle", "loops", "cameras"]
# SUMO random seeds: each configuration runs once per seed
seeds = [1, 2, 3]
# simulated seconds per run from the scenario's begin (omit: the whole scenario)
end_s = 600
# CPUs of the local Ray cluster started for the sweep (ignored with --address)
num_cpus = 2
"""


Resolver = Callable[[str, dict[str, Any]], RunConfig]
ObservationSource = Literal["oracle", "loops", "cameras"]


class SweepSection(Frozen):
    scenarios: tuple[str, ...] = Field(min_length=1)
    controllers: tuple[str, ...] = ("",)  # "": each scenario's default controller
    demand_scales: tuple[float, ...] = (1.0,)
    seeds: tuple[int, ...] = (42,)
    # scripted incident sets, each a list of KIND:TARGET@T[+DURATION] (as `run --incident`); []: none
    incidents: tuple[tuple[str, ...], ...] = ((),)
    # what controllers observe (as `run --observe`): the simulator, the loops or the cameras
    observe: tuple[ObservationSource, ...] = ("oracle",)
    end_s: float | None = Field(None, gt=0)
    num_cpus: int = Field(2, ge=1, le=1024)

    @field_validator("controllers", "demand_scales", "seeds", "incidents", "observe")
    @classmethod
    def _not_empty(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        if not value:
            raise ValueError("must list at least one value")
        return value


class SweepSpec(Frozen):
    sweep: SweepSection


@dataclass(frozen=True, slots=True)
class SweepRun:
    """One run of a sweep: its configuration label, the resolved config and that config's hash."""

    label: str
    config: RunConfig
    config_hash: str


def config_hash(config: RunConfig) -> str:
    """A stable hash of the resolved config: the same run in any sweep gets the same key."""
    text = json.dumps(config.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _line_of(text: str, key: str) -> str:
    """`` (line N)`` where ``key`` first appears in the spec's text, for the one-line error."""
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"\s*{re.escape(key)}\s*=", line) or line.strip() == f"[{key}]":
            return f" (line {number})"
    return ""


def load_spec(path: Path) -> SweepSpec:
    """The validated spec at ``path``; a mistake is one :class:`ConfigError` naming file, key and line."""
    data = load_toml(path)
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [str(p) for p in first["loc"] if not isinstance(p, int)]
        key = loc[-1] if loc else "sweep"
        where = ".".join(loc) or "(root)"
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise ConfigError(f"{path}: '{where}'{_line_of(path.read_text(), key)}: {message}") from exc


@dataclass(frozen=True, slots=True)
class Configuration:
    """One point of the grid, before seeds."""

    scenario: str
    controller: str
    demand: float
    incidents: tuple[str, ...]
    observe: ObservationSource

    def label(self, controller: str) -> str:
        label = f"{self.scenario} / {controller} / demand {self.demand:g}"
        if self.incidents:
            label += f" / {' + '.join(self.incidents)}"
        return label if self.observe == "oracle" else f"{label} / observe {self.observe}"


def expand(spec: SweepSpec, source: Path, resolve: Resolver) -> list[SweepRun]:
    """Every (configuration, seed) as a resolved run, configurations in spec order, seeds inner
    (an incident set adds to the scenario's own ``[[incidents]]``, as ``--incident`` does).
    ``resolve(scenario, flags)`` layers the scenario's manifest, user config and ``flags`` (the
    CLI's ``resolve_launch``). An unknown scenario or controller is refused before any task starts."""
    _check_names(spec, source)
    sweep = spec.sweep
    grid = itertools.product(
        sweep.scenarios, sweep.controllers, sweep.demand_scales, sweep.incidents, sweep.observe
    )
    runs: list[SweepRun] = []
    for point in grid:
        runs.extend(_seeded(sweep, Configuration(*point), resolve))
    return runs


def _seeded(sweep: SweepSection, point: Configuration, resolve: Resolver) -> list[SweepRun]:
    """One configuration's run per seed."""
    runs = []
    for seed in sweep.seeds:
        flags: dict[str, Any] = {
            "controller": point.controller or None,
            "end_s": sweep.end_s,
            "sim": {"seed": seed, "demand_scale": point.demand},
        }
        if point.incidents:
            flags["incidents"] = [parse_incident(spec).model_dump() for spec in point.incidents]
        if point.observe != "oracle":
            flags["observe"] = {"source": point.observe}
        config = resolve(point.scenario, flags)
        runs.append(SweepRun(point.label(config.controller), config, config_hash(config)))
    return runs


def _check_names(spec: SweepSpec, source: Path) -> None:
    from trafficai.control.registry import check_controller
    from trafficai.core.scenario import resolve_scenario

    text = source.read_text()
    for scenario in spec.sweep.scenarios:
        try:
            resolve_scenario(scenario)
        except TrafficAIError as exc:
            raise ConfigError(f"{source}: 'sweep.scenarios'{_line_of(text, 'scenarios')}: {exc}") from exc
    for incident_set in spec.sweep.incidents:
        for incident in incident_set:
            try:
                parse_incident(incident)
            except ConfigError as exc:
                message = str(exc).removeprefix("--incident ")
                raise ConfigError(
                    f"{source}: 'sweep.incidents'{_line_of(text, 'incidents')}: {message}"
                ) from exc
    for controller in spec.sweep.controllers:
        if controller:
            try:
                check_controller(controller)
            except TrafficAIError as exc:
                raise ConfigError(
                    f"{source}: 'sweep.controllers'{_line_of(text, 'controllers')}: {exc}"
                ) from exc
