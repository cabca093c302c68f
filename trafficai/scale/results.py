"""The sweep's side of the run store (recording, resuming) and its summary per configuration."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from trafficai.runtime.session import resolved_config
from trafficai.scale.spec import SweepRun
from trafficai.scale.sweep import Outcome
from trafficai.storage import RunStore

SUMMARY_KPIS = ("mean_delay_s", "mean_waiting_s", "throughput_veh")
_ALL_RUNS = 1_000_000  # list_runs needs a limit; a store of more runs than this is not a use case


def record(store: RunStore, outcome: Outcome, spec_name: str) -> str:
    """Write one finished (or finally failed) run with its resolved config and sweep key."""
    from trafficai.core.scenario import resolve_scenario

    run = outcome.run
    scenario = resolve_scenario(run.config.scenario)
    controller = run.config.controller or scenario.default_controller
    config: dict[str, Any] = resolved_config(run.config, scenario, controller)
    config["sweep"] = {
        "spec": spec_name,
        "label": run.label,
        "config_hash": run.config_hash,
        "attempts": outcome.attempts,
        "node": outcome.node,
        "error": outcome.error,
    }
    run_id = store.create_run(scenario.name, controller, run.config.sim.seed, config)
    store.finish_run(run_id, outcome.kpis, "completed" if outcome.ok else "failed")
    outcome.run_id = run_id
    return run_id


def finished_in_store(store: RunStore) -> dict[str, tuple[str, dict[str, float]]]:
    """Completed sweep runs by config hash: (run id, KPIs), the newest of each."""
    found: dict[str, tuple[str, dict[str, float]]] = {}
    for summary in store.list_runs(_ALL_RUNS):  # newest first: the first seen of a hash wins
        key = summary.config.get("sweep", {}).get("config_hash")
        if summary.status == "completed" and isinstance(key, str) and key not in found:
            found[key] = (summary.id, summary.kpis)
    return found


def split_resumed(
    runs: Sequence[SweepRun], finished: dict[str, tuple[str, dict[str, float]]]
) -> tuple[list[SweepRun], list[Outcome]]:
    """The runs still to do, and outcomes for those the store already holds."""
    todo: list[SweepRun] = []
    done: list[Outcome] = []
    for run in runs:
        if run.config_hash in finished:
            run_id, kpis = finished[run.config_hash]
            done.append(Outcome(run, dict(kpis), attempts=0, run_id=run_id, resumed=True))
        else:
            todo.append(run)
    return todo, done


def summarize(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    """Mean and standard deviation of each KPI per configuration over its seeds, best (lowest
    mean delay) first; a configuration with a failed run says so and ranks last."""
    by_label: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        by_label.setdefault(outcome.run.label, []).append(outcome)
    rows: list[dict[str, Any]] = []
    for label, group in by_label.items():
        ok = [o for o in group if o.ok]
        row: dict[str, Any] = {"configuration": label, "runs": len(ok), "failed": len(group) - len(ok)}
        for kpi in SUMMARY_KPIS:
            values = [o.kpis[kpi] for o in ok if kpi in o.kpis]
            row[kpi] = round(statistics.fmean(values), 3) if values else None
            row[f"{kpi}_std"] = round(statistics.stdev(values), 3) if len(values) > 1 else 0.0
        rows.append(row)
    rows.sort(key=lambda r: (r["failed"] > 0, r["mean_delay_s"] is None, r["mean_delay_s"] or 0.0))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows
