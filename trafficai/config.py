"""The one validated config tree: frozen pydantic models with ``extra="forbid"``.

Sources, lowest priority first: scenario.toml, the user config file (``$TRAFFICAI_CONFIG`` or
``<user config dir>/config.toml``), ``TRAFFICAI_*`` environment variables, then CLI flags.
The resolved tree is saved with every run and every trained model.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_config_dir
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from trafficai.errors import ConfigError


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CameraSection(Frozen):
    """A ``[[cameras]]`` entry; ``trafficai.sensors.cameras.CameraSpec`` explains the pose."""

    id: str
    junction: str = ""
    x: float
    y: float
    height: float = Field(8.0, gt=0)
    heading: float = 0.0
    tilt: float = Field(20.0, gt=-90, lt=90)
    fov: float = Field(70.0, gt=0, lt=180)
    image_width: int = Field(1280, gt=0)
    image_height: int = Field(720, gt=0)
    frame_rate: float = Field(25.0, gt=0)
    range_m: float = Field(60.0, gt=0)


class ScenarioSection(Frozen):
    name: str
    description: str = ""
    net: str
    routes: tuple[str, ...] = ()
    additional: tuple[str, ...] = ()
    begin: float = 0.0
    duration: float = Field(3600.0, gt=0)
    step_length: float = Field(1.0, gt=0, le=10)
    default_controller: str = "fixed"


class ScenarioManifest(Frozen):
    scenario: ScenarioSection
    cameras: tuple[CameraSection, ...] = ()


class SafetyConfig(Frozen):
    min_green_s: float = Field(5.0, ge=0)
    max_green_s: float | None = Field(90.0, gt=0)
    yellow_s: float | None = Field(None, gt=0)
    all_red_s: float | None = Field(None, ge=0)
    controller_deadline_s: float = Field(2.0, gt=0)

    @model_validator(mode="after")
    def _max_above_min(self) -> SafetyConfig:
        if self.max_green_s is not None and self.max_green_s < self.min_green_s:
            raise ValueError("max_green_s must be >= min_green_s")
        return self


class SimConfig(Frozen):
    backend: Literal["libsumo", "traci"] = "libsumo"
    seed: int = 42
    step_length: float | None = Field(None, gt=0, le=10)  # None: the scenario's own
    time_to_teleport: float = 300.0
    sumo_gui: bool = False  # traci backend only: attach sumo-gui
    demand_scale: float = Field(1.0, gt=0, le=20)


class RunConfig(Frozen):
    scenario: str
    controller: str = ""  # empty: the scenario's default
    end_s: float | None = Field(None, gt=0)  # simulated seconds from the scenario's begin
    signals: tuple[str, ...] = ()  # subset the controller drives; empty: all
    decision_interval_s: float = Field(5.0, gt=0)
    bin_s: float = Field(60.0, gt=0)
    sim: SimConfig = SimConfig()
    safety: SafetyConfig = SafetyConfig()


def user_config_path() -> Path:
    env = os.environ.get("TRAFFICAI_CONFIG")
    return Path(env) if env else Path(user_config_dir("trafficai")) / "config.toml"


def _env_overrides() -> dict[str, Any]:
    """``TRAFFICAI_SIM__SEED=7`` style variables map onto nested keys."""
    out: dict[str, Any] = {}
    for key, value in os.environ.items():
        if not key.startswith("TRAFFICAI_") or "__" not in key:
            continue
        parts = key[len("TRAFFICAI_") :].lower().split("__")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def format_validation_error(error: ValidationError, source: str) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(root)"
    return f"{source}: field '{where}': {first['msg']}"


def load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc


def resolve_run_config(cli: dict[str, Any]) -> RunConfig:
    """Merge user config, environment and CLI values (highest last) into a validated RunConfig."""
    layers: dict[str, Any] = {}
    path = user_config_path()
    if path.exists():
        layers = _merge(layers, load_toml(path).get("run", {}))
    layers = _merge(layers, _env_overrides())
    layers = _merge(layers, {k: v for k, v in cli.items() if v is not None})
    try:
        return RunConfig.model_validate(layers)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, "run configuration")) from exc
