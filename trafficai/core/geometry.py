"""Static network geometry, loaded once per simulation: lanes, junctions, signals, detectors."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from trafficai.core.signals import SignalProgram


@dataclass(frozen=True, slots=True)
class LaneGeometry:
    """Non-internal lanes; index ``i`` is lane ``ids[i]`` everywhere in trafficai."""

    ids: tuple[str, ...]
    edges: tuple[str, ...]
    shapes: tuple[NDArray[np.float64], ...]  # (k, 2) polylines in network coordinates
    lengths: NDArray[np.float64]
    max_speeds: NDArray[np.float64]

    def index(self) -> dict[str, int]:
        return {lane: i for i, lane in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, slots=True)
class SignalLink:
    """One controlled connection: link index ``index`` lets traffic from ``in_lane`` into ``out_lane``."""

    index: int
    in_lane: int  # geometry lane index (-1 if not a regular lane)
    out_lane: int


@dataclass(frozen=True, slots=True)
class SignalInfo:
    """A signalised junction (SUMO traffic light) and its original program."""

    id: str
    xy: tuple[float, float]
    links: tuple[SignalLink, ...]
    program: SignalProgram
    stop_points: NDArray[np.float64]  # (n_links, 2) position of each link's signal head (stop line)

    @property
    def incoming_lanes(self) -> tuple[int, ...]:
        return tuple(sorted({link.in_lane for link in self.links if link.in_lane >= 0}))


@dataclass(frozen=True, slots=True)
class DetectorInfo:
    """Detectors of one kind (E1 or E2): ids, lane index, position on lane and xy."""

    ids: tuple[str, ...]
    lanes: NDArray[np.int32]
    positions: NDArray[np.float64]  # m from lane start (E2: end of the detector, nearest the stop line)
    lengths: NDArray[np.float64]  # m (E1: 0)
    xy: NDArray[np.float64]  # (n, 2)

    def __len__(self) -> int:
        return len(self.ids)

    @staticmethod
    def empty() -> DetectorInfo:
        return DetectorInfo((), np.zeros(0, np.int32), np.zeros(0), np.zeros(0), np.zeros((0, 2)))


@dataclass(frozen=True, slots=True)
class NetGeometry:
    """Everything static about the loaded network."""

    lanes: LaneGeometry
    junction_ids: tuple[str, ...]
    junction_xy: NDArray[np.float64]
    signals: tuple[SignalInfo, ...]
    e1: DetectorInfo
    e2: DetectorInfo
    bounds: tuple[float, float, float, float]  # xmin, ymin, xmax, ymax
    # junction outlines ((k, 2) polygons, same order as junction_ids; empty when the net has none)
    junction_shapes: tuple[NDArray[np.float64], ...] = ()
    edge_names: dict[str, str] = field(default_factory=dict)  # edge id -> street name, named edges only

    def signal_index(self) -> dict[str, int]:
        return {s.id: i for i, s in enumerate(self.signals)}

    def signal(self, signal_id: str) -> SignalInfo:
        for info in self.signals:
            if info.id == signal_id:
                return info
        raise KeyError(signal_id)
