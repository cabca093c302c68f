"""Scripted incidents: the ``KIND:TARGET@T[+DURATION]`` syntax, a manifest's ``[[incidents]]``, and
the schedule applying them through the operator state (on the replay backend: no SUMO)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import DATA
from tests.support.fakes import backend as fake_backend
from trafficai.cli.launch import resolve_launch
from trafficai.config import IncidentSection, parse_incident
from trafficai.core.scenario import resolve_scenario
from trafficai.errors import ConfigError, ScenarioError
from trafficai.runtime.incident_schedule import IncidentSchedule
from trafficai.runtime.operator_state import OperatorState


def test_the_incident_syntax() -> None:
    assert parse_incident("close-lane:177_0@600+900") == IncidentSection(
        kind="close-lane", target="177_0", at=600.0, duration=900.0
    )
    edge = parse_incident("close-edge:A2B2@0:10:00")
    assert (edge.kind, edge.target, edge.at, edge.duration) == ("close-edge", "A2B2", 600.0, None)
    block = parse_incident("block-lane:E_in_0@1:30+5:00")
    assert (block.at, block.duration) == (90.0, 300.0)
    assert parse_incident("close-lane:a@b_0@60").target == "a@b_0"  # the last @ starts the time
    assert block.describe() == "block-lane:E_in_0@90+300"


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("close-lane:177_0", "the time is missing"),
        ("open-lane:177_0@60", "KIND one of close-lane, close-edge, block-lane"),
        ("close-lane:177_0@soon", "not a time: 'soon'"),
        ("close-lane:177_0@60+0", "duration"),
        ("close-lane:@60", "the time is missing"),
    ],
)
def test_a_bad_incident_is_one_clear_error(spec: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=None) as info:
        parse_incident(spec)
    assert needle in str(info.value) and spec in str(info.value)


def _manifest(tmp_path: Path, incidents: str) -> Path:
    tiny = DATA / "tiny"
    path = tmp_path / "scenario.toml"
    path.write_text(
        f'[scenario]\nname = "scripted"\nnet = "{tiny / "tiny.net.xml"}"\n'
        f'routes = ["{tiny / "tiny.rou.xml"}"]\n{incidents}',
        encoding="utf-8",
    )
    return path


def test_a_manifest_scripts_incidents_and_the_command_line_adds_to_them(tmp_path: Path) -> None:
    path = _manifest(
        tmp_path,
        '[[incidents]]\nkind = "close-edge"\ntarget = "N_in"\nat = 60\nduration = 120\nreason = "works"\n'
        '[[incidents]]\nkind = "block-lane"\ntarget = "E_in_0"\nat = 30\nposition = 40\n',
    )
    scenario = resolve_scenario(str(path))
    assert [(i.kind, i.target, i.reason) for i in scenario.incidents] == [
        ("close-edge", "N_in", "works"),
        ("block-lane", "E_in_0", ""),
    ]
    extra = parse_incident("close-lane:W_in_0@10").model_dump()
    config = resolve_launch(str(path), {"incidents": [extra]})
    assert [i.target for i in config.incidents] == ["N_in", "E_in_0", "W_in_0"]
    assert resolve_launch(str(path), {}).incidents == scenario.incidents


def test_a_manifest_incident_with_a_typo_names_the_field(tmp_path: Path) -> None:
    path = _manifest(tmp_path, '[[incidents]]\nkind = "close-edge"\ntarget = "N_in"\nwhen = 60\n')
    with pytest.raises(ScenarioError, match=r"scenario.toml: field 'incidents.0.when'"):
        resolve_scenario(str(path))


def _schedule(*specs: str) -> tuple[IncidentSchedule, list[tuple[str, str, str]]]:
    events: list[tuple[str, str, str]] = []

    def emit(severity: str, kind: str, message: str, object_id: str = "", user: str = "") -> None:
        events.append((severity, kind, message))

    operator = OperatorState(emit)
    return IncidentSchedule([parse_incident(s) for s in specs], operator), events


def test_the_schedule_starts_and_ends_incidents_at_their_time() -> None:
    backend = fake_backend([0] * 8, steps=60)
    schedule, events = _schedule("close-lane:l0_0@5+10", "block-lane:l1_0@3+20", "close-edge:l2@7")
    schedule.check(backend)
    seen: list[tuple[float, tuple[str, ...]]] = []
    while backend.step < backend.end_step:
        before = len(backend.actions)
        schedule.advance(backend)
        seen += [(backend.time_s, a) for a in backend.actions[before:]]
        backend.advance()
    assert seen == [
        (3.0, ("block", "l1_0", "50", "20")),  # the middle of the 100 m lane
        (5.0, ("lane", "l0_0", "closed")),
        (7.0, ("lane", "l2_0", "closed")),
        (15.0, ("lane", "l0_0", "open")),
    ]
    assert [i.target for i in schedule.operator.incidents.values()] == ["l1_0", "l2"]
    assert not schedule.pending and not schedule.running
    assert any("INC-2: lane closed l0_0 (scheduled)" in m for _, _, m in events)


def test_a_scheduled_incident_refused_is_a_warning_and_the_rest_goes_on() -> None:
    backend = fake_backend([0] * 8, steps=20)
    schedule, events = _schedule("close-edge:l0@2", "close-lane:l0_0@4", "close-lane:l3_0@6")
    while backend.step < backend.end_step:
        schedule.advance(backend)
        backend.advance()
    refused = [m for _, kind, m in events if kind == "refused"]
    assert refused == ["scheduled incident close-lane:l0_0@4 refused: l0_0 is closed already (INC-1)"]
    assert ("lane", "l3_0", "closed") in backend.actions


def test_an_incident_on_a_lane_the_network_lacks_is_refused_before_the_run() -> None:
    schedule, _ = _schedule("close-lane:l0_0@5", "close-edge:nowhere@10")
    with pytest.raises(ConfigError, match="incident close-edge:nowhere@10: fake has no edge 'nowhere'"):
        schedule.check(fake_backend([0] * 8, steps=5))
