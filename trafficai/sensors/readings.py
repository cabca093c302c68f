"""Detector readings of one snapshot, per detector and per signal approach.

An *approach* is one incoming edge of a signalised junction: the lanes of that edge among the
signal's incoming lanes (``core.geometry.SignalInfo.incoming_lanes``). Its loop readings come from
the E1 loop nearest the stop line on each of its lanes (an upstream loop on the same lane would count
the same vehicles twice); its E2 readings from every lane-area detector on its lanes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from trafficai.core.geometry import DetectorInfo, NetGeometry
from trafficai.core.snapshot import Snapshot

I64 = NDArray[np.int64]
Reading = dict[str, float]


@dataclass(frozen=True, slots=True)
class Approach:
    """One incoming edge of a signal and the detectors that watch it (indices into geometry.e1/e2)."""

    id: str  # "<signal>/<edge>", also the object name of its bins in the run store
    signal: str
    edge: str
    lanes: tuple[int, ...]  # geometry lane indices
    stop_line_loops: tuple[int, ...]  # per lane with a loop: the E1 nearest the stop line
    area_detectors: tuple[int, ...]  # every E2 on its lanes


def _nearest_stop_line(detectors: DetectorInfo, lanes: tuple[int, ...]) -> tuple[int, ...]:
    chosen: list[int] = []
    for lane in lanes:
        on_lane = np.flatnonzero(detectors.lanes == lane)
        if on_lane.size:
            chosen.append(int(on_lane[np.argmax(detectors.positions[on_lane])]))
    return tuple(chosen)


def approaches(geometry: NetGeometry) -> tuple[Approach, ...]:
    """Every signal's approaches that have at least one detector, in signal then edge order."""
    out: list[Approach] = []
    for info in geometry.signals:
        by_edge: dict[str, list[int]] = {}
        for lane in info.incoming_lanes:
            by_edge.setdefault(geometry.lanes.edges[lane], []).append(lane)
        for edge, lane_list in by_edge.items():
            lanes = tuple(lane_list)
            loops = _nearest_stop_line(geometry.e1, lanes)
            areas = tuple(int(i) for i in np.flatnonzero(np.isin(geometry.e2.lanes, lanes)))
            if loops or areas:
                out.append(Approach(f"{info.id}/{edge}", info.id, edge, lanes, loops, areas))
    return tuple(out)


def detector_readings(snapshot: Snapshot, geometry: NetGeometry) -> dict[str, Reading]:
    """Per-detector values of one step that are averaged over a bin (E1 counts are cumulative and
    binned as differences, see ``bins.DetectorBins``). Speeds are left out when no vehicle gave one."""
    det = snapshot.detectors
    out: dict[str, Reading] = {}
    if det.e1_occupancy.size == len(geometry.e1):
        for i, det_id in enumerate(geometry.e1.ids):
            out[det_id] = {"occupancy": float(det.e1_occupancy[i])}
            if det.e1_speed[i] >= 0:
                out[det_id]["speed"] = float(det.e1_speed[i])
    if det.e2_vehicles.size == len(geometry.e2):
        for i, det_id in enumerate(geometry.e2.ids):
            out[det_id] = {
                "vehicles": float(det.e2_vehicles[i]),
                "halting": float(det.e2_halting[i]),
                "occupancy": float(det.e2_occupancy[i]),
            }
            if det.e2_speed[i] >= 0:
                out[det_id]["speed"] = float(det.e2_speed[i])
    return out


def approach_readings(snapshot: Snapshot, approach_list: tuple[Approach, ...]) -> dict[str, Reading]:
    """Per-approach values of one step: mean occupancy of its stop-line loops, mean speed of those that
    saw a vehicle, and the vehicles and halting vehicles on its lane-area detectors."""
    det = snapshot.detectors
    has_e1, has_e2 = det.e1_occupancy.size > 0, det.e2_vehicles.size > 0
    out: dict[str, Reading] = {}
    for approach in approach_list:
        values: Reading = {}
        loops = np.asarray(approach.stop_line_loops, dtype=np.int64)
        if has_e1 and loops.size:
            values["occupancy"] = float(det.e1_occupancy[loops].mean())
            speeds = det.e1_speed[loops]
            if (speeds >= 0).any():
                values["speed"] = float(speeds[speeds >= 0].mean())
        areas = np.asarray(approach.area_detectors, dtype=np.int64)
        if has_e2 and areas.size:
            values["vehicles"] = float(det.e2_vehicles[areas].sum())
            values["halting"] = float(det.e2_halting[areas].sum())
        if values:
            out[approach.id] = values
    return out


def approach_counts(counts: I64, approach_list: tuple[Approach, ...]) -> dict[str, float]:
    """Vehicles counted by each approach's stop-line loops, from per-loop counts over an interval."""
    return {
        a.id: float(counts[np.asarray(a.stop_line_loops, dtype=np.int64)].sum())
        for a in approach_list
        if a.stop_line_loops
    }
