"""Search / go to by id (pure; no Qt): intersections, junctions, vehicles, detectors, cameras, edges
and street names. An exact id wins, then ids starting with the text, then ids containing it (case
ignored)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from trafficai.core.geometry import NetGeometry
from trafficai.gui.map.picking import Pick
from trafficai.runtime.messages import CameraView

KIND_NAMES = {
    "signal": "intersection",
    "junction": "junction",
    "vehicle": "vehicle",
    "e1": "induction loop",
    "e2": "lane-area detector",
    "camera": "camera",
    "lane": "edge",
}


@dataclass(frozen=True, slots=True)
class Hit:
    label: str  # what the list shows ("intersection C", "edge N_in (Main Street)")
    pick: Pick  # what selecting it selects (an edge: its first lane)
    extent_m: float  # half the size of the area to show around it


class SearchIndex:
    """Every static id of a network, and where it is."""

    def __init__(self, geometry: NetGeometry, cameras: Sequence[CameraView] = ()) -> None:
        self.entries: list[tuple[str, str, Hit]] = []  # (key lowered, id, hit)
        signal_ids = {s.id for s in geometry.signals}
        for i, s in enumerate(geometry.signals):
            self._add(s.id, f"intersection {s.id}", Pick("signal", s.id, i, *s.xy), 60.0)
        for i, junction in enumerate(geometry.junction_ids):
            if junction not in signal_ids:
                x, y = (float(v) for v in geometry.junction_xy[i])
                self._add(junction, f"junction {junction}", Pick("junction", junction, i, x, y), 60.0)
        for kind, detectors in (("e1", geometry.e1), ("e2", geometry.e2)):
            for i, det in enumerate(detectors.ids):
                x, y = (float(v) for v in detectors.xy[i])
                self._add(det, f"{KIND_NAMES[kind]} {det}", Pick(kind, det, i, x, y), 40.0)
        for i, cam in enumerate(cameras):
            self._add(cam.id, f"camera {cam.id}", Pick("camera", cam.id, i, cam.x, cam.y), 60.0)
        first_lane: dict[str, int] = {}
        for i, edge in enumerate(geometry.lanes.edges):
            first_lane.setdefault(edge, i)
        for edge, lane in first_lane.items():
            shape = np.asarray(geometry.lanes.shapes[lane], dtype=np.float64).reshape(-1, 2)
            x, y, extent = _centre(shape)
            name = geometry.edge_names.get(edge, "")
            label = f"edge {edge}" + (f" ({name})" if name else "")
            hit = Hit(label, Pick("lane", geometry.lanes.ids[lane], lane, x, y), extent)
            self.entries.append((edge.lower(), edge, hit))
            if name:
                self.entries.append((name.lower(), edge, hit))

    def _add(self, object_id: str, label: str, pick: Pick, extent_m: float) -> None:
        self.entries.append((object_id.lower(), object_id, Hit(label, pick, extent_m)))

    def ids(self) -> list[str]:
        """Everything to complete on (ids and street names), sorted, each once."""
        return sorted({key for key, _, _ in self.entries} | {i for _, i, _ in self.entries})

    def find(
        self,
        text: str,
        vehicle_ids: Sequence[str] = (),
        vehicle_xy: NDArray[np.floating] | None = None,
        limit: int = 20,
    ) -> list[Hit]:
        """Hits for ``text``, best first; vehicles from the latest snapshot."""
        query = text.strip().lower()
        if not query:
            return []
        ranked: list[tuple[int, str, Hit]] = []
        for key, object_id, hit in self.entries:
            rank = _rank(key, query)
            if rank is not None:
                ranked.append((rank, object_id, hit))
        if vehicle_xy is not None:
            xy = np.asarray(vehicle_xy, dtype=np.float64).reshape(-1, 2)
            for i, vid in enumerate(vehicle_ids):
                rank = _rank(vid.lower(), query)
                if rank is not None:
                    pick = Pick("vehicle", vid, i, float(xy[i, 0]), float(xy[i, 1]))
                    ranked.append((rank, vid, Hit(f"vehicle {vid}", pick, 40.0)))
        ranked.sort(key=lambda item: (item[0], len(item[1]), item[1]))
        seen: set[tuple[str, str]] = set()
        out: list[Hit] = []
        for _, _, hit in ranked:
            which = (hit.pick.kind, hit.pick.id)
            if which not in seen:
                seen.add(which)
                out.append(hit)
            if len(out) >= limit:
                break
        return out


def _rank(key: str, query: str) -> int | None:
    if key == query:
        return 0
    if key.startswith(query):
        return 1
    if query in key:
        return 2
    return None


def _centre(shape: NDArray[np.float64]) -> tuple[float, float, float]:
    lo, hi = shape.min(axis=0), shape.max(axis=0)
    mid = (lo + hi) / 2.0
    return float(mid[0]), float(mid[1]), max(float((hi - lo).max()) * 0.6, 40.0)
