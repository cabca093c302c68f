"""Qt tests run on the offscreen platform (set before any Qt import) against tiny networks."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from trafficai.core.geometry import DetectorInfo, LaneGeometry, NetGeometry, SignalInfo, SignalLink
from trafficai.core.signals import Phase, SignalProgram
from trafficai.core.snapshot import (
    DetectorArrays,
    LaneArrays,
    NetworkCounters,
    SignalArrays,
    Snapshot,
    VehicleArrays,
    frozen,
)
from trafficai.runtime.messages import CameraView, Ready, SignalView, SimFrame

if TYPE_CHECKING:
    from trafficai.gui.main_window import MainWindow

DATA = Path(__file__).parent.parent / "data"
TINY = str(DATA / "tiny" / "scenario.toml")
BROKEN = str(DATA / "odd" / "broken" / "broken.sumocfg")


def cross_geometry() -> NetGeometry:
    """One signalised 4-arm junction 'C' at (0, 0); 100 m arms; lanes 0-3 in, 4-7 out."""
    ends = {"N": (0.0, 100.0), "E": (100.0, 0.0), "S": (0.0, -100.0), "W": (-100.0, 0.0)}
    ids, edges, shapes = [], [], []
    for arm, (x, y) in ends.items():  # incoming: from the arm end to 8 m before the centre
        ids.append(f"{arm}_in_0")
        edges.append(f"{arm}_in")
        shapes.append(np.array([[x, y], [x * 0.08, y * 0.08]]))
    for arm, (x, y) in ends.items():
        ids.append(f"C_{arm}_0")
        edges.append(f"C_{arm}")
        shapes.append(np.array([[x * 0.08, y * 0.08], [x, y]]))
    lanes = LaneGeometry(tuple(ids), tuple(edges), tuple(shapes), np.full(8, 92.0), np.full(8, 13.9))
    program = SignalProgram(
        "0", (Phase("GrGr", 30.0), Phase("yryr", 3.0), Phase("rGrG", 30.0), Phase("ryry", 3.0))
    )
    links = tuple(SignalLink(i, i, (i + 2) % 4 + 4) for i in range(4))
    stops = np.array([shape[-1] for shape in shapes[:4]])
    signal = SignalInfo("C", (0.0, 0.0), links, program, stops)
    e1 = DetectorInfo(
        ("e1_N", "e1_S"),
        np.array([0, 2], np.int32),
        np.array([80.0, 80.0]),
        np.zeros(2),
        np.array([[0.0, 20.0], [0.0, -20.0]]),
    )
    return NetGeometry(
        lanes,
        ("C", "X"),
        np.array([[0.0, 0.0], [300.0, 300.0]]),
        (signal,),
        e1,
        DetectorInfo.empty(),
        (-100.0, -100.0, 100.0, 100.0),
    )


def cross_ready(geometry: NetGeometry | None = None) -> Ready:
    geometry = geometry or cross_geometry()
    return Ready(
        generation=0,
        scenario="cross",
        source="synthetic",
        description="test",
        geometry=geometry,
        cameras=(CameraView("cam", "C", 20.0, 20.0, 225.0, 70.0),),
        greens={"C": ("GrGr", "rGrG")},
        controllable=("C",),
        controllers=("fixed", "max-pressure"),
        controller="fixed",
        run_id="",
        begin_s=0.0,
        end_s=600.0,
        step_length_s=1.0,
        demand_scale=1.0,
    )


def cross_frame(
    vehicles: list[tuple[str, float, float, float, float]],
    lane_vehicles: list[int] | None = None,
    lane_speed: list[float] | None = None,
    state: str = "GrGr",
    time_s: float = 10.0,
    seq: int = 1,
    playing: bool = False,
) -> SimFrame:
    """vehicles: (id, x, y, angle, speed m/s)."""
    n = len(vehicles)

    def f32(values: list[float]) -> np.ndarray:
        return frozen(np.array(values, dtype=np.float32))

    def i32(values: list[int]) -> np.ndarray:
        return frozen(np.array(values, dtype=np.int32))

    veh = VehicleArrays(
        ids=tuple(v[0] for v in vehicles),
        xy=frozen(np.array([[v[1], v[2]] for v in vehicles], dtype=np.float32).reshape(n, 2)),
        angle=f32([v[3] for v in vehicles]),
        speed=f32([v[4] for v in vehicles]),
        lane=i32([0] * n),
        vtype=i32([0] * n),
        waiting=f32([0.0] * n),
        time_loss=f32([0.0] * n),
    )
    counts = lane_vehicles or [0] * 8
    speeds = lane_speed or [13.9] * 8
    lanes = LaneArrays(
        i32(counts), i32([0] * 8), f32([0.1 * c for c in counts]), f32(speeds), f32([0.0] * 8), f32([0.0] * 8)
    )
    det = DetectorArrays(i32([0, 0]), f32([0.0, 0.0]), f32([-1.0, -1.0]), i32([]), i32([]), f32([]), f32([]))
    snap = Snapshot(
        int(time_s),
        time_s,
        lanes,
        SignalArrays((state,), i32([0]), f32([3.0])),
        det,
        NetworkCounters(running=n),
        veh,
        ("car",),
    )
    view = SignalView("C", "fixed", False, -1, 2, "program:0", 0.0)
    return SimFrame(0, seq, snap, (view,), playing, 1.0, 1.0, 1.0)


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    """The main window on the tiny network with a real worker, paused, its first frame shown."""
    from trafficai.gui.main_window import MainWindow
    from trafficai.runtime.worker_config import WorkerConfig

    win = MainWindow(WorkerConfig.for_scenario(TINY, speed=None, playing=False), user="ann")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.last_frame is not None, timeout=20000)
    yield win
    win.close()


@pytest.fixture
def fake_window(qtbot, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    """The main window over a fake bridge (tests/support/fake_bridge.py): no worker, no SUMO; the
    test feeds it the worker's messages."""
    from tests.support.fake_bridge import FakeBridge
    from trafficai.gui.main_window import MainWindow
    from trafficai.runtime.worker_config import WorkerConfig

    monkeypatch.setattr("trafficai.gui.main_window.WorkerBridge", FakeBridge)
    win = MainWindow(WorkerConfig.for_scenario(TINY, speed=None, playing=False), user="ann")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
