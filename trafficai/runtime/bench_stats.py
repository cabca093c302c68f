"""Benchmark statistics that hold on a noisy, shared machine.

Two runs of the same binary minutes apart can differ by half (other jobs on the same cores), so a
ratio of two variants measured at different moments says little. Every benchmark here therefore
runs its variants *interleaved* (A B C A B C ...), takes one ratio per repetition — the variants of
one repetition ran seconds apart, under about the same load — and reports the median of those
ratios with their range. CPU time is reported beside wall time: it does not count the time the
process waited for a core, which is most of the noise on a loaded machine.
"""

from __future__ import annotations

import os
import resource
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

DEFAULT_REPEAT = 5


@dataclass(frozen=True, slots=True)
class Timing:
    """One measurement: wall-clock seconds and CPU seconds (user + system) it took."""

    wall_s: float
    cpu_s: float


@dataclass(frozen=True, slots=True)
class Spread:
    """Median and range of a handful of measurements."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            raise ValueError("a spread needs at least one value")
        return cls(statistics.median(values), min(values), max(values))

    def as_dict(self) -> dict[str, float]:
        return {"median": self.median, "low": self.low, "high": self.high}


def interleaved_order(variants: Sequence[str], repeat: int) -> list[str]:
    """``A B C A B C ...``: every repetition runs each variant once, in the same order."""
    return [name for _ in range(max(1, repeat)) for name in variants]


def process_cpu_seconds() -> float:
    """CPU seconds of this process (every thread) plus its waited-for children (a subprocess such as
    the bare ``sumo`` binary counts once it has exited)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def cpu_seconds_of(pid: int) -> float | None:
    """CPU seconds (user + system) of another running process, from ``/proc`` (Linux); ``None``
    where that cannot be read (another system, or the process is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # fields after the command name start at field 3 (state); utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(fn: Callable[[], object]) -> Timing:
    """Wall and CPU time of one call of ``fn``."""
    cpu0, wall0 = process_cpu_seconds(), time.perf_counter()
    fn()
    return Timing(time.perf_counter() - wall0, process_cpu_seconds() - cpu0)


def run_interleaved(
    variants: Mapping[str, Callable[[], object]],
    repeat: int = DEFAULT_REPEAT,
    progress: Callable[[str], None] | None = None,
) -> dict[str, list[Timing]]:
    """Time every variant ``repeat`` times in :func:`interleaved_order`; entry ``k`` of each list
    belongs to repetition ``k``."""
    timings: dict[str, list[Timing]] = {name: [] for name in variants}
    for name in interleaved_order(list(variants), repeat):
        if progress is not None:
            progress(f"{name}, run {len(timings[name]) + 1}/{max(1, repeat)}")
        timings[name].append(timed(variants[name]))
    return timings


def ratio_spread(numerator: Sequence[float], denominator: Sequence[float]) -> Spread:
    """Median and range of ``numerator[k] / denominator[k]`` over repetitions ``k``: each ratio
    compares measurements taken moments apart, never a fast moment of one with a slow of another."""
    if len(numerator) != len(denominator):
        raise ValueError(f"{len(numerator)} against {len(denominator)} repetitions")
    return Spread.of([a / b for a, b in zip(numerator, denominator, strict=True)])


def timing_spreads(timings: Sequence[Timing]) -> dict[str, dict[str, float]]:
    """``{"wall": spread, "cpu": spread}`` of one variant's repetitions (seconds)."""
    return {
        "wall": Spread.of([t.wall_s for t in timings]).as_dict(),
        "cpu": Spread.of([t.cpu_s for t in timings]).as_dict(),
    }


def timing_ratio(numerator: Sequence[Timing], denominator: Sequence[Timing]) -> dict[str, dict[str, float]]:
    """``{"wall": spread, "cpu": spread}`` of the per-repetition ratios of two variants."""
    return {
        "wall": ratio_spread([t.wall_s for t in numerator], [t.wall_s for t in denominator]).as_dict(),
        "cpu": ratio_spread([t.cpu_s for t in numerator], [t.cpu_s for t in denominator]).as_dict(),
    }
