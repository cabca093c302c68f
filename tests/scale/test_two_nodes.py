"""A real two-node Ray cluster on this machine (a head and one worker node, each its own raylet on
loopback): a sweep spreads over both nodes with the scenario files shipped in the job's runtime
environment, gives the serial results, and survives the worker node dying mid-sweep.

Marked ``cluster`` (not in the default run; ``.ci/run`` runs ``pytest -m cluster`` after
``make test``). The nodes are Ray's own ``cluster_utils.Cluster`` processes, started and stopped
by this module only.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.support import last_json, trafficai
from tests.conftest import DATA
from trafficai.cli.launch import resolve_launch
from trafficai.scale import results
from trafficai.scale import sweep as engine
from trafficai.scale.cluster import connect, shutdown
from trafficai.scale.shipping import stage
from trafficai.scale.spec import expand, load_spec
from trafficai.storage import RunStore

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("ray")]

TINY = DATA / "tiny"
FAST_FAILURE_DETECTION = {"health_check_period_ms": 500, "health_check_failure_threshold": 4}


@pytest.fixture(scope="module")
def two_nodes() -> Iterator[Any]:
    ray = pytest.importorskip("ray", reason="needs the scale extra")
    from ray.cluster_utils import Cluster

    if ray.is_initialized():
        pytest.skip("a Ray driver is already connected in this process (run -m cluster on its own)")
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "include_dashboard": False, "_system_config": FAST_FAILURE_DETECTION},
    )
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    yield cluster
    cluster.shutdown()


def _spec(tmp_path: Path, scenario: str, seeds: str, end_s: int) -> Path:
    spec = tmp_path / "spec.toml"
    spec.write_text(
        f'[sweep]\nscenarios = ["{scenario}"]\ncontrollers = ["fixed", "max-pressure"]\n'
        f"seeds = [{seeds}]\nend_s = {end_s}\n"
    )
    return spec


def test_a_sweep_runs_on_both_nodes_with_the_serial_results(two_nodes: Any, tmp_path: Path) -> None:
    spec = _spec(tmp_path, str(TINY / "scenario.toml"), "1, 2, 3", 600)
    proc = trafficai("sweep", str(spec), "--address", two_nodes.address, "--json", "--measure-serial")
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = last_json(proc)
    assert summary["ran"] == 6 and summary["failed"] == []
    assert len(summary["nodes"]) == 2  # type: ignore[arg-type]  # tasks observed on both node ids
    alive = {n["NodeID"] for n in _nodes(two_nodes)}
    assert set(summary["nodes"]) <= alive  # type: ignore[arg-type]
    assert summary["identical_to_serial"] is True


def _nodes(cluster: Any) -> list[dict[str, Any]]:
    import ray

    ray.init(address=cluster.address, log_to_driver=False)
    try:
        return [n for n in ray.nodes() if n["Alive"]]
    finally:
        ray.shutdown()


def _shipped_on_every_node(relative: str) -> set[bool]:
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    def present() -> bool:
        return Path(relative).is_file() and Path.cwd() != Path(__file__).parents[2]

    probe = ray.remote(num_cpus=1)(present)
    nodes = [n["NodeID"] for n in ray.nodes() if n["Alive"]]
    assert len(nodes) == 2
    refs = [probe.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n, soft=False)).remote() for n in nodes]
    return set(ray.get(refs))


def _kill_node(raylet_pid: int) -> None:
    """What a machine going down does to a node: its raylet and every worker it started, SIGKILLed
    (a raylet killed alone lets its running worker finish and return the result)."""
    import psutil

    raylet = psutil.Process(raylet_pid)
    for process in [*raylet.children(recursive=True), raylet]:
        with contextlib.suppress(psutil.NoSuchProcess):
            os.kill(process.pid, signal.SIGKILL)


def test_a_worker_node_dying_mid_sweep_loses_no_run(two_nodes: Any, tmp_path: Path) -> None:
    spec = _spec(tmp_path, "corridor", "1, 2, 3", 900)  # runs of seconds: a kill lands mid-run
    runs = expand(load_spec(spec), spec, resolve_launch)
    reference = engine.run_serially(runs)
    shipment = stage(run.config.scenario for run in runs)
    worker = next(iter(two_nodes.worker_nodes))
    raylet = worker.all_processes["raylet"][0].process
    assert connect(two_nodes.address, 1, shipment.runtime_env())
    shipped = shipment.rewrite(runs[0].config.scenario)
    assert shipped == "scenarios/0/scenario.toml"  # relative: the worker's cwd is the shipped folder
    assert _shipped_on_every_node(shipped) == {True}  # the job's working_dir, unpacked on each node
    killed: list[str] = []
    seen: list[str] = []

    def on_done(outcome: engine.Outcome) -> None:
        results.record(store, outcome, spec.name)
        seen.append(outcome.node)
        if not killed and worker.node_id in seen and outcome.node != worker.node_id:
            # the worker node is warm and busy with its next run when the head's comes back: it
            # goes down with that run in flight
            _kill_node(raylet.pid)
            killed.append(outcome.node)

    try:
        with RunStore() as store:
            outcomes = engine.run_on_ray(runs, on_done, shipment)
            stored = results.finished_in_store(store)
    finally:
        shutdown()
        shipment.cleanup()
        two_nodes.remove_node(worker, allow_graceful=False)
    assert killed and all(o.ok for o in outcomes)
    assert any(o.attempts == 2 for o in outcomes)  # the run lost with the node ran again
    assert set(stored) == {r.config_hash for r in runs}  # every finished run is in the store
    assert engine.identical(outcomes, reference)
