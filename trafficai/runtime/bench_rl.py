"""``trafficai bench rl``: environment steps per second against sumo-rl, side by side in one run.

Both environments get the same SUMO inputs (the scenario's network and routes, nothing else),
decide every 5 s, observe sumo-rl's default observation (phase one-hot, min-green flag, lane
density and queue), are rewarded with diff-waiting-time and act at random with the same seed, for
one whole episode after ``reset()``. trafficai's shared-policy VecEnv runs beside them with 1, 2 ...
simulation processes to show how throughput scales with ``--envs``. Each measurement runs in a
fresh process (libsumo allows one simulation per process, and no run inherits another's warm
state); the variants are interleaved ``repeat`` times (``bench_stats``), each reports the median
run with the range, and ratios are taken per repetition (wall and CPU time of the stepping loop).
"""

from __future__ import annotations

import multiprocessing as mp
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np

from trafficai.control.rl.config import EnvConfig
from trafficai.core.scenario import Scenario, resolve_scenario
from trafficai.errors import ScenarioError
from trafficai.runtime.bench_stats import DEFAULT_REPEAT, Spread, interleaved_order, ratio_spread

Progress = Callable[[str], None]


def bench_inputs(name: str, resco: str | None, folder: Path) -> Scenario:
    """The scenario reduced to what sumo-rl can take too: network + routes, no additional files,
    written as a ``.sumocfg`` in ``folder`` so that every variant (and every process) loads it."""
    if resco is not None:
        from trafficai.control.rl.resco import resco_sumocfg

        scenario = resolve_scenario(str(resco_sumocfg(resco)))
    else:
        scenario = resolve_scenario(name)
    if not scenario.routes:
        raise ScenarioError(f"{scenario.source}: bench rl needs route files")
    if len(scenario.routes) > 1:
        raise ScenarioError(f"{scenario.source}: bench rl takes one route file (sumo-rl's limit)")
    config = folder / f"{scenario.name}-bench.sumocfg"
    config.write_text(
        "<configuration>\n"
        f'  <input><net-file value="{escape(str(scenario.net))}"/>'
        f'<route-files value="{escape(str(scenario.routes[0]))}"/></input>\n'
        f'  <time><begin value="{scenario.begin_s:g}"/><end value="{scenario.end_s:g}"/></time>\n'
        "</configuration>\n",
        encoding="utf-8",
    )
    return resolve_scenario(str(config))


def _measure_ours(scenario: Scenario, seconds: float, seed: int) -> dict[str, Any]:
    from trafficai.control.rl.multi_env import TrafficSignalParallelEnv

    config = EnvConfig(scenario=str(scenario.source), episode_s=seconds, seed=seed)
    env = TrafficSignalParallelEnv(config)
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    start, cpu_start = time.perf_counter(), time.process_time()
    steps = 0
    while env.agents:
        actions = {a: int(rng.integers(env.episodes.n_actions)) for a in env.agents}
        _observations, _r, _te, _tr, _i = env.step(actions)
        steps += 1
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    agents = len(env.possible_agents)
    obs_size = env.episodes.observation_size
    env.close()
    return {
        "steps": steps,
        "seconds": elapsed,
        "cpu_s": cpu,
        "steps_per_s": steps / elapsed,
        "agents": agents,
        "obs_size": obs_size,
    }


def _measure_sumo_rl(scenario: Scenario, seconds: float, seed: int) -> dict[str, Any]:
    from trafficai.sim.sumo_rl_ref import measure_sumo_rl

    return measure_sumo_rl(str(scenario.net), str(scenario.routes[0]), scenario.begin_s, seconds, seed)


def _measure_vec(config: EnvConfig, workers: int, vec_steps: int, seed: int) -> dict[str, Any]:
    from trafficai.control.rl.vec_env import SharedPolicyVecEnv

    env = SharedPolicyVecEnv(config, workers)
    rng = np.random.default_rng(seed)
    try:
        env.reset()
        start = time.perf_counter()
        for _ in range(vec_steps):
            env.step_async(rng.integers(0, env.n_actions, env.num_envs))
            env.step_wait()
        elapsed = time.perf_counter() - start
    finally:
        env.close()
    steps = vec_steps * workers  # simulation decisions (each advances every signal of one simulation)
    return {
        "workers": workers,
        "steps": steps,
        "seconds": elapsed,
        "steps_per_s": steps / elapsed,
        "agent_steps_per_s": steps * env.n_signals / elapsed,
    }


def _fresh(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def bench_rl(
    scenario_name: str = "grid4x4",
    seconds: float | None = None,
    repeat: int = DEFAULT_REPEAT,
    envs: Sequence[int] = (1, 2),
    resco: str | None = None,
    seed: int = 1,
    progress: Progress | None = None,
) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="trafficai-bench-rl-"))
    try:
        return _bench(
            bench_inputs(scenario_name, resco, folder), seconds, repeat, envs, resco, seed, progress
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median throughput, with every run's figures and their spread beside it."""
    rates = [r["steps_per_s"] for r in runs]
    middle = sorted(runs, key=lambda r: r["steps_per_s"])[(len(runs) - 1) // 2]
    row = {**middle, "all_steps_per_s": rates, "steps_per_s": Spread.of(rates).median}
    row["steps_per_s_spread"] = Spread.of(rates).as_dict()
    if all("cpu_s" in r for r in runs):
        row["cpu_s_spread"] = Spread.of([r["cpu_s"] for r in runs]).as_dict()
    return row


def _bench(
    scenario: Scenario,
    seconds: float | None,
    repeat: int,
    envs: Sequence[int],
    resco: str | None,
    seed: int,
    progress: Progress | None,
) -> dict[str, Any]:
    from trafficai.sim.sumo_rl_ref import sumo_rl_available, sumo_rl_version

    horizon = seconds or scenario.duration_s
    say = progress or (lambda _msg: None)
    have_sumo_rl = sumo_rl_available()
    config = EnvConfig(scenario=str(scenario.source), episode_s=horizon, seed=seed)
    vec_steps = int(horizon // 5)
    variants: dict[str, tuple[str, Callable[[], dict[str, Any]]]] = {
        "trafficai": ("trafficai ParallelEnv", lambda: _fresh(_measure_ours, scenario, horizon, seed))
    }
    if have_sumo_rl:
        variants["sumo_rl"] = (
            "sumo-rl SumoEnvironment",
            lambda: _fresh(_measure_sumo_rl, scenario, horizon, seed),
        )
    for workers in envs:
        variants[f"vec{workers}"] = (
            f"trafficai VecEnv, {workers} simulation process(es)",
            partial(_fresh, _measure_vec, config, workers, vec_steps, seed),
        )
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    for name in interleaved_order(list(variants), repeat):  # fresh process each, A B C A B C ...
        label, measure = variants[name]
        say(f"{label}, run {len(runs[name]) + 1}/{max(1, repeat)}")
        runs[name].append(measure())
    ours = runs["trafficai"]
    result: dict[str, Any] = {
        "scenario": scenario.name.removesuffix("-bench"),
        "resco": resco,
        "seconds": horizon,
        "delta_time_s": 5,
        "repeat": max(1, repeat),
        "agents": ours[0]["agents"],
        "trafficai": _median_run(ours),
        "sumo_rl_available": have_sumo_rl,
        "sumo_rl_version": sumo_rl_version() if have_sumo_rl else None,
        "sumo_rl": None,
        "ratio_vs_sumo_rl": None,
        "ratios": {},
    }
    if have_sumo_rl:
        theirs = runs["sumo_rl"]
        result["sumo_rl"] = _median_run(theirs)
        # same steps on both sides: a throughput ratio is the inverse ratio of the times
        vs = {
            "wall": ratio_spread([t["seconds"] for t in theirs], [o["seconds"] for o in ours]).as_dict(),
            "cpu": ratio_spread([t["cpu_s"] for t in theirs], [o["cpu_s"] for o in ours]).as_dict(),
        }
        result["ratios"]["vs_sumo_rl"] = vs
        result["ratio_vs_sumo_rl"] = vs["wall"]["median"]
    result["scaling"] = _scaling(runs, envs)
    return result


def _scaling(runs: dict[str, list[dict[str, Any]]], envs: Sequence[int]) -> list[dict[str, Any]]:
    """One row per process count, speedups per repetition against the first count's run."""
    if not envs:
        return []
    base = runs[f"vec{envs[0]}"]
    rows = []
    for workers in envs:
        mine = runs[f"vec{workers}"]
        row = _median_run(mine)
        row["agent_steps_per_s"] = Spread.of([r["agent_steps_per_s"] for r in mine]).median
        speedup = ratio_spread([r["steps_per_s"] for r in mine], [b["steps_per_s"] for b in base])
        row["speedup"], row["speedup_spread"] = speedup.median, speedup.as_dict()
        rows.append(row)
    return rows
