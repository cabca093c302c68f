"""The fitted bounds of the live ``held-vehicles`` detector: a JSON file per scenario.

``trafficai incidents fit SCENARIO`` (``runtime/incident_fit.py``) writes it; ``IncidentWatch.bind``
reads it. It holds the detector's setting, the per-pair bounds (pairs x quiet levels, from
``fit_held_bounds`` on incident-free runs) and a fingerprint of the loop pairs they were fitted
for: the ordered pair ids (``up>down``), so a net whose loops changed is told apart and the file is
not used there. Default place: ``incident_bounds.json`` next to the scenario's manifest
(``<name>.incident_bounds.json`` next to a ``.sumocfg``).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trafficai.core.scenario import Scenario
from trafficai.errors import ConfigError
from trafficai.sensors.incident_detection import HeldVehicles
from trafficai.sensors.loop_pairs import F64, LoopPair

FORMAT = "trafficai-incident-bounds"
VERSION = 1
BOUNDS_NAME = "incident_bounds.json"
DETECTOR = HeldVehicles.name


def default_bounds_path(scenario: Scenario) -> Path:
    """Where a scenario's bounds file lives: next to its manifest (or its ``.sumocfg``)."""
    folder = scenario.source.parent
    if scenario.sumocfg is not None or scenario.source.suffix != ".toml":
        return folder / f"{scenario.name}.{BOUNDS_NAME}"
    return folder / BOUNDS_NAME


def pair_ids(pairs: Sequence[LoopPair]) -> list[str]:
    return [p.id for p in pairs]


def fingerprint(ids: Sequence[str]) -> str:
    """SHA-256 of the ordered pair ids: equal only for the same loops paired the same way."""
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()


@dataclass(frozen=True)
class HeldBounds:
    """One scenario's fitted ``held-vehicles``: setting, bounds per pair and quiet level, and how
    they were fitted (``fit``: runs per level, levels, seeds, duration, warm-up)."""

    scenario: str
    pairs: tuple[str, ...]
    setting: dict[str, Any]
    bounds: F64  # pairs x (quiet levels + 1)
    fit: dict[str, Any] = field(default_factory=dict)
    created: str = ""

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.pairs)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "scenario": self.scenario,
            "detector": DETECTOR,
            "pairs_fingerprint": self.fingerprint,
            "pairs": list(self.pairs),
            "setting": self.setting,
            "quiet_levels": int(self.bounds.shape[1]) - 1,  # columns: quiet 0 .. quiet_levels bins
            "bounds": [[round(float(v), 6) for v in row] for row in self.bounds],
            "fit": self.fit,
            "created": self.created,
        }

    def mismatch(self, pairs: Sequence[LoopPair]) -> str:
        """Why these bounds do not fit the net's ``pairs`` ("" when they do)."""
        ids = pair_ids(pairs)
        if fingerprint(ids) == self.fingerprint:
            return ""
        if len(ids) != len(self.pairs):
            return f"fitted for {len(self.pairs)} loop pairs, the net has {len(ids)}"
        first = next(i for i, (a, b) in enumerate(zip(ids, self.pairs, strict=True)) if a != b)
        return f"loop pair {first} is {self.pairs[first]} in the file, {ids[first]} in the net"

    def detector(self, pairs: Sequence[LoopPair]) -> HeldVehicles:
        return HeldVehicles(pairs, **self.setting, held_bounds=self.bounds)


def save_bounds(fitted: HeldBounds, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fitted.to_json(), indent=1) + "\n")
    return path


def load_bounds(path: Path) -> HeldBounds:
    """A bounds file; ConfigError naming the file and the problem when it is missing or wrong."""
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the incident bounds file: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not a JSON incident bounds file: {exc}") from None
    try:
        return _parse(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: bad incident bounds file: {_reason(exc)}") from None


def _reason(exc: Exception) -> str:
    return f"field {exc.args[0]!r} is missing" if isinstance(exc, KeyError) else str(exc)


def _parse(data: Any) -> HeldBounds:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"'format' is not {FORMAT!r}")
    if data.get("version") != VERSION:
        raise ValueError(f"version {data.get('version')!r}, this trafficai reads version {VERSION}")
    if data.get("detector") != DETECTOR:
        raise ValueError(f"detector {data.get('detector')!r}, expected {DETECTOR!r}")
    pairs = data["pairs"]
    if not isinstance(pairs, list) or not all(isinstance(p, str) for p in pairs):
        raise ValueError("'pairs' is not a list of pair ids")
    if fingerprint(pairs) != data["pairs_fingerprint"]:
        raise ValueError("'pairs_fingerprint' does not match its 'pairs' (edited by hand?)")
    setting = data["setting"]
    if not isinstance(setting, dict) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in setting.values()
    ):
        raise ValueError("'setting' is not a table of numbers")
    bounds = np.asarray(data["bounds"], dtype=np.float64)
    if not pairs:  # a net without loop pairs: nothing to bound
        bounds = np.zeros((0, int(data.get("quiet_levels", 0)) + 1))
    if bounds.ndim != 2 or bounds.shape[0] != len(pairs) or bounds.shape[1] < 1:
        raise ValueError(f"'bounds' is not {len(pairs)} rows (one per pair) of quiet levels")
    if not all(math.isfinite(v) and v >= 0 for v in bounds.ravel()):
        raise ValueError("'bounds' holds a negative or non-finite value")
    fitted = HeldBounds(
        str(data["scenario"]), tuple(pairs), dict(setting), bounds, dict(data.get("fit", {})),
        str(data.get("created", "")),
    )  # fmt: skip
    try:
        HeldVehicles((), **fitted.setting)  # unknown parameters fail here, not in the run
    except TypeError as exc:
        raise ValueError(f"'setting': {exc}") from None
    return fitted
