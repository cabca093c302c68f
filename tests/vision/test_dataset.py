"""The rendered dataset: valid YOLO labels, and a split that never shares a scene."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from trafficai.vision.dataset import DATASET_SCENARIOS, DatasetPlan, build_dataset, scene_split, yolo_lines
from trafficai.vision.render import FrameTruth
from trafficai.vision.scene import CLASS_NAMES


def test_yolo_lines_are_normalised_and_skip_what_cannot_be_seen() -> None:
    truth = FrameTruth(
        ("a", "tiny", "hidden"),
        np.array([0, 3, 1]),
        np.array([[100, 50, 300, 150], [10, 10, 12, 12], [0, 0, 50, 50]], np.float32),
        np.array([0.1, 0.0, 0.9], np.float32),
        np.zeros(3, np.float32),
        np.zeros((3, 2)),
        np.zeros(3, np.float32),
    )
    assert yolo_lines(truth, 640, 384) == ["0 0.312500 0.260417 0.312500 0.260417"]


def test_the_split_keeps_every_scene_in_one_split_and_holds_out_a_scenario() -> None:
    scenes = [(s, f"cam{k}") for s in DATASET_SCENARIOS for k in range(12)]
    splits = {scene: scene_split(*scene) for scene in scenes}
    assert {splits[s] for s in scenes if s[0] == "corridor"} == {"test"}
    assert "test" not in {splits[s] for s in scenes if s[0] != "corridor"}
    assert {"train", "val"} <= set(splits.values())
    assert all(scene_split(*s) == splits[s] for s in scenes)  # stable


@pytest.mark.sumo
def test_a_small_dataset_has_valid_labels_and_disjoint_scenes(tmp_path: Path) -> None:
    plan = DatasetPlan(
        out=tmp_path, scenarios=("single",), warmup_s=120.0, frames_per_camera=2, test_scenario="none"
    )
    counts = build_dataset(plan)
    assert sum(counts.values()) == 10 and counts["test"] == 0  # 5 cameras x 2 frames
    records = [json.loads(line) for line in (tmp_path / "frames.jsonl").read_text().splitlines()]
    scene_splits: dict[str, set[str]] = {}
    n_labels = 0
    for record in records:
        scene_splits.setdefault(record["camera"], set()).add(record["split"])
        label = tmp_path / record["image"].replace("images/", "labels/").replace(".jpg", ".txt")
        assert (tmp_path / record["image"]).is_file()
        rows = [line.split() for line in label.read_text().splitlines()]
        assert len(rows) == len(record["ids"]) == len(record["occlusion"])
        for row in rows:
            assert len(row) == 5 and 0 <= int(row[0]) < len(CLASS_NAMES)
            values = [float(v) for v in row[1:]]
            assert all(0.0 <= v <= 1.0 for v in values) and values[2] > 0 and values[3] > 0
        n_labels += len(rows)
    assert n_labels > 5
    assert all(len(s) == 1 for s in scene_splits.values())
    assert "names:" in (tmp_path / "data.yaml").read_text()
