"""``train_model`` without training: the plan's checks, and what it hands ultralytics (a fake YOLO
records the call and writes the weights where a real run would)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from trafficai.errors import ConfigError
from trafficai.vision import train as train_module
from trafficai.vision.scene import CLASS_NAMES
from trafficai.vision.train import TrainPlan, check_plan, epochs_run, train_model

pytest.importorskip("torch")


class FakeYolo:
    """Records ``train`` kwargs; writes best.pt and a results.csv of ``epochs`` rows."""

    calls: ClassVar[list[tuple[str, dict[str, Any]]]] = []

    def __init__(self, model: str, names: dict[int, str] | None = None, epochs: int = 3) -> None:
        self.model = model
        self.names = dict(enumerate(CLASS_NAMES)) if names is None else names
        self.epochs = epochs

    def train(self, **kwargs: Any) -> None:
        FakeYolo.calls.append((self.model, kwargs))
        run = Path(kwargs["project"]) / kwargs["name"]
        (run / "weights").mkdir(parents=True, exist_ok=True)
        (run / "weights" / "best.pt").write_bytes(b"weights")
        rows = "\n".join(f"{k + 1},0.5" for k in range(self.epochs))
        (run / "results.csv").write_text(f"epoch,loss\n{rows}\n", encoding="utf-8")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data.yaml"
    path.write_text("names: {}\n", encoding="utf-8")
    return path


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    FakeYolo.calls = []
    monkeypatch.setattr(train_module, "_quiet_yolo", lambda model: FakeYolo(model))
    return FakeYolo.calls


def test_a_time_budget_and_init_weights_reach_ultralytics(
    data: Path, tmp_path: Path, fake: list[tuple[str, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    init = tmp_path / "ours.pt"
    init.write_bytes(b"ours")
    monkeypatch.chdir(tmp_path)
    plan = TrainPlan(
        data=data, out=Path("rel-out"), time_hours=0.5, init=init, warmup_epochs=1.0, batch=16, nbs=16
    )
    result = train_model(plan)
    model, kwargs = fake[0]
    assert model == str(init)
    assert kwargs["time"] == 0.5 and kwargs["warmup_epochs"] == 1.0 and kwargs["nbs"] == 16
    assert kwargs["pretrained"] is True  # ultralytics drops the loaded weights on pretrained=False
    # a relative --out must not land under ultralytics' own runs_dir
    assert Path(kwargs["project"]).is_absolute()
    assert Path(kwargs["project"]) == (tmp_path / "rel-out").resolve()
    assert result.weights.read_bytes() == b"weights"
    assert result.epochs == 3  # counted from the run, not the plan's --epochs


def test_without_a_budget_no_time_argument_and_the_yaml(
    data: Path, tmp_path: Path, fake: list[tuple[str, dict[str, Any]]]
) -> None:
    train_model(TrainPlan(data=data, out=tmp_path / "out", epochs=2))
    model, kwargs = fake[0]
    assert model == train_module.MODEL_YAML
    assert "time" not in kwargs and kwargs["epochs"] == 2 and kwargs["pretrained"] is False


def test_init_weights_with_other_classes_are_refused(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    init = tmp_path / "coco.pt"
    init.write_bytes(b"coco")
    monkeypatch.setattr(
        train_module, "_quiet_yolo", lambda model: FakeYolo(model, names={0: "person", 1: "bicycle"})
    )
    with pytest.raises(ConfigError, match="has classes"):
        train_model(TrainPlan(data=data, out=tmp_path / "out", init=init))


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"time_hours": 0.0}, "--time-hours"),
        ({"time_hours": -1.0}, "--time-hours"),
        ({"epochs": 0}, "--epochs"),
        ({"warmup_epochs": -1.0}, "--warmup-epochs"),
        ({"batch": 16, "nbs": 8}, "--nbs"),
        ({"init": Path("/nope/ours.pt")}, "--init: weights file not found"),
    ],
)
def test_bad_plans_are_one_clear_error(data: Path, changes: dict[str, Any], needle: str) -> None:
    plan = TrainPlan(data=data, out=data.parent / "out", **changes)
    with pytest.raises(ConfigError, match=needle):
        check_plan(plan)


def test_epochs_run_counts_result_rows(tmp_path: Path) -> None:
    assert epochs_run(tmp_path) == 0
    (tmp_path / "results.csv").write_text("epoch,loss\n1,2\n2,1\n", encoding="utf-8")
    assert epochs_run(tmp_path) == 2
