"""The worker's command table: one handler per command type, registered once."""

from __future__ import annotations

import typing

import pytest

from trafficai.errors import TrafficAIError
from trafficai.runtime import commands as c
from trafficai.runtime.handlers import HANDLERS, handler_for, handles


def test_every_command_type_has_exactly_one_handler() -> None:
    command_types = set(typing.get_args(c.Command))
    # issue 9: AcknowledgeAlarm, Inspect, MarkDetector, Resume; issue 13: ForkWhatIf;
    # issue 12: InjectFault, ClearFault
    assert len(command_types) == 26
    assert set(HANDLERS) == command_types
    assert len(set(map(id, HANDLERS.values()))) == len(HANDLERS)  # no handler serves two types


def test_a_second_handler_for_a_type_is_refused_at_registration() -> None:
    with pytest.raises(TypeError, match="Play has a handler already"):
        handles(c.Play)(lambda worker, command: None)
    assert HANDLERS[c.Play].__name__ == "play"


def test_an_unknown_command_is_refused_with_its_name() -> None:
    class Dance:
        pass

    with pytest.raises(TrafficAIError, match="unknown command Dance"):
        handler_for(Dance())  # type: ignore[arg-type]


def test_an_acknowledgement_is_recorded_as_an_event_naming_who() -> None:
    from trafficai.runtime.handlers import acknowledge_alarm

    class Recorder:
        def __init__(self) -> None:
            self.events: list[tuple[str, ...]] = []

        def event(self, severity: str, kind: str, message: str, object_id: str = "", user: str = "") -> None:
            self.events.append((severity, kind, message, user))

    worker = Recorder()
    acknowledge_alarm(
        worker, c.AcknowledgeAlarm("fallback@60.0/C", "ann", "controller rl missed its deadline")
    )  # type: ignore[arg-type]
    assert worker.events == [
        ("info", "ack", "ann acknowledged fallback@60.0/C: controller rl missed its deadline", "ann")
    ]
    with pytest.raises(TrafficAIError, match="name the alarm"):
        acknowledge_alarm(worker, c.AcknowledgeAlarm(" ", "ann"))  # type: ignore[arg-type]
