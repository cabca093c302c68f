"""The one exception tree of trafficai.

Every error a user can cause or an external system can raise is wrapped at its seam into one of
these, with enough context (file, scenario, simulation time, device) to print a single clear line.
"""

from __future__ import annotations


class TrafficAIError(Exception):
    """Base of every error trafficai raises on purpose."""


class ConfigError(TrafficAIError):
    """A configuration value or manifest is invalid."""


class ScenarioError(TrafficAIError):
    """A scenario cannot be found, parsed or used."""


class SimulationError(TrafficAIError):
    """SUMO failed while loading or stepping, wrapped with scenario and time."""

    def __init__(self, message: str, *, scenario: str = "", time_s: float | None = None) -> None:
        where = []
        if scenario:
            where.append(f"scenario {scenario}")
        if time_s is not None:
            where.append(f"t={time_s:g}s")
        super().__init__(f"{message} ({', '.join(where)})" if where else message)
        self.scenario = scenario
        self.time_s = time_s


class ControllerError(TrafficAIError):
    """A controller is unknown, misconfigured, or failed."""


class SignalError(TrafficAIError):
    """A signal command is invalid (unknown signal, phase it does not have, ...)."""


class StoreError(TrafficAIError):
    """The run store cannot be opened, or a run is not in it."""


class ModelError(TrafficAIError):
    """A trained model is missing or incompatible with the scenario."""


class DependencyError(TrafficAIError):
    """Something a command needs is not installed: a Python extra or a system library."""


class AccessError(TrafficAIError):
    """A login failed, a user or role is unknown, or a user's role does not allow a command."""


class AuditError(TrafficAIError):
    """The audit log is broken (an edited, deleted, inserted or reordered row, a cut tail) or unreadable."""
