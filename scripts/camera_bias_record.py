"""Record healthy fixed-time runs for the camera count-bias replay (docs/benchmarks.md, *Count bias,
session 13*): per sample each loop's hits and its camera's lane crossings (CameraLaneCounts).

    SI=1 TAG=l1 python scripts/camera_bias_record.py SCENARIO SEEDS   # e.g. single 10,11,12,13,14

SI: the sampling interval (1: every step, as the health monitor's camera counts). Writes
/tmp/cw/<scenario><TAG>_<seed>.npz.
"""
import sys, numpy as np, time
from trafficai.config import RunConfig, SimConfig
from trafficai.control.registry import make_controller
from trafficai.core.scenario import resolve_scenario
from trafficai.runtime.lifecycle import RunLifecycle
from trafficai.sensors.camera_witness import CameraLaneCounts
from trafficai.sensors.cameras import CameraSpec
from trafficai.sensors.health import _loop_links, could_move

class Obs:
    wants_vehicles = True
    def __init__(self, scenario):
        self.scenario = scenario; self.rows = []; self.last = None
    def bind(self, geometry, scenario):
        self.counter = CameraLaneCounts(geometry, [CameraSpec.from_section(c) for c in scenario.cameras])
        self.geometry = geometry
        self.links = _loop_links(geometry)
    def observe(self, snap):
        det = snap.detectors
        if det.e1_count.size != len(self.geometry.e1): return []
        count = det.e1_count.astype(float)
        t = float(snap.time_s)
        if self.last is not None:
            dt = t - self.last[0]
            cross = self.counter.sample(snap, dt)
            self.rows.append((t, count - self.last[1], cross, could_move(len(self.geometry.e1), self.links, snap.signals.state)))
        else:
            self.counter.sample(snap, 1.0)
        self.last = (t, count)
        return []

import os
TAG = os.environ.get("TAG", "")
name, seeds = sys.argv[1], [int(s) for s in sys.argv[2].split(",")]
for seed in seeds:
    sc = resolve_scenario(name)
    obs = Obs(name)
    life = RunLifecycle(RunConfig(scenario=name, controller="fixed", sim=SimConfig(seed=seed)), sc, observers=[obs], sample_interval_s=float(__import__("os").environ.get("SI","5")))
    life.record(None, "fixed")
    t0 = time.process_time()
    try:
        b = life.open(warnings=False).backend
        life.attach(make_controller("fixed"))
        while b.step < b.end_step:
            life.step()
    finally:
        life.close_simulation()
    t = np.array([r[0] for r in obs.rows]); hits = np.array([r[1] for r in obs.rows]); cross = np.array([r[2] for r in obs.rows])
    cov = obs.counter.lanes.covered
    mv = np.array([r[3] for r in obs.rows])
    np.savez(f"/tmp/cw/{name}{TAG}_{seed}.npz", t=t, hits=hits, cross=cross, covered=cov, moving=mv, ids=np.array(obs.geometry.e1.ids))
    print(seed, "cpu", round(time.process_time()-t0,1))
    for i in np.flatnonzero(cov[:0]):
        print(f"  {obs.geometry.e1.ids[i]:16s} loop {hits[:,i].sum():5.0f} cam {cross[:,i].sum():5.0f}")
