"""Our KPI math against SUMO's own statistics output on the same run."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from trafficai.core.kpis import QueueStats, run_kpis
from trafficai.core.scenario import resolve_scenario
from trafficai.sim.factory import open_backend
from trafficai.sim.sumo_command import SumoOptions

pytestmark = pytest.mark.sumo


def test_kpis_match_sumo_statistics(grid2x2: str, tmp_path: Path) -> None:
    options = SumoOptions(
        seed=7, tripinfo_path=tmp_path / "trips.xml", statistics_path=tmp_path / "stats.xml"
    )
    backend = open_backend(resolve_scenario(grid2x2), options, vehicles=False)
    while backend.step < backend.end_step:
        backend.advance()
    trips = backend.finish()
    stats = ET.parse(tmp_path / "stats.xml").getroot()
    vts = stats.find("vehicleTripStatistics")
    assert vts is not None
    # with write-unfinished, SUMO's trip statistics cover every inserted vehicle
    inserted = trips.depart >= 0
    arrived = trips.arrival >= 0
    assert int(inserted.sum()) == int(vts.get("count", "-1"))
    assert float(trips.duration[inserted].mean()) == pytest.approx(
        float(vts.get("duration", "nan")), abs=0.01
    )
    assert float(trips.time_loss[inserted].mean()) == pytest.approx(
        float(vts.get("timeLoss", "nan")), abs=0.01
    )
    assert float(trips.depart_delay[inserted].mean()) == pytest.approx(
        float(vts.get("departDelay", "nan")), abs=0.01
    )
    k = run_kpis(trips, QueueStats(), 0)
    assert k["mean_waiting_s"] == pytest.approx(float(vts.get("waitingTime", "nan")), abs=0.01)
    expected_delay = float(vts.get("timeLoss", "nan")) + float(vts.get("departDelay", "nan"))
    assert k["mean_delay_s"] == pytest.approx(expected_delay, abs=0.01)  # nothing left uninserted here
    veh = stats.find("vehicles")
    assert veh is not None and k["departed"] == int(veh.get("inserted", "-1"))
    assert k["arrived"] < k["departed"]  # the run ends with vehicles still on the road ...
    unfinished = ~arrived & (trips.depart >= 0)
    assert unfinished.any() and (trips.time_loss[unfinished] > 0).any()  # ... and their delay counts


def test_vehicles_never_inserted_count_as_delay(tiny: str, tmp_path: Path) -> None:
    options = SumoOptions(seed=1, demand_scale=6.0, end_s=300.0, tripinfo_path=tmp_path / "t.xml")
    backend = open_backend(resolve_scenario(tiny), options, vehicles=False)
    while backend.step < backend.end_step:
        backend.advance()
    pending = backend.snapshot(vehicles=False).counters.pending
    trips = backend.finish()
    never = trips.depart < 0
    assert pending > 0 and int(never.sum()) == pending
    assert np.all(trips.depart_delay[never] > 0)
    k = run_kpis(trips, QueueStats(), 0)
    assert k["not_inserted"] == pending
    inserted_only = float((trips.time_loss + trips.depart_delay)[~never].mean())
    everyone = float((trips.time_loss + trips.depart_delay).mean())
    assert k["mean_delay_s"] == pytest.approx(everyone) and everyone != pytest.approx(inserted_only)
