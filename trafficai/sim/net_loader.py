"""Static geometry: lanes and junctions from the net file (sumolib), signals and detectors from SUMO.

Signal programs and detectors can come from additional files, so those are read from the running
simulation once at start rather than from the net file.
"""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import sumolib

from trafficai.core.geometry import DetectorInfo, LaneGeometry, NetGeometry, SignalInfo, SignalLink
from trafficai.core.signals import OFF_KIND, Phase, SignalProgram
from trafficai.core.timing import PhaseTiming, SignalTiming
from trafficai.errors import ScenarioError

PROGRAM_KINDS = {0: "static", 3: "actuated", 4: "NEMA", 5: "delay_based", 13: OFF_KIND}
OFF_PHASE_S = 120.0  # the one phase SUMO's own "off" program reports, when it reports one


def read_net(path: Path) -> Any:
    try:
        return sumolib.net.readNet(str(path), withInternal=False, withPrograms=False, withConnections=False)
    except Exception as exc:  # sumolib raises bare xml/sax errors
        raise ScenarioError(f"{path}: cannot read network: {exc}") from exc


def lane_geometry(net: Any) -> LaneGeometry:
    ids: list[str] = []
    edges: list[str] = []
    shapes: list[np.ndarray] = []
    lengths: list[float] = []
    speeds: list[float] = []
    for edge in net.getEdges(withInternal=False):
        for lane in edge.getLanes():
            ids.append(lane.getID())
            edges.append(edge.getID())
            shapes.append(np.asarray(lane.getShape(), dtype=np.float64))
            lengths.append(lane.getLength())
            speeds.append(lane.getSpeed())
    return LaneGeometry(tuple(ids), tuple(edges), tuple(shapes), np.asarray(lengths), np.asarray(speeds))


def program_from_logic(logic: Any) -> SignalProgram:
    phases = tuple(
        Phase(str(p.state), float(p.duration), float(p.minDur), float(p.maxDur)) for p in logic.getPhases()
    )
    return SignalProgram(str(logic.programID), phases, PROGRAM_KINDS.get(int(logic.type), str(logic.type)))


def active_program(api: Any, tls: str) -> SignalProgram:
    """The program SUMO runs for ``tls``: the net's other programs are never loaded as the signal's
    plan (with ``--tls.all-off`` they stay in the net, and may come without phases). SUMO's "off"
    program, when it is not listed or lists no phase, is the one state it shows, held."""
    active = str(api.trafficlight.getProgram(tls))
    logics = api.trafficlight.getAllProgramLogics(tls)
    logic = next((lg for lg in logics if str(lg.programID) == active), None)
    if logic is None and active != OFF_KIND and logics:
        logic = logics[0]  # an unnamed active program: the first one, as SUMO loads it
    if logic is not None and logic.getPhases():
        return program_from_logic(logic)
    state = str(api.trafficlight.getRedYellowGreenState(tls))
    kind = OFF_KIND if logic is None else PROGRAM_KINDS.get(int(logic.type), str(logic.type))
    return SignalProgram(active, (Phase(state, OFF_PHASE_S, OFF_PHASE_S, OFF_PHASE_S),), kind)


def signal_infos(api: Any, lanes: LaneGeometry) -> tuple[SignalInfo, ...]:
    """Signals from the running simulation: active program, controlled links, stop-line points."""
    lane_index = lanes.index()
    infos: list[SignalInfo] = []
    for tls in api.trafficlight.getIDList():
        program = active_program(api, tls)
        links: list[SignalLink] = []
        points = np.zeros((program.n_links, 2))
        for index, connections in enumerate(api.trafficlight.getControlledLinks(tls)):
            if not connections:
                links.append(SignalLink(index, -1, -1))
                continue
            in_lane, out_lane, _via = connections[0]
            i, o = lane_index.get(in_lane, -1), lane_index.get(out_lane, -1)
            links.append(SignalLink(index, i, o))
            if i >= 0 and index < len(points):
                points[index] = lanes.shapes[i][-1]
        xy = (
            points[[link.in_lane >= 0 for link in links][: len(points)]].mean(axis=0)
            if links
            else np.zeros(2)
        )
        infos.append(SignalInfo(tls, (float(xy[0]), float(xy[1])), tuple(links), program, points))
    return tuple(infos)


def _detectors(domain: Any, lane_index: dict[str, int], api: Any, area: bool) -> DetectorInfo:
    ids = tuple(domain.getIDList())
    if not ids:
        return DetectorInfo.empty()
    lanes = np.array([lane_index.get(domain.getLaneID(d), -1) for d in ids], dtype=np.int32)
    positions = np.array([domain.getPosition(d) for d in ids], dtype=np.float64)
    lengths = np.array([domain.getLength(d) if area else 0.0 for d in ids], dtype=np.float64)
    if area:  # E2 getPosition is its start; store the end nearest the stop line
        positions = positions + lengths
    xy = np.array(
        [
            api.simulation.convert2D(*_edge_pos(domain.getLaneID(d), p))
            for d, p in zip(ids, positions, strict=True)
        ],
        dtype=np.float64,
    )
    return DetectorInfo(ids, lanes, positions, lengths, xy.reshape(-1, 2))


def _edge_pos(lane_id: str, pos: float) -> tuple[str, float, int]:
    edge, _, index = lane_id.rpartition("_")
    return edge, float(pos), int(index)


def load_geometry(net_path: Path, api: Any) -> NetGeometry:
    net = read_net(net_path)
    lanes = lane_geometry(net)
    lane_index = lanes.index()
    nodes = net.getNodes()
    junction_xy = np.array([n.getCoord()[:2] for n in nodes], dtype=np.float64).reshape(-1, 2)
    junction_shapes = tuple(
        np.asarray([p[:2] for p in (n.getShape() or ())], dtype=np.float64).reshape(-1, 2) for n in nodes
    )
    names = {e.getID(): str(e.getName()) for e in net.getEdges(withInternal=False) if e.getName()}
    xmin, ymin, xmax, ymax = net.getBoundary()
    return NetGeometry(
        lanes=lanes,
        junction_ids=tuple(n.getID() for n in nodes),
        junction_xy=junction_xy,
        signals=signal_infos(api, lanes),
        e1=_detectors(api.inductionloop, lane_index, api, area=False),
        e2=_detectors(api.lanearea, lane_index, api, area=True),
        bounds=(float(xmin), float(ymin), float(xmax), float(ymax)),
        junction_shapes=junction_shapes,
        edge_names=names,
    )


def _open_xml(path: Path) -> Any:
    """A net or additional file, gzipped or not (SUMO reads both)."""
    with open(path, "rb") as head:
        magic = head.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def _tl_logics(path: Path) -> Iterator[ET.Element]:
    with _open_xml(path) as stream:
        for _event, node in ET.iterparse(stream):
            if node.tag == "tlLogic":
                yield node
            elif node.tag in ("edge", "lane", "connection", "request"):
                node.clear()  # a big net: keep memory flat


def _float(node: ET.Element, key: str, default: float) -> float:
    try:
        return float(node.get(key, default))
    except ValueError:
        return default


def signal_timings(net_path: Path, additional: Iterable[Path] = ()) -> dict[str, SignalTiming]:
    """The timing of each signal's first program, as the files give it: the net file's tlLogic, replaced
    by an additional file's program of the same id (SUMO then starts the one loaded last)."""
    timings: dict[str, SignalTiming] = {}
    for path in (net_path, *additional):
        try:
            for node in _tl_logics(path):
                phases = tuple(
                    PhaseTiming(
                        str(p.get("state", "")),
                        _float(p, "duration", 0.0),
                        _float(p, "minDur", -1.0),
                        _float(p, "maxDur", -1.0),
                        str(p.get("name", "")),
                    )
                    for p in node.iter("phase")
                )
                signal = str(node.get("id", ""))
                if phases and (path != net_path or signal not in timings):
                    timings[signal] = SignalTiming(
                        signal,
                        str(node.get("programID", "")),
                        str(node.get("type", "static")),
                        _float(node, "offset", 0.0),
                        phases,
                    )
        except (ET.ParseError, OSError):
            continue  # SUMO reports broken files itself; the timing view then shows what was read
    return timings


def detector_periods(additional: Iterable[Path]) -> dict[str, float]:
    """E1 aggregation periods declared in additional files (needed to keep cumulative counts)."""
    periods: dict[str, float] = {}
    for path in additional:
        try:
            for _event, node in ET.iterparse(path):
                if node.tag in ("inductionLoop", "e1Detector"):
                    value = node.get("period") or node.get("freq") or "0"
                    periods[node.get("id", "")] = float(value)
        except (ET.ParseError, OSError, ValueError):
            continue  # SUMO itself reports broken additional files with their line
    return periods


def lane_successors(net_path: Path) -> dict[str, tuple[str, ...]]:
    """Every non-internal lane's successor lanes (its connections), from the net file: the
    incident detectors pair each loop with the next loops downstream along these."""
    try:
        net = sumolib.net.readNet(str(net_path), withInternal=False, withPrograms=False, withConnections=True)
    except Exception as exc:  # sumolib raises bare xml/sax errors
        raise ScenarioError(f"{net_path}: cannot read network: {exc}") from exc
    out: dict[str, tuple[str, ...]] = {}
    for edge in net.getEdges(withInternal=False):
        for lane in edge.getLanes():
            out[lane.getID()] = tuple(dict.fromkeys(c.getToLane().getID() for c in lane.getOutgoing()))
    return out
