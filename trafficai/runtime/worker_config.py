"""How to run the live simulation: a :class:`~trafficai.config.RunConfig` plus the live-only settings.

Everything a headless run also has (scenario, controller, seed, demand, teleport time, safety,
decision interval, bin length) comes from ``run``, so a GUI run is recorded with the same config
tree as a headless one.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from trafficai.config import RunConfig, SimConfig
from trafficai.runtime.device_settings import DeviceNetworkSettings

_SIM_KEYS = {"seed": "seed", "demand_scale": "demand_scale", "time_to_teleport": "time_to_teleport"}
_RUN_KEYS = ("controller", "decision_interval_s", "bin_s", "safety", "signals", "end_s")


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    run: RunConfig
    speed: float | None = 1.0  # real-time factor; None: as fast as possible
    playing: bool = True
    frames: bool = True
    record: bool = True  # write the run to the run store
    store_path: str | None = None  # None: the default store
    user: str = ""
    start_at_s: float | None = None  # jump here right after loading
    kpi_interval_s: float = 5.0
    max_fps: float = 30.0
    frame_budget: float = 0.2  # at most this share of the worker's time goes into frames
    sumo_extra: tuple[str, ...] = ()  # user-supplied SUMO arguments
    max_depart_delay_s: float | None = None
    warnings: bool = True  # False: SUMO prints no warnings (none become events)
    nice: int = 5  # the window's process wins the CPU when the two compete: it never stutters
    log_level: str = "INFO"
    save_state_every_s: float = 300.0  # SUMO saves a resume point this often (simulated s; 0: never)
    devices: DeviceNetworkSettings | None = None  # the detectors as connected devices (None: none)
    # automatic incident detection (alarms as events): off unless asked for, because its false-alarm
    # rate is measured on corridor only (docs/benchmarks.md) and other nets' loops can cry wolf
    detect_incidents: bool = False

    @classmethod
    def for_scenario(cls, scenario: str, **kwargs: Any) -> WorkerConfig:
        """A config from keyword arguments named as before the RunConfig moved in (``controller``,
        ``seed``, ``demand_scale``, ``time_to_teleport``, ``safety``, ``decision_interval_s``,
        ``bin_s``, and the live fields): for tests, the bench and ``gui.app.main``."""
        sim = {_SIM_KEYS[k]: kwargs.pop(k) for k in list(kwargs) if k in _SIM_KEYS}
        run: dict[str, Any] = {k: kwargs.pop(k) for k in list(kwargs) if k in _RUN_KEYS}
        if run.get("controller") is None:
            run["controller"] = ""  # the scenario's default
        if run.get("safety") is None:
            run.pop("safety", None)
        unknown = set(kwargs) - {f.name for f in fields(cls)}
        if unknown:
            raise TypeError(f"unknown WorkerConfig option(s): {', '.join(sorted(unknown))}")
        return cls(RunConfig(scenario=scenario, sim=SimConfig(**sim), **run), **kwargs)

    @property
    def scenario(self) -> str:
        return self.run.scenario

    def with_scenario(self, scenario: str) -> WorkerConfig:
        """The same settings on another scenario, with that scenario's default controller and no
        start time."""
        run = self.run.model_copy(update={"scenario": scenario, "controller": ""})
        return replace(self, run=run, start_at_s=None)
