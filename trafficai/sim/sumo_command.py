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


def sumo_tool(name: str) -> Path:
    return sumo_home() / "tools" / name


@dataclass(frozen=True, slots=True)
class SumoOptions:
    seed: int = 42
    end_s: float | None = None  # absolute simulation time; None: the scenario's end
    step_length_s: float | None = None
    time_to_teleport: float = 300.0
    demand_scale: float = 1.0
    tripinfo_path: Path | None = None
    statistics_path: Path | None = None
    warnings: bool = True  # False: SUMO prints no warnings
    message_log: Path | None = None  # SUMO's warnings and errors mid-run (read by new_messages)
    max_depart_delay_s: float | None = None  # vehicles waiting longer to be inserted are dropped
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
    if options.max_depart_delay_s is not None:
        args += ["--max-depart-delay", f"{options.max_depart_delay_s:g}"]
    args += list(options.extra)
    return args
