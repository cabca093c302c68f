"""Replay the camera count-bias test (RatioCusum with camera settings) on recorded runs
(scripts/camera_bias_record.py) with a synthetic +-30 % bias from onsets in the second quarter.

    SETTLE=0 python scripts/camera_bias_replay.py single BLOCK,DRIFT,THRESHOLD,PRIOR,MAX_RATIO ...
"""
import sys, glob, math, statistics, numpy as np
from trafficai.sensors.health_bias import RatioCusum, BiasLimits
ONSETS = (0.25, 0.33, 0.42, 0.5)
def biased(hits, k0, b):
    out = hits.copy()
    rep = np.floor(np.cumsum(hits[k0:]) * max(0.0, 1.0 + b))
    out[k0:] = np.diff(np.concatenate([[0.0], rep]))
    return out
def first(hits, cross, t, lim, mv):
    c = RatioCusum(1, lim); ok = np.ones(1, bool)
    st = np.concatenate([[False], ~mv[1:] & ~mv[:-1]]) if SETTLE else np.ones(len(t), bool)
    for k in range(len(t)):
        if c.add(hits[k:k+1], cross[k:k+1], ok)[0]:
            return t[k]
    return None
def run(files, lim, b):
    found=trials=alarms=0; ttd=[]; hours=0.0; fa=[]
    for f in files:
        d = np.load(f); t=d["t"]
        for i in np.flatnonzero(d["covered"]):
            h, c = d["hits"][:, i], d["cross"][:, i]; mv = d["moving"][:, i]
            hours += (t[-1]-t[0])/3600
            if first(h, c, t, lim, mv) is not None: alarms += 1; fa.append((f.split('/')[-1], str(d["ids"][i])))
            for s in ONSETS:
                k0 = int(s*len(t)); trials += 1
                at = first(biased(h, k0, b), c, t, lim, mv)
                if at is not None and at >= t[k0]: found += 1; ttd.append(at - t[k0])
    return found/trials, (statistics.median(ttd) if ttd else math.nan), 100*alarms/hours, fa
import os
SETTLE = os.environ.get('SETTLE','1')=='1'
files = sorted(glob.glob(f"/tmp/cw/{sys.argv[1]}_*.npz"))
for spec in sys.argv[2:]:
    block, drift, thr, prior, maxr = map(float, spec.split(","))
    lim = BiasLimits(block, drift, thr, prior, 300.0, maxr, prior)
    for b in (0.3, -0.3):
        r, m, fa, who = run(files, lim, b)
        print(spec, b, f"recall {r:.3f} ttd {m:.0f} fa/100h {fa:.1f}", who[:4])
