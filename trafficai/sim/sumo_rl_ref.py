"""sumo-rl's ``SumoEnvironment`` as a reference for ``trafficai bench rl`` (optional package).

sumo-rl drives SUMO through traci / libsumo itself, so it lives at the SUMO seam. It needs
``SUMO_HOME`` and ``LIBSUMO_AS_TRACI`` in the environment *before* it is imported; call
:func:`measure_sumo_rl` in a fresh process (the bench does), never in one that runs trafficai's
own simulation (libsumo holds one simulation per process).
"""

from __future__ import annotations

import importlib.util
import os
import time
from typing import Any

import numpy as np

from trafficai.sim.sumo_command import sumo_home


def sumo_rl_available() -> bool:
    return importlib.util.find_spec("sumo_rl") is not None


def sumo_rl_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sumo-rl")
    except PackageNotFoundError:
        return ""


def measure_sumo_rl(
    net: str,
    routes: str,
    begin_s: float,
    seconds: float,
    seed: int,
    delta_time: int = 5,
    time_to_teleport: float = 300.0,
) -> dict[str, Any]:
    """Random actions for one episode of ``SumoEnvironment(single_agent=False)`` over libsumo.

    Steps per second count ``step()`` calls (each advances every agent by ``delta_time``) after
    ``reset()``, with sumo-rl's defaults otherwise (default observation and diff-waiting-time).
    """
    os.environ.setdefault("SUMO_HOME", str(sumo_home()))
    os.environ["LIBSUMO_AS_TRACI"] = "1"
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):  # sumo-rl prints a banner on import
        from sumo_rl import SumoEnvironment

    env = SumoEnvironment(
        net_file=net,
        route_file=routes,
        single_agent=False,
        delta_time=delta_time,
        begin_time=int(begin_s),
        num_seconds=int(seconds),
        sumo_seed=seed,
        sumo_warnings=False,
        time_to_teleport=int(time_to_teleport),
        use_gui=False,
    )
    rng = np.random.default_rng(seed)
    observations = env.reset()
    start, cpu_start = time.perf_counter(), time.process_time()
    steps = 0
    done = False
    while not done:
        actions = {ts: int(rng.integers(env.action_spaces(ts).n)) for ts in observations}
        observations, _rewards, dones, _info = env.step(actions)
        steps += 1
        done = bool(dones["__all__"])
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    n_agents = len(env.ts_ids)
    obs_size = int(env.observation_spaces(env.ts_ids[0]).shape[0])
    env.close()
    return {
        "steps": steps,
        "seconds": elapsed,
        "cpu_s": cpu,
        "steps_per_s": steps / elapsed,
        "agents": n_agents,
        "obs_size": obs_size,
    }
