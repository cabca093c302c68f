"""Size figures of a scenario, read from its files without starting SUMO."""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from pathlib import Path

from trafficai.core.scenario import Scenario

_TLS = re.compile(rb"<tlLogic\b")
_LANE = re.compile(rb'<lane id="(?!:)')
_E1 = re.compile(rb"<(?:inductionLoop|e1Detector)\b")
_E2 = re.compile(rb"<(?:laneAreaDetector|e2Detector)\b")
_VEH = re.compile(rb"<(?:vehicle|trip)\b")
_FLOW = re.compile(rb"<flow\b")


@dataclass(frozen=True, slots=True)
class ScenarioSize:
    signals: int
    lanes: int
    e1: int
    e2: int
    vehicles: int  # vehicles and trips in the route files (flows counted as 1 each: "+" shown)
    flows: int


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def _junction_signals(net: bytes) -> int:
    return len(set(re.findall(rb'<tlLogic id="([^"]+)"', net)))


def scenario_size(scenario: Scenario) -> ScenarioSize:
    net = _read(scenario.net)
    additional = b"".join(_read(p) for p in scenario.additional)
    routes = b"".join(_read(p) for p in scenario.routes)
    return ScenarioSize(
        signals=_junction_signals(net) or len(_TLS.findall(net)),
        lanes=len(_LANE.findall(net)),
        e1=len(_E1.findall(additional)),
        e2=len(_E2.findall(additional)),
        vehicles=len(_VEH.findall(routes)),
        flows=len(_FLOW.findall(routes)),
    )
