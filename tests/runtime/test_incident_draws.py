"""No closure or block stops the simulation: on every shipped scenario and on a configuration
nobody here wrote (built by SUMO's own tools), a random lane closed, a random edge closed and a
random lane blocked (seeded draws), the run goes on for ten simulated minutes after the last one.

The default suite draws once per network; ``-m slow`` draws twelve times per network.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.support.third_party import build_third_party
from trafficai.config import IncidentSection, RunConfig
from trafficai.core.scenario import available_scenarios, resolve_scenario
from trafficai.runtime.session import run_headless
from trafficai.sim.net_loader import lane_geometry, read_net

pytestmark = pytest.mark.sumo

TEN_MINUTES_S = 600.0
# refusals a random draw may legitimately meet: a junction stub too short to stand on, or a lane
# the drawn edge closure closed already
EXPECTED_REFUSALS = ("too short to block", "is closed already")
NETWORKS = [*available_scenarios(), "third-party"]


@pytest.fixture(scope="module")
def third_party(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(build_third_party(tmp_path_factory.mktemp("town")))


def _draw(lanes: tuple[str, ...], edges: list[str], seed: int) -> tuple[IncidentSection, ...]:
    rng = random.Random(seed)
    at = [float(rng.randint(30, 120)) for _ in range(3)]
    return (
        IncidentSection(kind="close-lane", target=rng.choice(lanes), at=at[0]),
        IncidentSection(kind="close-edge", target=rng.choice(edges), at=at[1]),
        IncidentSection(kind="block-lane", target=rng.choice(lanes), at=at[2], duration=rng.uniform(60, 400)),
    )


def _runs_on(scenario: str, draws: range) -> None:
    geometry = lane_geometry(read_net(resolve_scenario(scenario).net))
    edges = sorted(set(geometry.edges))
    for seed in draws:
        incidents = _draw(geometry.ids, edges, seed)
        end_s = max(i.at for i in incidents) + TEN_MINUTES_S
        what = f"{scenario}, seed {seed}: {', '.join(i.describe() for i in incidents)}"
        result = run_headless(RunConfig(scenario=scenario, end_s=end_s, incidents=incidents))
        assert result.kpis["arrived"] > 0, what
        started = [
            e for e in result.events if e.kind == "incident" and ": " in e.message and "INC-" in e.message
        ]
        refused = [e.message for e in result.events if e.kind == "refused"]
        assert all(any(r in m for r in EXPECTED_REFUSALS) for m in refused), f"{what}: {refused}"
        assert len(started) + len(refused) >= 3, what
        assert not [e for e in result.events if e.severity == "alarm"], what


def _scenario(name: str, third_party: str) -> str:
    return third_party if name == "third-party" else name


@pytest.mark.parametrize("network", NETWORKS)
def test_one_random_closure_and_block_per_network(network: str, third_party: str) -> None:
    _runs_on(_scenario(network, third_party), range(1))


@pytest.mark.slow
@pytest.mark.parametrize("network", NETWORKS)
def test_many_random_closures_and_blocks_per_network(network: str, third_party: str) -> None:
    _runs_on(_scenario(network, third_party), range(1, 13))


def test_the_third_party_configuration_is_what_it_claims(third_party: str) -> None:
    text = (Path(third_party).parent / "town.net.xml").read_text(encoding="utf-8")
    assert 'allow="pedestrian"' in text and 'allow="bicycle"' in text and "<tlLogic" in text
    assert "trucks.trips.xml" in Path(third_party).read_text(encoding="utf-8")
