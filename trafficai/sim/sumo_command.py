"""Locating SUMO from the installed ``eclipse-sumo`` wheel and building its command line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from trafficai.core.scenario import Scenario
from trafficai.errors import SimulationError


def sumo_home() -> Path:
    """SUMO_HOME of the installed eclipse-sumo package (never a global installation)."""
    try:
        import sumo  # the eclipse-sumo wheel's package
    except ImportError as exc:  # pragma: no cover - the dependency is declared
        raise SimulationError("the eclipse-sumo package is not installed") from exc
    return Path(sumo.SUMO_HOME)


def sumo_binary(name: str = "sumo") -> Path:
    path = sumo_home() / "bin" / name
    if not path.is_file():
        raise SimulationError(f"SUMO binary not found: {path}")
    return path


@dataclass(frozen=True, slots=True)
class StateSaving:
    """SUMO saves its whole state (vehicles, signals, random number generators) every
    ``period_s`` simulated seconds as ``<prefix>_<time>.xml.gz``, keeping the last ``keep``."""

    prefix: Path
    period_s: float = 300.0
    keep: int = 2  # the newest may be cut short if SUMO dies while writing it

    def args(self) -> list[str]:
        return [
            "--save-state.period",
            f"{self.period_s:g}",
            "--save-state.period.keep",
            str(self.keep),
            "--save-state.prefix",
            str(self.prefix),
            "--save-state.suffix",
            ".xml.gz",
            "--save-state.rng",
            "true",
        ]


@dataclass(frozen=True, slots=True)
class SumoOptions:
    seed: int = 42
    end_s: float | None = None  # absolute simulation time; None: the scenario's end
    step_length_s: float | None = None
    time_to_teleport: float = 300.0
    demand_scale: float = 1.0
    tripinfo_path: Path | None = None
    statistics_path: Path | None = None
    warnings: bool = True  # False: SUMO prints no warnings (--no-warnings)
    message_log: Path | None = None  # SUMO's warnings and errors while running (--error-log)
    max_depart_delay_s: float | None = None  # vehicles waiting longer to depart are dropped
    # a route SUMO finds broken mid-run (a closure trafficai could not repair) lets the vehicle wait
    # and teleport instead of ending the simulation; invalid routes in the input are dropped with a
    # warning instead of failing the load
    ignore_route_errors: bool = True
    save_state: StateSaving | None = None  # periodic state files (the GUI worker's resume points)
    load_state: Path | None = None  # start from this state file (begin = the scenario's begin)
    extra: tuple[str, ...] = field(default_factory=tuple)  # user-supplied SUMO arguments only


def sumo_args(scenario: Scenario, options: SumoOptions) -> list[str]:
    """Arguments (without the binary) that run ``scenario`` the same way in every backend."""
    args: list[str] = []
    if scenario.sumocfg is not None:
        args += ["-c", str(scenario.sumocfg)]
    else:
        args += ["-n", str(scenario.net)]
        if scenario.routes:
            args += ["-r", ",".join(str(p) for p in scenario.routes)]
        if scenario.additional:
            args += ["-a", ",".join(str(p) for p in scenario.additional)]
    step = options.step_length_s or scenario.step_length_s
    end = options.end_s if options.end_s is not None else scenario.end_s
    args += [
        "--begin",
        f"{scenario.begin_s:g}",
        "--end",
        f"{end:g}",
        "--step-length",
        f"{step:g}",
        "--seed",
        str(options.seed),
        "--time-to-teleport",
        f"{options.time_to_teleport:g}",
        "--scale",
        f"{options.demand_scale:g}",
        "--no-step-log",
        "true",
        "--duration-log.disable",
        "true",
    ]
    if options.tripinfo_path is not None:
        args += [
            "--tripinfo-output",
            str(options.tripinfo_path),
            "--tripinfo-output.write-unfinished",
            "true",
            "--device.emissions.probability",
            "1",
        ]
    if options.statistics_path is not None:
        args += ["--statistic-output", str(options.statistics_path)]
    if not options.warnings:
        args += ["--no-warnings", "true"]
    if options.message_log is not None:
        args += ["--error-log", str(options.message_log)]
    if options.ignore_route_errors:
        args += ["--ignore-route-errors", "true"]
    if options.save_state is not None:
        args += options.save_state.args()
    if options.load_state is not None:
        args += ["--load-state", str(options.load_state)]
    if options.max_depart_delay_s is not None:
        args += ["--max-depart-delay", f"{options.max_depart_delay_s:g}"]
    args += list(options.extra)
    return args
