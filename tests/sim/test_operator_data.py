"""What the control center reads from the net and SUMO for operators: signal timing as the net file
gives it, junction outlines, street names, loop counts that never go back, a vehicle's delay."""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from trafficai.core.geometry import NetGeometry
from trafficai.core.scenario import resolve_scenario
from trafficai.sim.factory import open_backend
from trafficai.sim.net_loader import signal_timings
from trafficai.sim.sumo_command import SumoOptions

DATA = Path(__file__).parent.parent / "data"


def _file_logics(path: Path) -> list[ET.Element]:
    raw = path.read_bytes()
    root = ET.fromstring(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
    return list(root.iter("tlLogic"))


@pytest.mark.parametrize("net", ["tiny/tiny.net.xml", "grid2x2/grid2x2.net.xml"])
def test_signal_timing_values_equal_the_net_file(net: str) -> None:
    path = DATA / net
    if not path.exists():
        pytest.skip(f"{net} not in the test data")
    timings = signal_timings(path)
    logics = _file_logics(path)
    assert logics and set(timings) == {str(lg.get("id")) for lg in logics}
    for logic in logics:
        timing = timings[str(logic.get("id"))]
        phases = list(logic.iter("phase"))
        assert timing.program_id == logic.get("programID")
        assert timing.offset_s == float(logic.get("offset", "0"))
        assert [p.duration_s for p in timing.phases] == [float(p.get("duration", "0")) for p in phases]
        assert [p.state for p in timing.phases] == [p.get("state") for p in phases]
        assert timing.cycle_s == sum(float(p.get("duration", "0")) for p in phases)


def test_tiny_timing_cycle_splits_and_offset() -> None:
    timing = signal_timings(DATA / "tiny" / "tiny.net.xml")["C"]
    assert (timing.cycle_s, timing.offset_s, timing.kind) == (90.0, 0.0, "static")
    splits = timing.splits()  # green 42 s + yellow 3 s each
    assert [(s.phase, s.green_s, s.split_s) for s in splits] == [(0, 42.0, 45.0), (2, 42.0, 45.0)]
    assert [s.share for s in splits] == [0.5, 0.5]
    assert [p.kind for p in timing.phases] == ["green", "yellow", "green", "yellow"]


def test_an_additional_program_replaces_the_net_files(tmp_path: Path) -> None:
    add = tmp_path / "prog.add.xml"
    add.write_text(
        '<additional><tlLogic id="C" type="static" programID="p2" offset="7">'
        '<phase duration="20" state="rrrGGgrrrGGg"/><phase duration="4" state="rrryyyrrryyy"/>'
        "</tlLogic></additional>"
    )
    timing = signal_timings(DATA / "tiny" / "tiny.net.xml", [add])["C"]
    assert (timing.program_id, timing.offset_s, timing.cycle_s) == ("p2", 7.0, 24.0)


@pytest.mark.sumo
def test_geometry_counts_and_vehicle_getters(tiny: str) -> None:
    backend = open_backend(resolve_scenario(tiny), SumoOptions(seed=1), vehicles=False)
    try:
        geometry: NetGeometry = backend.geometry
        assert len(geometry.junction_shapes) == len(geometry.junction_ids)
        centre = geometry.junction_ids.index("C")
        assert len(geometry.junction_shapes[centre]) >= 3  # the net's outline of the junction
        assert geometry.edge_names == {}  # the test net names no street
        last = np.zeros(len(geometry.e1), np.int64)
        for _ in range(200):  # every step, across the loops' 60 s interval ends
            backend.advance()
            counts = np.asarray(backend.snapshot(vehicles=False).detectors.e1_count, np.int64)
            assert (counts >= last).all(), f"a loop count went back at step {backend.step}"
            last = counts
        assert last.sum() > 5
        vehicle = backend.vehicle_state()[0].ids[0]
        loss = backend.value_reader("vehicle", "time_loss")
        index = backend.value_reader("vehicle", "route_index")
        assert loss is not None and index is not None
        assert float(loss((vehicle,))[0]) >= 0.0
        assert 0 <= int(index((vehicle,))[0]) < len(backend.vehicle_route(vehicle))
    finally:
        backend.close()
