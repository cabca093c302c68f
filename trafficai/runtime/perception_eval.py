"""``trafficai vision loop-eval``: what imperfect perception costs the controllers.

Each controller runs on the same scenario, seeds and horizon under every observation source:
``oracle`` (the simulator's lane state), ``loops`` (the scenario's detectors), ``cameras`` (the
perception pipeline) and the camera degradations: ``drop10`` (10 % of frames lost), ``offline1``
(the first control camera, in id order, down from the start; its lanes read the loops),
``offline1-bare`` (the same with no loops to fall back on: its lanes read empty) and ``night``
(rendered at night; only meaningful with a real detector runtime: ground-truth boxes do not depend
on light). Each (controller, source, seed) is one headless run; the table gives the mean delay over
seeds and its ratio to the same controller's oracle mean, with the range of the per-seed ratios.
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trafficai.config import ObserveSection, RunConfig, SimConfig
from trafficai.errors import ConfigError
from trafficai.runtime.session import run_headless

Progress = Callable[[int, int, str], None]
SOURCES = ("oracle", "loops", "cameras")
DEGRADATIONS = ("drop10", "offline1", "offline1-bare", "night")
VARIANTS = SOURCES + DEGRADATIONS


def variant_observe(variant: str, runtime: str, fps: float) -> ObserveSection:
    """The observation settings of one variant."""
    if variant not in VARIANTS:
        raise ConfigError(f"unknown source {variant!r} (choose from {', '.join(VARIANTS)})")
    if variant in ("oracle", "loops"):
        return ObserveSection(source=variant)  # type: ignore[arg-type]
    cameras = ObserveSection(source="cameras", camera_runtime=runtime, camera_fps=fps)  # type: ignore[arg-type]
    variants: dict[str, dict[str, Any]] = {
        "cameras": {},
        "drop10": {"camera_drop_rate": 0.1},
        "offline1": {"camera_offline_first": 1},
        "offline1-bare": {"camera_offline_first": 1, "camera_fallback": "none"},
        "night": {"camera_light": "night"},
    }
    return cameras.model_copy(update=variants[variant])


@dataclass(frozen=True, slots=True)
class LoopEvalPlan:
    scenario: str
    controllers: tuple[str, ...]
    seeds: tuple[int, ...]
    end_s: float
    variants: tuple[str, ...] = (*SOURCES, "drop10", "offline1-bare")
    degraded_controllers: tuple[str, ...] = ()  # degradations only for these; empty: all
    camera_runtime: str = "truth"
    camera_fps: float = 5.0

    def tasks(self) -> list[tuple[str, str, int]]:
        out = []
        for controller in self.controllers:
            for variant in self.variants:
                degraded = variant in DEGRADATIONS
                if degraded and self.degraded_controllers and controller not in self.degraded_controllers:
                    continue
                out += [(controller, variant, seed) for seed in self.seeds]
        return out


def run_variant(plan: LoopEvalPlan, controller: str, variant: str, seed: int) -> tuple[str, str, int, float]:
    config = RunConfig(
        scenario=plan.scenario,
        controller=controller,
        end_s=plan.end_s,
        sim=SimConfig(seed=seed),
        observe=variant_observe(variant, plan.camera_runtime, plan.camera_fps),
    )
    return controller, variant, seed, float(run_headless(config).kpis["mean_delay_s"])


def _run_key(plan: LoopEvalPlan, controller: str, variant: str, seed: int) -> str:
    return json.dumps(
        [plan.scenario, controller, variant, seed, plan.end_s, plan.camera_runtime, plan.camera_fps]
    )


def _recorded(path: Path | None) -> dict[str, float]:
    """Runs already in the record file (one JSON object per line; a torn last line is skipped)."""
    if path is None or not path.is_file():
        return {}
    done: dict[str, float] = {}
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
            done[str(row["key"])] = float(row["mean_delay_s"])
        except (ValueError, KeyError, TypeError):
            continue
    return done


def loop_eval(
    plan: LoopEvalPlan, jobs: int = 1, progress: Progress | None = None, record: Path | None = None
) -> dict[str, Any]:
    """Every run of the plan, then the summary (means, ratios to oracle and to loops). With
    ``record``, each finished run is appended to that file and runs already in it are not run
    again (an interrupted evaluation resumes)."""
    for variant in plan.variants:
        variant_observe(variant, plan.camera_runtime, plan.camera_fps)  # refuse a typo up front
    if "oracle" not in plan.variants:
        raise ConfigError("the sources must include oracle (ratios are relative to it)")
    done = _recorded(record)
    delays: dict[tuple[str, str, int], float] = {}
    tasks = []
    for task in plan.tasks():
        key = _run_key(plan, *task)
        if key in done:
            delays[task] = done[key]
        else:
            tasks.append(task)

    def keep(c: str, v: str, s: int, d: float) -> None:
        delays[(c, v, s)] = d
        if record is not None:
            with record.open("a") as f:
                f.write(json.dumps({"key": _run_key(plan, c, v, s), "mean_delay_s": d}) + "\n")

    if jobs <= 1:
        for k, task in enumerate(tasks):
            keep(*run_variant(plan, *task))
            if progress is not None:
                progress(k + 1, len(tasks), f"{task[0]} · {task[1]} · seed {task[2]}")
    else:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as pool:
            futures = [pool.submit(run_variant, plan, *task) for task in tasks]
            for k, future in enumerate(as_completed(futures)):
                c, v, s, d = future.result()
                keep(c, v, s, d)
                if progress is not None:
                    progress(k + 1, len(tasks), f"{c} · {v} · seed {s}")
    return summarise(plan, delays)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _std(values: Sequence[float]) -> float:
    if len(values) < 2:
        return 0.0
    m = _mean(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))


def summarise(plan: LoopEvalPlan, delays: dict[tuple[str, str, int], float]) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for controller in plan.controllers:
        oracle = [delays[(controller, "oracle", s)] for s in plan.seeds]
        loops = [delays.get((controller, "loops", s)) for s in plan.seeds]
        for variant in plan.variants:
            values = [delays.get((controller, variant, s)) for s in plan.seeds]
            if any(v is None for v in values):
                continue
            got = [float(v) for v in values if v is not None]
            ratios = [g / o for g, o in zip(got, oracle, strict=True) if o > 0]
            row: dict[str, Any] = {
                "controller": controller,
                "source": variant,
                "mean_delay_s": _mean(got),
                "std_delay_s": _std(got),
                "per_seed_delay_s": got,
                "ratio_to_oracle": _mean(got) / _mean(oracle) if _mean(oracle) > 0 else None,
                "seed_ratio_min": min(ratios) if ratios else None,
                "seed_ratio_max": max(ratios) if ratios else None,
            }
            if all(v is not None for v in loops):
                loop_mean = _mean([float(v) for v in loops if v is not None])
                row["ratio_to_loops"] = _mean(got) / loop_mean if loop_mean > 0 else None
            rows.append(row)
    return {
        "scenario": plan.scenario,
        "seeds": list(plan.seeds),
        "end_s": plan.end_s,
        "camera_runtime": plan.camera_runtime,
        "camera_fps": plan.camera_fps,
        "rows": rows,
    }
