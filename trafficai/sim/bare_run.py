"""SUMO with nothing of trafficai on top: the references ``trafficai bench sim`` compares against.

Here, at the SUMO seam, so that the benchmarks above build no SUMO command line themselves.
"""

from __future__ import annotations

import subprocess

from trafficai.core.scenario import Scenario
from trafficai.errors import SimulationError
from trafficai.sim.factory import open_backend
from trafficai.sim.sumo_command import SumoOptions, sumo_args, sumo_binary


def run_bare_binary(scenario: Scenario, options: SumoOptions) -> None:
    """The ``sumo`` binary on the scenario with ``options`` (no output files): the physical limit."""
    proc = subprocess.run(
        [str(sumo_binary("sumo")), *sumo_args(scenario, options)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
        raise SimulationError(f"bare sumo failed on {scenario.source}: {last}")


def step_through(scenario: Scenario, options: SumoOptions, *, vehicles: bool) -> int:
    """Open the libsumo backend and step it to the end reading nothing; returns the steps taken.

    ``vehicles=False``: libsumo stepping alone (the ceiling of any controller); ``True``: with every
    vehicle subscribed, what SUMO itself spends evaluating subscriptions before a value is read.
    """
    backend = open_backend(scenario, options, vehicles=vehicles)
    try:
        advance, end = backend.advance, backend.end_step
        while backend.step < end:
            advance()
        return backend.step
    finally:
        backend.close()
