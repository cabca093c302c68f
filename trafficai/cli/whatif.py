"""``trafficai whatif``: branches forked from one moment of a run, compared by KPIs."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from trafficai.cli.launch import resolve_launch
from trafficai.cli.output import err, out, print_json
from trafficai.errors import ConfigError

KPI_COLUMNS = ("mean_delay_s", "mean_waiting_s", "throughput_veh", "mean_queue_veh", "teleports")


def whatif(
    scenario: Annotated[str, typer.Argument(help="Scenario name, folder or .sumocfg")],
    at: Annotated[float, typer.Option("--at", help="Fork time, simulated seconds from the scenario's begin")],
    branch: Annotated[
        list[str] | None,
        typer.Option(
            help="controller=NAME[:SIG,..] | incident=close-lane|close-edge|block-lane:TARGET | demand=F"
        ),
    ] = None,
    horizon: Annotated[
        float, typer.Option(help="Simulated seconds every branch runs after the fork")
    ] = 900.0,
    controller: Annotated[
        str | None, typer.Option(help="The run's controller (default: the scenario's)")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="SUMO random seed")] = None,
    seeds: Annotated[int, typer.Option(help="Repeat for this many seeds (seed, seed+1, ...)")] = 1,
    rerun: Annotated[
        bool, typer.Option(help="Also run every branch as a full re-run (ranking check)")
    ] = False,
    jobs: Annotated[int, typer.Option(help="Parallel branch processes (nice 10)")] = 2,
    method: Annotated[
        str,
        typer.Option(
            help="fork: branches are fork()ed copies of the running simulation (Linux, libsumo); "
            "state: each loads SUMO's saved state; both: measure the two side by side"
        ),
    ] = "fork",
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object on stdout")] = False,
) -> None:
    """Fork K branches from time T of a run (SUMO state with its RNG), run them in parallel for the
    horizon and compare their KPIs with the unchanged branch and the uninterrupted run; every
    branch is saved in the run store."""
    from trafficai.core.scenario import resolve_scenario
    from trafficai.runtime.whatif import parse_branch
    from trafficai.runtime.whatif_run import fork_and_compare, save_to_store
    from trafficai.storage import RunStore

    if method not in ("fork", "state", "both"):
        raise ConfigError(f"--method {method!r}: expected fork, state or both")
    specs = [parse_branch(b) for b in branch or []]
    base = resolve_launch(scenario, {"controller": controller, "sim": {"seed": seed}})
    resolved = resolve_scenario(scenario)
    name = base.controller or resolved.default_controller
    at_s = resolved.begin_s + at
    results = []
    with RunStore() as store:
        for k in range(max(1, seeds)):
            config = base.model_copy(update={"sim": base.sim.model_copy(update={"seed": base.sim.seed + k})})
            first = "state" if method == "state" else "fork"
            result = fork_and_compare(config, resolved, name, at_s, horizon, specs, jobs, rerun, first)
            if method == "both":
                result["state"] = side_by_side(
                    fork_and_compare(config, resolved, name, at_s, horizon, specs, jobs, False, "state"),
                    result,
                )
            result["run_ids"] = save_to_store(store, resolved, name, result)
            results.append(result)
    summary: dict[str, Any] = dict(results[0])
    if len(results) > 1:
        summary["seeds"] = results
        taus = [r["kendall_tau"] for r in results if r.get("kendall_tau") is not None]
        summary["kendall_tau_mean"] = round(sum(taus) / len(taus), 3) if taus else None
        errors = [
            r["unchanged_branch_delay_error"]
            for r in results
            if r["unchanged_branch_delay_error"] is not None
        ]
        summary["unchanged_branch_delay_error_max"] = max(errors) if errors else None
        summary["wall_s_mean"] = round(sum(r["wall_s"] for r in results) / len(results), 2)
        if method == "both":
            summary["state_wall_s_mean"] = round(sum(r["state"]["wall_s"] for r in results) / len(results), 2)
            state_errors = [
                r["state"]["unchanged_branch_delay_error"]
                for r in results
                if r["state"]["unchanged_branch_delay_error"] is not None
            ]
            summary["state_unchanged_branch_delay_error_max"] = max(state_errors) if state_errors else None
    if json_out:
        print_json(summary)
        return
    for result in results:
        _table(result)
    for result in results:
        for row in result["branches"]:
            if row.get("error"):
                err.print(f"[red]branch {row['branch']}: {row['error']}[/red]")


def side_by_side(state: dict[str, Any], fork: dict[str, Any]) -> dict[str, Any]:
    """The state-file method's figures beside the fork method's (same seed, same branches)."""
    return {
        "wall_s": state["wall_s"],
        "branches_cpu_s": state["branches_cpu_s"],
        "unchanged_branch_delay_error": state["unchanged_branch_delay_error"],
        "branches": state["branches"],
        "wall_ratio_state_to_fork": round(state["wall_s"] / fork["wall_s"], 2) if fork["wall_s"] else None,
    }


def _table(result: dict[str, Any]) -> None:
    out.print(
        f"seed {result['seed']}: fork at {result['at_s']:g} s, horizon {result['horizon_s']:g} s, "
        f"branches {result['wall_s']} s wall; unchanged vs uninterrupted delay error "
        f"{result['unchanged_branch_delay_error']}"
        + (f"; Kendall tau {result['kendall_tau']}" if "kendall_tau" in result else "")
        + f" ({result['method']})"
    )
    state = result.get("state")
    if state:
        out.print(
            f"  state files: branches {state['wall_s']} s wall "
            f"({state['wall_ratio_state_to_fork']}x the fork's), "
            f"unchanged delay error {state['unchanged_branch_delay_error']}"
        )
    out.print(f"{'branch':>36} " + " ".join(f"{c:>15}" for c in KPI_COLUMNS))
    rows = [{"branch": "(uninterrupted)", "kpis": result["uninterrupted"]}, *result["branches"]]
    for row in rows:
        k = row["kpis"]
        cells = " ".join(f"{k[c]:>15.2f}" if c in k else f"{'-':>15}" for c in KPI_COLUMNS)
        out.print(f"{row['branch'][:36]:>36} {cells}")


def register(app: typer.Typer) -> None:
    app.command("whatif")(whatif)
