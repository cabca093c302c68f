"""A YOLO-format dataset rendered from the shipped scenarios' cameras.

The split is by scene (scenario, camera): every camera of the held-out scenario goes to ``test``, and
the other scenes are hashed into ``train`` / ``val``, so no test image shows a place or a pose the
model was trained on. ``frames.jsonl`` keeps, per image, the scene, the conditions and each label's
vehicle id and occlusion, for the per-band metrics of the model card.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from trafficai.core.scenario import Scenario, resolve_scenario
from trafficai.sensors.cameras import CameraSpec
from trafficai.sim.factory import open_backend
from trafficai.sim.sumo_command import SumoOptions
from trafficai.vision.effects import sample_conditions
from trafficai.vision.ground import sees_road
from trafficai.vision.placement import scenario_cameras
from trafficai.vision.render import FrameTruth, Renderer
from trafficai.vision.scene import CLASS_NAMES, vehicle_view

SPLITS = ("train", "val", "test")
TEST_SCENARIO = "corridor"
DATASET_SCENARIOS = ("single", "corridor", "grid4x4", "city")
MIN_BOX_PX = 4.0
MAX_OCCLUSION = 0.7  # more hidden than this: not labelled (nor expected of the detector)
MAX_TRUNCATION = 0.6


@dataclass(frozen=True, slots=True)
class DatasetPlan:
    out: Path
    scenarios: tuple[str, ...] = DATASET_SCENARIOS
    warmup_s: float = 240.0
    every_s: float = 15.0
    frames_per_camera: int = 22
    seed: int = 0
    test_scenario: str = TEST_SCENARIO
    val_percent: int = 20


def scene_split(
    scenario: str, camera_id: str, test_scenario: str = TEST_SCENARIO, val_percent: int = 20
) -> str:
    """The split a scene belongs to (stable: a hash of its name, not of the run)."""
    if scenario == test_scenario:
        return "test"
    return "val" if zlib.crc32(f"{scenario}/{camera_id}".encode()) % 100 < val_percent else "train"


def labelled(truth: FrameTruth) -> np.ndarray:
    """Which ground-truth rows are labels: big enough, visible enough, inside the image enough."""
    w = truth.boxes[:, 2] - truth.boxes[:, 0]
    h = truth.boxes[:, 3] - truth.boxes[:, 1]
    keep: np.ndarray = (
        (w >= MIN_BOX_PX)
        & (h >= MIN_BOX_PX)
        & (truth.occlusion <= MAX_OCCLUSION)
        & (truth.truncation <= MAX_TRUNCATION)
    )
    return keep


def yolo_lines(truth: FrameTruth, width: int, height: int) -> list[str]:
    keep = labelled(truth)
    lines = []
    for cls, (x1, y1, x2, y2) in zip(truth.classes[keep], truth.boxes[keep], strict=True):
        cx, cy = (x1 + x2) / 2 / width, (y1 + y2) / 2 / height
        bw, bh = (x2 - x1) / width, (y2 - y1) / height
        lines.append(f"{int(cls)} {cx:.6f} {cy:.6f} {bw:.6f} {bh:.6f}")
    return lines


def write_data_yaml(out: Path) -> Path:
    names = "\n".join(f"  {i}: {n}" for i, n in enumerate(CLASS_NAMES))
    path = out / "data.yaml"
    path.write_text(
        f"path: {out.resolve()}\ntrain: images/train\nval: images/val\ntest: images/test\nnames:\n{names}\n",
        encoding="utf-8",
    )
    return path


def _cameras(
    scenario: Scenario, renderers: dict[str, Renderer], geometry_cameras: tuple[CameraSpec, ...]
) -> list[CameraSpec]:
    return [c for c in geometry_cameras if sees_road(renderers[c.id].ground)]


def scenario_frames(
    name: str, plan: DatasetPlan
) -> Iterator[tuple[CameraSpec, float, np.ndarray, FrameTruth, dict[str, object]]]:
    """Rendered frames of one scenario's cameras at the plan's times."""
    scenario = resolve_scenario(name)
    backend = open_backend(scenario, SumoOptions(seed=plan.seed + 1, warnings=False))
    try:
        cameras = scenario_cameras(scenario, backend.geometry)
        renderers = {c.id: Renderer(c, backend.geometry) for c in cameras}
        usable = _cameras(scenario, renderers, cameras)
        rng = np.random.default_rng(zlib.crc32(f"{plan.seed}/{name}".encode()))
        times = [plan.warmup_s + k * plan.every_s for k in range(plan.frames_per_camera)]
        for t in times:
            while backend.time_s < t and backend.step < backend.end_step:
                backend.advance()
            snap = backend.snapshot(parts=frozenset())
            view = vehicle_view(snap.vehicles, snap.vehicle_types)
            for camera in usable:
                conditions = sample_conditions(rng)
                frame = renderers[camera.id].render(view, conditions, seed=int(rng.integers(2**31)))
                yield camera, t, frame.image, frame.truth, asdict(conditions)
    finally:
        backend.close()


def build_dataset(plan: DatasetPlan, on_image: Callable[[str], None] | None = None) -> dict[str, int]:
    """Render the dataset into ``plan.out``; the number of images per split."""
    for split in SPLITS:
        (plan.out / "images" / split).mkdir(parents=True, exist_ok=True)
        (plan.out / "labels" / split).mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(SPLITS, 0)
    with (plan.out / "frames.jsonl").open("w", encoding="utf-8") as meta:
        for name in plan.scenarios:
            for camera, t, image, truth, conditions in scenario_frames(name, plan):
                split = scene_split(name, camera.id, plan.test_scenario, plan.val_percent)
                stem = f"{name}__{camera.id}__{int(t):05d}"
                cv2.imwrite(
                    str(plan.out / "images" / split / f"{stem}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 92]
                )
                lines = yolo_lines(truth, camera.image_width, camera.image_height)
                (plan.out / "labels" / split / f"{stem}.txt").write_text(
                    "\n".join(lines) + ("\n" if lines else "")
                )
                keep = labelled(truth)
                record = {
                    "image": f"images/{split}/{stem}.jpg",
                    "split": split,
                    "scenario": name,
                    "camera": camera.id,
                    "time_s": t,
                    "conditions": conditions,
                    "ids": [v for v, k in zip(truth.ids, keep, strict=True) if k],
                    "occlusion": [round(float(o), 3) for o in truth.occlusion[keep]],
                }
                meta.write(json.dumps(record, default=str) + "\n")
                counts[split] += 1
                if on_image is not None:
                    on_image(stem)
    write_data_yaml(plan.out)
    return counts
