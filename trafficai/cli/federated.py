"""``trafficai federated``: train the portable signal policy across sites with Flower, beside
centralised and local-only training on the same budget."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from trafficai.cli.output import err, out, print_json
from trafficai.cli.parsing import choice_values
from trafficai.errors import ConfigError
from trafficai.extras import require_extra

METHODS = ("federated", "centralised", "local_only")


def _seeds(text: str) -> tuple[int, ...]:
    try:
        seeds = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise ConfigError(f"--eval-seeds {text!r}: comma-separated integers, e.g. 1,2,3") from None
    if not seeds:
        raise ConfigError("--eval-seeds: at least one seed")
    return seeds


def federated(
    sites: Annotated[list[str], typer.Argument(help="Training sites: SCENARIO[@DEMAND][#K/N] (>= 2)")],
    heldout: Annotated[
        list[str] | None, typer.Option("--heldout", help="A site no method trains on (repeatable)")
    ] = None,
    rounds: Annotated[int, typer.Option(help="Federated rounds (PPO updates for every method)")] = 10,
    steps: Annotated[int, typer.Option(help="Decision steps per site per round")] = 120,
    strategy: Annotated[
        str, typer.Option(help="fedavgm (FedAvg with server momentum, the default) or fedavg")
    ] = "fedavgm",
    weighting: Annotated[
        str,
        typer.Option(
            help="Weigh sites by their agent decisions, by its square root, or equally: "
            "decisions, sqrt-decisions or sites"
        ),
    ] = "decisions",
    server_momentum: Annotated[float, typer.Option(help="FedAvgM's server momentum")] = 0.5,
    local_minibatch: Annotated[
        int, typer.Option(help="PPO minibatch of a site's own updates (federated nodes, local-only)")
    ] = 256,
    prox_mu: Annotated[
        float, typer.Option(help="FedProx: proximal term mu/2 ||w - w_global||^2 in each site's PPO loss")
    ] = 0.0,
    keep_optimizer: Annotated[
        bool,
        typer.Option(
            "--keep-optimizer/--fresh-optimizer", help="Each site keeps its Adam state across rounds"
        ),
    ] = False,
    dp_clip: Annotated[
        float | None, typer.Option(help="Clip each site's update to this L2 norm (DP); noise: --dp-noise")
    ] = None,
    dp_noise: Annotated[float, typer.Option(help="Gaussian noise multiplier with --dp-clip")] = 0.0,
    eval_seeds: Annotated[str, typer.Option(help="SUMO seeds of the evaluation runs")] = "1,2",
    eval_end: Annotated[
        float | None, typer.Option(help="Simulated seconds per evaluation run (default: a training episode)")
    ] = None,
    methods: Annotated[str, typer.Option(help="Comma list of federated, centralised, local_only")] = ",".join(
        METHODS
    ),
    seed: Annotated[int, typer.Option(help="Learner seed (initial weights, PPO sampling)")] = 0,
    jobs: Annotated[int, typer.Option(help="Processes / Ray CPUs to use")] = 2,
    report_path: Annotated[Path | None, typer.Option("--out", help="Also write the JSON report here")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object on stdout")] = False,
) -> None:
    """Federated training across SITES (Flower's simulation engine: only model updates travel),
    compared with centralised and local-only training on the same number of environment steps,
    evaluated on every site and on --heldout sites."""
    require_extra("federated")
    require_extra("rl", ("torch", "stable_baselines3", "gymnasium"))
    from trafficai.federated.compare import Budget, CompareSettings, check_settings, compare, report
    from trafficai.federated.sites import inspect_site, parse_site

    chosen = choice_values(methods, "--methods", METHODS)
    if dp_noise < 0 or (dp_clip is not None and dp_clip <= 0):
        raise ConfigError("--dp-clip must be > 0 and --dp-noise >= 0")
    if steps < 8:
        raise ConfigError(f"--steps {steps}: at least 8 decision steps per round")
    settings = CompareSettings(
        budget=Budget(rounds=rounds, steps=steps),
        eval_seeds=_seeds(eval_seeds),
        eval_end_s=eval_end,
        strategy=strategy,
        weighting=weighting,
        server_momentum=server_momentum,
        local_minibatch=local_minibatch,
        prox_mu=prox_mu,
        keep_optimizer=keep_optimizer,
        dp_clip=dp_clip,
        dp_noise=dp_noise,
        learner_seed=seed,
        jobs=max(1, jobs),
        methods=chosen,
    )
    parsed = [parse_site(s) for s in sites]
    held = [parse_site(s) for s in heldout or []]
    check_settings(settings, len(parsed))
    texts = [s.text for s in parsed]
    overlap = [h.text for h in held if h.text in texts]
    if overlap:
        raise ConfigError(
            f"--heldout {overlap[0]} is also a training site: a held-out site is never trained on"
        )
    train_infos = [inspect_site(s) for s in parsed]
    held_infos = [inspect_site(s) for s in held]

    def stage(text: str) -> None:
        if not json_out:
            err.print(f"[dim]{text}[/dim]")

    with _federated_cluster("federated" in chosen, settings.jobs):
        payload = report(compare(train_infos, held_infos, settings, stage), settings)
    if report_path is not None:
        import json

        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    if json_out:
        print_json(payload)
        return
    _print(payload)


@contextmanager
def _federated_cluster(needed: bool, cpus: int) -> Iterator[None]:
    """Start the local Ray cluster of Flower's simulation here, not inside Flower's simulation
    thread: a start that fails is then one line and exit 1 (Flower's own ``ray.init`` fails in a
    thread its server app then waits on), and concurrent starts are serialised like every other
    command's (:func:`trafficai.scale.cluster.connect`). Flower shuts it down at the end."""
    if not needed:
        yield
        return
    from trafficai.scale.cluster import connect, driver_import_path_env, shutdown

    started = connect(None, cpus, driver_import_path_env())
    try:
        yield
    finally:
        if started:
            shutdown()


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _print(payload: dict[str, Any]) -> None:
    per_site: dict[str, dict[str, float]] = payload["per_site_delay_s"]
    methods = list(per_site)
    table = Table(title="mean delay (s/veh) per site, same budget for every method")
    table.add_column("site")
    for method in methods:
        table.add_column(method, justify="right")
    for site in [*payload["sites"], *payload["heldout_sites"]]:
        label = f"{site} (held out)" if site in payload["heldout_sites"] else site
        table.add_row(label, *(_fmt(per_site[m].get(site)) for m in methods))
    out.print(table)
    out.print(
        f"mean over training sites: federated {_fmt(payload['federated_delay_s'])}, centralised "
        f"{_fmt(payload['centralised_delay_s'])}, local-only {_fmt(payload['local_only_delay_s'])}"
    )
    if "federated_vs_centralised_pct" in payload:
        out.print(f"federated vs centralised: {payload['federated_vs_centralised_pct']:+.2f} %")
    if "heldout_federated_vs_local_pct" in payload:
        out.print(f"held out, federated vs local-only: {payload['heldout_federated_vs_local_pct']:+.2f} %")
    out.print(
        f"bytes per round {payload['bytes_per_round']:,.0f} (total {payload['bytes_total']:,}); "
        f"raw 30-s bins would be {payload['raw_bins_bytes_per_round']:,} per round "
        f"({payload['raw_bins_bytes_total']:,} in all)"
    )


def register(app: typer.Typer) -> None:
    app.command(name="federated")(federated)
