"""Training in a child process, as the GUI runs it: progress messages, stop, failure."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.rl.test_training import tiny_config
from trafficai.runtime.training_job import JobMessage, TrainingJob

pytestmark = pytest.mark.sumo


def _drain(job: TrainingJob, timeout_s: float = 120.0) -> list[JobMessage]:
    messages: list[JobMessage] = []
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        messages += job.poll()
        if messages and messages[-1].kind in ("finished", "failed"):
            break
        time.sleep(0.05)
    job.join(30)
    return messages


def test_job_reports_progress_and_finishes(tiny: str, tmp_path: Path) -> None:
    job = TrainingJob(tiny_config(tiny, tmp_path / "job", timesteps=64))
    job.start()
    messages = _drain(job)
    kinds = [m.kind for m in messages]
    assert kinds[-1] == "finished", messages[-1]
    assert "checkpoint" in kinds and "episode" in kinds
    assert Path(messages[-1].model_path).is_file() and messages[-1].timesteps >= 64
    assert not job.running


def test_job_stops_on_request(tiny: str, tmp_path: Path) -> None:
    job = TrainingJob(tiny_config(tiny, tmp_path / "stop", timesteps=1_000_000))
    job.start()
    seen: list[JobMessage] = []
    end = time.monotonic() + 120
    while time.monotonic() < end and not any(m.kind == "episode" for m in seen):
        seen += job.poll()
        time.sleep(0.05)
    job.stop()
    messages = seen + _drain(job)
    assert messages[-1].kind == "finished" and messages[-1].status == "stopped"
    assert messages[-1].timesteps < 1_000_000 and Path(messages[-1].model_path).is_file()


def test_job_reports_failure(tmp_path: Path) -> None:
    config = tiny_config(str(tmp_path / "missing.sumocfg"), tmp_path / "fail")
    job = TrainingJob(config)
    job.start()
    messages = _drain(job)
    assert messages[-1].kind == "failed" and "missing.sumocfg" in messages[-1].message


def test_a_second_training_gets_a_new_folder_and_the_default_is_the_data_dir(
    tmp_path: Path, isolated_data_dir: Path
) -> None:
    from trafficai.runtime.training_job import default_training_dir, unused_folder

    first = tmp_path / "grid4x4"
    assert unused_folder(first) == first  # nothing there yet
    first.mkdir()
    (first / "model.zip").write_bytes(b"trained")
    assert unused_folder(first) == tmp_path / "grid4x4-2"
    (tmp_path / "grid4x4-2" / "checkpoints").mkdir(parents=True)  # a training under way or stopped
    assert unused_folder(first) == tmp_path / "grid4x4-3"
    assert (first / "model.zip").read_bytes() == b"trained"
    assert default_training_dir() == isolated_data_dir / "training"
