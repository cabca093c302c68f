"""``evaluate`` serial vs ``evaluate --ray`` on a local Ray cluster, side by side in one process.

Both run the same plan (the controller and every baseline, the same seeds); the Ray side is timed
with and without the cluster's start-up, the reports are compared KPI for KPI, and the ratios are
printed as one JSON object.

    python scripts/bench_evaluate_ray.py corridor --controller max-pressure --seeds 1,2,3 --end 1800 --cpus 2
"""

from __future__ import annotations

import argparse
import json
import os
import time

from trafficai.runtime.evaluation import evaluate, plan_evaluation
from trafficai.scale.cluster import connect, shutdown
from trafficai.scale.evaluate import ray_runner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario")
    parser.add_argument("--controller", default="max-pressure")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--end", type=float, default=1800.0)
    parser.add_argument("--cpus", type=int, default=2)
    args = parser.parse_args()
    seeds = tuple(int(s) for s in args.seeds.split(","))
    plan = plan_evaluation(args.scenario, args.controller, None, seeds, end_s=args.end)
    started = time.perf_counter()
    serial = evaluate(plan)
    serial_s = time.perf_counter() - started
    started = time.perf_counter()
    connect(None, args.cpus)
    up_s = time.perf_counter() - started
    try:
        on_ray = evaluate(plan, runner=ray_runner())
    finally:
        shutdown()
    ray_s = time.perf_counter() - started
    same = [(s.controller, s.per_episode) for s in serial] == [(s.controller, s.per_episode) for s in on_ray]
    print(
        json.dumps(
            {
                "scenario": plan.scenario_name,
                "episodes": len(plan.controllers) * len(plan.seeds),
                "cpus": args.cpus,
                "serial_s": round(serial_s, 2),
                "ray_s": round(ray_s, 2),
                "ray_startup_s": round(up_s, 2),
                "speedup": round(serial_s / ray_s, 3),
                "speedup_without_startup": round(serial_s / (ray_s - up_s), 3),
                "identical_to_serial": same,
                "load_1min": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
