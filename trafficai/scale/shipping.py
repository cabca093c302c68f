"""Ship scenario (and model) files to a Ray cluster in the job's runtime environment.

On an existing cluster (``--address``) the worker nodes need not have the driver's files: the
files every run names are copied into one staging folder, which Ray uploads as the job's
``working_dir`` and unpacks on every node as the workers' current directory. Each scenario (and
model) is rewritten to its path relative to that folder for the tasks only; the driver keeps the
original names, so labels, config hashes and the store are the same as on a local cluster.

A scenario is staged as exactly the files it names: the manifest or ``.sumocfg``, the net, the
route and additional files, keeping their layout relative to their common folder.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trafficai.core.scenario import Scenario, resolve_scenario

log = logging.getLogger(__name__)

SCENARIOS_DIR = "scenarios"
MODELS_DIR = "models"


@dataclass
class Shipment:
    """The staging folder and, per scenario or model as the driver names it, its relative path."""

    working_dir: Path
    paths: dict[str, str] = field(default_factory=dict)

    def runtime_env(self) -> dict[str, Any]:
        return {"working_dir": str(self.working_dir)}

    def rewrite(self, name: str) -> str:
        """The path a task uses for ``name`` (unchanged when it was not shipped)."""
        return self.paths.get(name, name)

    def cleanup(self) -> None:
        shutil.rmtree(self.working_dir, ignore_errors=True)


def scenario_files(scenario: Scenario) -> list[Path]:
    files = [scenario.source, scenario.net, *scenario.routes, *scenario.additional]
    if scenario.sumocfg is not None:
        files.append(scenario.sumocfg)
    return list(dict.fromkeys(Path(f).resolve() for f in files))


def stage(scenarios: Iterable[str], models: Iterable[str] = (), into: Path | None = None) -> Shipment:
    """Copy the files of every scenario (name, folder, manifest or ``.sumocfg``) and every model
    file into one new folder (``into`` or a temporary one) and say where each landed."""
    root = Path(into) if into is not None else Path(tempfile.mkdtemp(prefix="trafficai-ship-"))
    root.mkdir(parents=True, exist_ok=True)
    shipment = Shipment(root)
    for index, name in enumerate(dict.fromkeys(scenarios)):
        scenario = resolve_scenario(name)
        files = scenario_files(scenario)
        base = Path(os.path.commonpath([str(f.parent) for f in files]))
        target = Path(SCENARIOS_DIR) / str(index)
        for file in files:
            destination = root / target / file.relative_to(base)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, destination)
        shipment.paths[name] = (target / scenario.source.relative_to(base)).as_posix()
    for index, model in enumerate(dict.fromkeys(models)):
        source = Path(model).expanduser().resolve()
        target = Path(MODELS_DIR) / str(index) / source.name
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, root / target)
        shipment.paths[model] = target.as_posix()
    log.info("staged %d scenario(s) and model(s) for the cluster in %s", len(shipment.paths), root)
    return shipment
