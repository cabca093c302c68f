"""Tuning a fitted incident detector (``incident_eval._fitted_score``): per-pair bounds from the
incident-free tuning runs, each of those runs scored with the bounds of the others, so the
false-alarm rate the tuning sees is not flattered by bounds fitted on the same run."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from tests.sensors.fakes import cross_geometry
from trafficai.config import IncidentSection
from trafficai.runtime.incident_eval import EvalPlan, SpacingView, _factory, _fitted_score, score, shown
from trafficai.runtime.incident_runs import Recording, RunTask
from trafficai.sensors.incident_detection import HeldVehicles

BINS = 40
SETTING = {"held_min": 1.0, "held_margin": 1.0, "quiet_bins": 3, "z": 99.0, "min_missing": 99.0}


def incident_free(seed: int, held_episode: bool) -> Recording:
    """Loop up_N (column 1) counts a vehicle every other bin, stop_N (column 0) the same bin; with
    ``held_episode`` three vehicles stay between the loops for eight bins (a slow release)."""
    geometry = cross_geometry()
    count = np.zeros((BINS, 4))
    count[::2, 1] = 1.0
    count[:, 0] = count[:, 1]
    if held_episode:
        count[20:28, 0] = 0.0
        count[28, 0] = 4.0  # the held vehicles and bin 28's own
    occupancy = np.full((BINS, 4), 0.02)
    return Recording(
        RunTask("corridor", seed, 1.0, 30.0 * BINS, None),
        geometry,
        30.0 * np.arange(1, BINS + 1, dtype=np.float64),
        occupancy,
        np.full((BINS, 4), 10.0),
        count,
        np.zeros(BINS),
    )


def test_each_incident_free_run_is_scored_with_the_bounds_of_the_others() -> None:
    view = SpacingView("100 m", cross_geometry(), {"N_in_0": ("C_S_0",), "S_in_0": ("C_N_0",)}, 100.0)
    pair = next(i for i, p in enumerate(view.pairs) if p.id == "up_N>stop_N")
    assert view.pairs[pair].no_exit
    plan = EvalPlan("corridor", duration_s=30.0 * BINS, warmup_s=240.0)
    episode, calm = incident_free(2, True), incident_free(4, False)
    full, tuned = _fitted_score(view, SETTING, [episode, calm], plan, {})
    # the episode's run, judged with the calm run's bound (0 held): its three held vehicles alarm
    assert tuned.false_alarms == 1 and tuned.network_hours > 0
    # the bounds kept for evaluation come from both runs: the episode is then within them
    assert full["held_bounds"][pair, 3] >= 2.0  # held while the downstream loop was quiet 3 bins
    assert score(view, _factory(HeldVehicles, full), [episode], plan).false_alarms == 0
    assert "median" in shown(full)["held_bounds"] and shown(SETTING) == SETTING


def test_a_missed_incident_names_the_peak_occupancy_of_the_loop_its_queue_reached() -> None:
    view = SpacingView("100 m", cross_geometry(), {"N_in_0": ("C_S_0",)}, 100.0)
    rec = incident_free(6, False)
    block = IncidentSection(kind="block-lane", target="N_in_0", at=300.0, duration=600.0, position=60.0)
    rec.task = replace(rec.task, incident=block)
    rec.occupancy[12, 1] = 0.12  # up_N (30 m, upstream of the block) in the bin ending at 390 s
    rec.occupancy[12, 0] = 0.9  # stop_N is downstream of the block: not the loop the queue reached
    assert view.reached_loop_note(rec) == ", loop up_N peak occupancy 0.12"
