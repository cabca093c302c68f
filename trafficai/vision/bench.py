"""``trafficai bench vision``: render FPS on one core, and detect + track + count FPS per runtime.

Frames come from a short live run of a shipped scenario (rendered once, then replayed to every
runtime, so each sees the same images). The wall time of each frame is measured around the whole
per-camera pipeline (detection, tracking, counting, queues).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from trafficai.core.scenario import resolve_scenario
from trafficai.sim.factory import open_backend
from trafficai.sim.sumo_command import SumoOptions
from trafficai.vision.detect import RUNTIMES, open_detector
from trafficai.vision.pipeline import CameraPipeline
from trafficai.vision.placement import scenario_cameras
from trafficai.vision.render import Frame, Renderer
from trafficai.vision.scene import vehicle_view


def _frames(scenario_name: str, n_frames: int, fps: float) -> tuple[Any, Any, list[Frame], float]:
    scenario = resolve_scenario(scenario_name)
    backend = open_backend(scenario, SumoOptions(seed=3, step_length_s=1.0 / fps, warnings=False))
    try:
        camera = next(c for c in scenario_cameras(scenario, backend.geometry) if c.id.startswith("auto_"))
        renderer = Renderer(camera, backend.geometry)
        while backend.time_s < scenario.begin_s + 180.0:
            backend.advance()
        frames, render_s = [], 0.0
        for _ in range(n_frames):
            backend.advance()
            snap = backend.snapshot(parts=frozenset())
            view = vehicle_view(snap.vehicles, snap.vehicle_types)
            started = time.perf_counter()
            frames.append(renderer.render(view, seed=backend.step))
            render_s += time.perf_counter() - started
        return camera, backend.geometry, frames, n_frames / render_s
    finally:
        backend.close()


def bench_vision(
    weights: Path, scenario: str = "single", n_frames: int = 100, fps: float = 10.0, threads: int = 2
) -> dict[str, Any]:
    import torch

    torch.set_num_threads(threads)
    camera, geometry, frames, render_fps = _frames(scenario, n_frames, fps)
    result: dict[str, Any] = {
        "scenario": scenario,
        "camera": camera.id,
        "image": f"{camera.image_width}x{camera.image_height}",
        "frames": n_frames,
        "threads": threads,
        "render_fps": render_fps,
    }
    for runtime in RUNTIMES:
        detector = open_detector(weights, runtime)
        pipe = CameraPipeline(camera, geometry, detector)
        pipe.process(frames[0].image, 0.0)  # warm-up (graph compilation, allocations)
        times = []
        for k, frame in enumerate(frames):
            started = time.perf_counter()
            pipe.process(frame.image, (k + 1) / fps)
            times.append(time.perf_counter() - started)
        result[f"fps_{runtime}"] = len(times) / sum(times)
        result[f"p95_ms_{runtime}"] = float(np.percentile(times, 95) * 1000)
    fastest = max(RUNTIMES, key=lambda r: result[f"fps_{r}"])
    result["fastest"] = fastest
    result["p95_ms"] = result[f"p95_ms_{fastest}"]
    return result
