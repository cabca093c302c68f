"""Scenarios: a folder with a ``scenario.toml`` manifest, or any SUMO ``.sumocfg`` file.

Both resolve to a :class:`Scenario` with absolute file paths. Anywhere a scenario name is accepted,
a path to a manifest folder, a ``scenario.toml`` or a ``.sumocfg`` is accepted too.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from trafficai.config import (
    CameraSection,
    FaultSection,
    HealthSection,
    IncidentSection,
    ScenarioManifest,
    format_validation_error,
    load_toml,
)
from trafficai.errors import ConfigError, ScenarioError


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    source: Path  # the manifest or .sumocfg it came from
    net: Path
    routes: tuple[Path, ...]
    additional: tuple[Path, ...]
    begin_s: float
    duration_s: float
    step_length_s: float
    default_controller: str = "fixed"
    cameras: tuple[CameraSection, ...] = ()
    incidents: tuple[IncidentSection, ...] = ()  # the manifest's [[incidents]]
    faults: tuple[FaultSection, ...] = ()  # the manifest's [[faults]] (injected device faults)
    health: HealthSection | None = None  # the manifest's [health] thresholds
    sumocfg: Path | None = None  # when given, SUMO is started with -c and these files are informative

    @property
    def end_s(self) -> float:
        return self.begin_s + self.duration_s


def scenarios_root() -> Path:
    """The shipped scenario library: ``$TRAFFICAI_SCENARIOS`` or the repository's ``scenarios/``."""
    env = os.environ.get("TRAFFICAI_SCENARIOS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "scenarios"


def available_scenarios() -> list[str]:
    root = scenarios_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "scenario.toml").is_file())


def resolve_scenario(name_or_path: str) -> Scenario:
    """A shipped scenario's name, a scenario folder, a scenario.toml, or a .sumocfg path."""
    path = Path(name_or_path).expanduser()
    if path.suffix == ".sumocfg" or path.name.endswith(".sumocfg.gz"):
        return load_sumocfg(path)
    if path.is_dir():
        return load_manifest(path / "scenario.toml")
    if path.suffix == ".toml":
        return load_manifest(path)
    shipped = scenarios_root() / name_or_path / "scenario.toml"
    if os.sep not in name_or_path and shipped.is_file():
        return load_manifest(shipped)
    known = ", ".join(available_scenarios()) or "none shipped"
    raise ScenarioError(f"unknown scenario '{name_or_path}' (known: {known}; or give a .sumocfg path)")


def _existing(base: Path, rel: str, source: Path, field: str) -> Path:
    path = (base / rel).resolve()
    if not path.is_file():
        raise ScenarioError(f"{source}: field '{field}': file not found: {path}")
    return path


def load_manifest(path: Path) -> Scenario:
    if not path.is_file():
        raise ScenarioError(f"{path}: scenario manifest not found")
    try:
        data = load_toml(path)
    except ConfigError as exc:
        raise ScenarioError(str(exc)) from exc
    try:
        manifest = ScenarioManifest.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, str(path))) from exc
    s, base = manifest.scenario, path.parent
    return Scenario(
        name=s.name,
        description=s.description,
        source=path.resolve(),
        net=_existing(base, s.net, path, "scenario.net"),
        routes=tuple(_existing(base, r, path, "scenario.routes") for r in s.routes),
        additional=tuple(_existing(base, a, path, "scenario.additional") for a in s.additional),
        begin_s=s.begin,
        duration_s=s.duration,
        step_length_s=s.step_length,
        default_controller=s.default_controller,
        cameras=manifest.cameras,
        incidents=manifest.incidents,
        faults=manifest.faults,
        health=manifest.health,
    )


def _option(root: ET.Element, name: str) -> str | None:
    for section in root:
        for child in section:
            if child.tag == name:
                return child.get("value")
    node = root.find(f".//{name}")
    return None if node is None else node.get("value")


def _files(base: Path, value: str | None, source: Path, field: str) -> tuple[Path, ...]:
    if not value:
        return ()
    return tuple(_existing(base, part.strip(), source, field) for part in value.split(",") if part.strip())


def _seconds(value: str | None, default: float, source: Path, field: str) -> float:
    if value is None:
        return default
    try:
        if ":" in value:  # SUMO accepts h:m:s (and d:h:m:s)
            total = 0.0
            for part in value.split(":"):
                total = total * 60 + float(part)
            return total
        return float(value)
    except ValueError as exc:
        raise ScenarioError(f"{source}: option '{field}': not a time: {value!r}") from exc


def load_sumocfg(path: Path) -> Scenario:
    if not path.is_file():
        raise ScenarioError(f"{path}: SUMO config not found")
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise ScenarioError(f"{path}: malformed XML: {exc}") from exc
    base = path.parent
    net_value = _option(root, "net-file")
    if not net_value:
        raise ScenarioError(f"{path}: option 'net-file' is missing")
    begin = _seconds(_option(root, "begin"), 0.0, path, "begin")
    end = _seconds(_option(root, "end"), begin + 3600.0, path, "end")
    if end <= begin:
        end = begin + 3600.0
    step = _seconds(_option(root, "step-length"), 1.0, path, "step-length")
    if step <= 0:
        raise ScenarioError(f"{path}: option 'step-length' must be positive")
    return Scenario(
        name=path.name.removesuffix(".gz").removesuffix(".sumocfg"),
        description=f"SUMO configuration {path.name}",
        source=path.resolve(),
        net=_existing(base, net_value.split(",")[0].strip(), path, "net-file"),
        routes=_files(base, _option(root, "route-files"), path, "route-files"),
        additional=_files(base, _option(root, "additional-files"), path, "additional-files"),
        begin_s=begin,
        duration_s=end - begin,
        step_length_s=step,
        sumocfg=path.resolve(),
    )
