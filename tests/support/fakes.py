"""A synthetic one-signal network on the replay backend: controller tests without SUMO."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trafficai.core.geometry import DetectorInfo, LaneGeometry, NetGeometry, SignalInfo, SignalLink
from trafficai.core.scenario import Scenario
from trafficai.core.signals import Phase, SignalProgram
from trafficai.core.snapshot import DetectorArrays, LaneArrays, NetworkCounters, SignalArrays, Snapshot
from trafficai.sim.replay_backend import Recording, ReplayBackend

__all__ = ["FOUR", "ReplayBackend", "backend", "geometry", "snapshot"]

# three green stages (the middle one a protected left) with yellow and all-red between them
FOUR = SignalProgram(
    "0",
    (
        Phase("GGgrrrGGgrrr", 30),
        Phase("yyyrrryyyrrr", 3),
        Phase("rrrrrrrrrrrr", 2),
        Phase("rrGrrrrrGrrr", 10),
        Phase("rryrrrrryrrr", 3),
        Phase("rrrGGgrrrGGg", 30),
        Phase("rrryyyrrryyy", 3),
        Phase("rrrrrrrrrrrr", 2),
    ),
)

N_LINKS = 12
N_LANES = 8  # 4 in, 4 out


def geometry() -> NetGeometry:
    shapes = tuple(np.array([[0.0, float(i)], [100.0, float(i)]]) for i in range(N_LANES))
    lanes = LaneGeometry(
        tuple(f"l{i}_0" for i in range(N_LANES)),
        tuple(f"l{i}" for i in range(N_LANES)),
        shapes,
        np.full(N_LANES, 100.0),
        np.full(N_LANES, 13.9),
    )
    # link k: from incoming lane k // 3 to outgoing lane 4 + k // 3
    links = tuple(SignalLink(k, k // 3, 4 + k // 3) for k in range(N_LINKS))
    signal = SignalInfo("J", (100.0, 0.0), links, FOUR, np.zeros((N_LINKS, 2)))
    return NetGeometry(
        lanes,
        ("J",),
        np.zeros((1, 2)),
        (signal,),
        DetectorInfo.empty(),
        DetectorInfo.empty(),
        (0, 0, 100, 10),
    )


def snapshot(step: int, halting: list[int], state: str = "GGgrrrGGgrrr") -> Snapshot:
    h = np.array(halting + [0] * (N_LANES - len(halting)), dtype=np.int32)
    z = np.zeros(N_LANES, np.float32)
    lanes = LaneArrays(h, h, z, z, z, z)
    det = DetectorArrays(
        *(
            np.zeros(0, t)
            for t in (np.int32, np.float32, np.float32, np.int32, np.int32, np.float32, np.float32)
        )
    )
    signals = SignalArrays((state,), np.zeros(1, np.int32), np.zeros(1, np.float32))
    return Snapshot(step, float(step), lanes, signals, det, NetworkCounters())


def backend(halting: list[int], steps: int = 400) -> ReplayBackend:
    scenario = Scenario("fake", "", Path("fake.toml"), Path("fake.net.xml"), (), (), 0.0, float(steps), 1.0)
    snaps = tuple(snapshot(i, halting) for i in range(steps + 1))
    return ReplayBackend(Recording(scenario, geometry(), 1.0, snaps))
