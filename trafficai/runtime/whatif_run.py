"""``trafficai whatif``: a run to T that saves SUMO's state there and goes on uninterrupted to
T+horizon (the reference), then the branches forked from the state in parallel processes, and
optionally independent full re-runs of every branch (the change applied at T in a run from the
begin) to check that the branches rank the alternatives as the full re-runs do."""

from __future__ import annotations

import resource
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from trafficai.config import RunConfig
from trafficai.core.scenario import Scenario
from trafficai.errors import ConfigError
from trafficai.runtime.whatif import (
    UNCHANGED,
    BranchResult,
    BranchSpec,
    BranchTask,
    check_targets,
    kendall_tau,
    run_branch,
    run_branches,
)
from trafficai.runtime.whatif_fork import fork_supported, run_with_forks
from trafficai.sim.net_loader import lane_geometry, read_net
from trafficai.sim.state_files import saved_states
from trafficai.storage import RunStore

DELAY = "mean_delay_s"
METHODS = ("fork", "state")


def _state_at(prefix: Path, at_s: float) -> Path:
    for state in saved_states(prefix):
        if abs(state.time_s - at_s) < 1e-6:
            return state.path
    raise ConfigError(f"SUMO saved no state at {at_s:g} s (is --at before the run's end?)")


def fork_and_compare(
    config: RunConfig,
    scenario: Scenario,
    controller: str,
    at_s: float,
    horizon_s: float,
    specs: Sequence[BranchSpec],
    jobs: int = 2,
    rerun: bool = False,
    method: str = "fork",
) -> dict[str, Any]:
    """One seed: the reference run, the branches from it at ``at_s`` (the unchanged plan first) by
    ``method`` (``fork``: copies of the reference's process, ``whatif_fork``; ``state``: SUMO's
    saved state loaded in new processes), and with ``rerun`` the branches' full re-runs."""
    lanes = lane_geometry(read_net(scenario.net))
    check_targets(specs, set(lanes.ids), set(lanes.edges))
    if not scenario.begin_s < at_s < scenario.end_s:
        raise ConfigError(
            f"--at {at_s:g}: must be inside the scenario ({scenario.begin_s:g}-{scenario.end_s:g} s)"
        )
    all_specs = [BranchSpec(UNCHANGED), *[s for s in specs if s.text != UNCHANGED]]
    if method not in METHODS:
        raise ConfigError(f"what-if method {method!r}: expected one of {', '.join(METHODS)}")
    base = BranchTask(all_specs[0], config, scenario, at_s, horizon_s, None, controller)
    if method == "fork" and not fork_supported(config.sim.backend, config.sim.sumo_gui):
        method = "state"  # no fork() of a libsumo process here: branches load SUMO's saved state
    cpu0 = _children_cpu()
    if method == "fork":
        t0 = time.perf_counter()
        reference, branches, wall = run_with_forks(base, all_specs, jobs)
        reference_wall = time.perf_counter() - t0  # to T, then the horizon beside the branches
        if reference.error:
            raise ConfigError(f"the reference run failed: {reference.error}")
        tasks = [replace(base, spec=s) for s in all_specs]
    else:
        reference, branches, tasks, wall, reference_wall = _by_state(base, all_specs, jobs)
    out = _compare(base, reference, branches, wall, reference_wall)
    out["method"] = method
    # CPU of the branch processes (the reference runs in this one either way): load-independent
    out["branches_cpu_s"] = round(_children_cpu() - cpu0, 2)
    if rerun:
        reruns = run_branches([replace(t, state=None) for t in tasks], jobs)
        out["reruns"] = [_row(r) for r in reruns]
        ok = [i for i, (b, r) in enumerate(zip(branches, reruns, strict=True)) if not b.error and not r.error]
        out["kendall_tau"] = round(
            kendall_tau([branches[i].kpis[DELAY] for i in ok], [reruns[i].kpis[DELAY] for i in ok]), 3
        )
    return out


def _children_cpu() -> float:
    """User + system CPU seconds of this process's finished children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _by_state(
    base: BranchTask, all_specs: Sequence[BranchSpec], jobs: int
) -> tuple[BranchResult, list[BranchResult], list[BranchTask], float, float]:
    """The reference run saving SUMO's state at T, then every branch loading it in its own process."""
    at_s = base.at_s
    with tempfile.TemporaryDirectory(prefix="trafficai-whatif-") as tmp:
        prefix = Path(tmp) / "state"
        base = replace(base, save_state_to=prefix)
        t0 = time.perf_counter()
        reference = run_branch(base)
        reference_wall = time.perf_counter() - t0
        if reference.error:
            raise ConfigError(f"the reference run failed: {reference.error}")
        state = _state_at(prefix, at_s)
        tasks = [replace(base, spec=s, state=state, save_state_to=None) for s in all_specs]
        t1 = time.perf_counter()
        branches = run_branches(tasks, jobs)
        wall = time.perf_counter() - t1
    return reference, branches, tasks, wall, reference_wall


def _compare(
    base: BranchTask,
    reference: BranchResult,
    branches: list[BranchResult],
    wall: float,
    reference_wall: float,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "at_s": base.at_s,
        "horizon_s": base.horizon_s,
        "seed": base.config.sim.seed,
        "wall_s": round(wall, 2),
        "reference_wall_s": round(reference_wall, 2),
        "uninterrupted": reference.kpis,
        "branches": [_row(r) for r in branches],
    }
    unchanged = branches[0]
    ref_delay = reference.kpis.get(DELAY, 0.0)
    out["unchanged_branch_delay_error"] = (
        round(abs(unchanged.kpis[DELAY] - ref_delay) / ref_delay, 5)
        if not unchanged.error and ref_delay
        else None
    )
    return out


def _row(result: BranchResult) -> dict[str, Any]:
    row: dict[str, Any] = {"branch": result.branch, "kpis": result.kpis, "wall_s": result.wall_s}
    if result.error:
        row["error"] = result.error
    return row


def save_to_store(store: RunStore, scenario: Scenario, controller: str, result: dict[str, Any]) -> list[str]:
    """Every branch (and the uninterrupted reference) as a run of the store, tagged ``whatif``."""
    ids: list[str] = []
    rows = [{"branch": "uninterrupted", "kpis": result["uninterrupted"]}, *result["branches"]]
    for row in rows:
        config = {
            "whatif": {"branch": row["branch"], "at_s": result["at_s"], "horizon_s": result["horizon_s"]}
        }
        run_id = store.create_run(scenario.name, controller, int(result["seed"]), config)
        store.finish_run(run_id, row["kpis"], "failed" if row.get("error") else "completed")
        ids.append(run_id)
    return ids
