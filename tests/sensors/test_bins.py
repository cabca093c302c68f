"""Detector bins against the snapshots they come from, on the synthetic junction and on SUMO."""

from __future__ import annotations

import numpy as np
import pytest

from trafficai.config import RunConfig
from trafficai.core.geometry import NetGeometry
from trafficai.core.scenario import resolve_scenario
from trafficai.runtime.session import run_headless
from trafficai.sensors.bins import DetectorBins
from trafficai.sensors.readings import approaches
from trafficai.sim.factory import open_backend
from trafficai.sim.sumo_command import SumoOptions
from trafficai.storage import RunStore

from .fakes import snapshot


def test_approaches_group_a_signals_lanes_by_edge_with_one_stop_line_loop_per_lane(
    geometry: NetGeometry,
) -> None:
    found = {a.id: a for a in approaches(geometry)}
    assert list(found) == ["C/N_in", "C/S_in"]  # E and W have no detector; 'free' is on an exit
    north = found["C/N_in"]
    assert (north.signal, north.edge, north.lanes) == ("C", "N_in", (0,))
    assert north.stop_line_loops == (0,)  # stop_N, not up_N 60 m upstream on the same lane
    assert north.area_detectors == (0,)


def test_bin_counts_are_differences_of_the_cumulative_counters_and_values_are_means(
    geometry: NetGeometry,
) -> None:
    bins = DetectorBins(geometry)
    bins.sample(snapshot(0.0, [10, 10, 4, 0], [0.0, 0.2, 0.0, 0.0], speed=[-1.0, 10.0, -1.0, -1.0]))
    bins.sample(snapshot(15.0, [12, 13, 4, 0], [1.0, 0.4, 0.0, 0.0], speed=[8.0, 12.0, -1.0, -1.0]))
    first = bins.close(snapshot(30.0, [15, 16, 5, 0], [0.0] * 4, area=(3, 1, 0.5, 4.0)))
    assert first["stop_N"] == {"occupancy": 0.5, "speed": 8.0, "count": 5.0}
    assert first["up_N"] == pytest.approx({"occupancy": 0.3, "speed": 11.0, "count": 6.0})
    assert first["stop_S"] == {"occupancy": 0.0, "count": 1.0}  # no vehicle gave a speed
    assert first["area_N"] == {"vehicles": 0.0, "halting": 0.0, "occupancy": 0.0}
    assert first["C/N_in"] == {"occupancy": 0.5, "speed": 8.0, "vehicles": 0.0, "halting": 0.0, "count": 5.0}
    assert first["C/S_in"] == {"occupancy": 0.0, "count": 1.0}
    bins.sample(snapshot(30.0, [15, 16, 5, 0], [0.0] * 4, area=(3, 1, 0.5, 4.0)))
    second = bins.close(snapshot(60.0, [20, 16, 5, 0], [0.0] * 4))
    assert second["stop_N"]["count"] == 5.0  # counted from the first bin's close
    assert second["area_N"] == {"vehicles": 3.0, "halting": 1.0, "occupancy": 0.5, "speed": 4.0}


@pytest.mark.sumo
def test_bins_match_the_snapshots_of_a_sumo_run(tiny: str) -> None:
    backend = open_backend(resolve_scenario(tiny), SumoOptions(seed=2), vehicles=False)
    try:
        bins = DetectorBins(backend.geometry)
        e1 = backend.geometry.e1.ids
        taken = []
        first_counts = None
        total = 0.0
        for _ in range(4):  # four 30 s bins sampled every 5 s
            for _ in range(6):
                for _ in range(5):
                    backend.advance()
                snap = backend.snapshot(vehicles=False)
                if first_counts is None:
                    first_counts = snap.detectors.e1_count.astype(np.int64)
                bins.sample(snap)
                taken.append(snap)
            closed = bins.close(snap)
            occupancy = np.mean([s.detectors.e1_occupancy for s in taken], axis=0)
            for i, det_id in enumerate(e1):
                assert closed[det_id]["occupancy"] == pytest.approx(float(occupancy[i]), abs=1e-6)
            e2_vehicles = np.mean([s.detectors.e2_vehicles for s in taken], axis=0)
            for i, det_id in enumerate(backend.geometry.e2.ids):
                assert closed[det_id]["vehicles"] == pytest.approx(float(e2_vehicles[i]))
            total += sum(closed[det_id]["count"] for det_id in e1)
            approach_total = sum(closed[a.id]["count"] for a in bins.approaches)
            assert approach_total == sum(closed[det_id]["count"] for det_id in e1)  # one loop per lane
            taken = []
        assert first_counts is not None
        # every vehicle the loops counted after the first sample is in exactly one bin
        assert total == float((snap.detectors.e1_count.astype(np.int64) - first_counts).sum())
        assert total > 0
    finally:
        backend.close()


@pytest.mark.sumo
def test_a_headless_run_stores_detector_and_approach_bins(tiny: str) -> None:
    store = RunStore()
    result = run_headless(RunConfig(scenario=tiny, end_s=120.0, bin_s=30.0), store)
    rows = store.scoped_series(result.run_id, "detector")
    objects = {r.object_id for r in rows}
    assert {"e1_N_in_0", "e2_N_in_0", "C/N_in", "C/E_in", "C/S_in", "C/W_in"} <= objects
    counts = {(r.object_id, r.t_end): r.value for r in rows if r.metric == "count"}
    for t_end in {t for _, t in counts}:
        loops = sum(v for (obj, t), v in counts.items() if t == t_end and obj.startswith("e1_"))
        assert sum(v for (obj, t), v in counts.items() if t == t_end and obj.startswith("C/")) == loops
