"""Count bias against a camera's count of the loop's lane (issue 12: camera-versus-loop
consistency on the same approach)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from trafficai.config import FaultSection, HealthSection
from trafficai.core.snapshot import Snapshot, VehicleArrays, frozen
from trafficai.sensors.bin_health import LoopEvidence
from trafficai.sensors.camera_witness import CameraLaneCounts, CameraLanes, camera_lanes, faulty_crossings
from trafficai.sensors.cameras import CameraSpec
from trafficai.sensors.health_camera_bias import CameraBiasTest

from .fakes import cross_geometry, snapshot

DT = 5.0
SWAP = 0.02  # share of a lane's vehicles the camera counts on the neighbouring lane
RATE = 0.3  # vehicles per lane per sample: 216 an hour, single's busiest lane
CAMERA = CameraSpec("cam_S", "C", 0.0, -30.0, fov=10.0, range_m=30.0)  # sees S_in's stop line only


def two_lane_approach() -> CameraLanes:
    """Loops 0 and 1 on the two lanes of one approach a camera counts; loop 2 on no camera's lane."""
    return CameraLanes(
        cameras=("cam",),
        loop_camera=np.array([0, 0, -1], np.int64),
        lane_loop=np.array([0, 1, -1], np.int64),
        lane_approach=("A", "A", ""),
        lane_exits=(frozenset({"X"}), frozenset({"X"}), frozenset()),
        approach_lanes={"A": (0, 1)},
    )


def stream(
    test: CameraBiasTest,
    factor: float,
    onset_s: float,
    end_s: float,
    seed: int,
    camera_ok: bool = True,
    dark_from_s: float = np.inf,
) -> float | None:
    """Loops 0 and 1 each see ``RATE`` vehicles per sample; a vehicle changing lanes at the line is
    counted by the camera on the other lane (``SWAP``: on ``single`` 2-3 vehicles an hour of a lane's
    140-220, measured); loop 0 counts ``factor`` times its vehicles from
    ``onset_s``. When loop 0 is flagged (None: never); loop 1 must never be."""
    rng = np.random.default_rng(seed)
    owed = 0.0
    test.set_camera_health({"cam": camera_ok})
    for t in np.arange(DT, end_s, DT):
        true = rng.poisson(RATE, 2).astype(np.float64)
        seen = true.copy()
        for lane in (0, 1):
            moved = rng.binomial(int(true[lane]), SWAP)
            seen[lane] -= moved
            seen[1 - lane] += moved
        owed += true[0] * (factor if t >= onset_s else 1.0)
        hits = np.array([int(owed), int(true[1]), 0], np.int64)
        owed -= int(owed)
        crossings = np.array([seen[0], seen[1], 0.0]) if t < dark_from_s else np.zeros(3)
        test.sample(float(t), hits, crossings, np.ones(3, dtype=bool))
        verdict = test.active & test.flagged
        assert not verdict[1:].any()  # the unbiased neighbour and the uncovered loop: never
        if verdict[0]:
            return float(t)
    return None


def test_a_loop_counting_30_percent_more_than_its_camera_is_flagged_within_40_vehicles() -> None:
    guard = HealthSection().bias_camera_guard_s
    for seed in range(5):
        test = CameraBiasTest(two_lane_approach(), HealthSection())
        at = stream(test, 1.3, 1200.0, 3600.0, seed)
        assert at is not None and at > 1200.0
        vehicles = (at - guard - 1200.0) / DT * RATE  # the lane's vehicles until the evidence sufficed
        assert vehicles <= 40


def test_30_percent_too_few_is_flagged_too() -> None:
    test = CameraBiasTest(two_lane_approach(), HealthSection())
    assert stream(test, 0.7, 1200.0, 3600.0, 1) is not None


def test_unbiased_loops_with_lane_change_noise_are_not_flagged() -> None:
    for seed in range(5):
        test = CameraBiasTest(two_lane_approach(), HealthSection())
        assert stream(test, 1.0, 0.0, 3 * 3600.0, seed) is None


def test_a_camera_that_camera_health_failed_is_no_witness() -> None:
    test = CameraBiasTest(two_lane_approach(), HealthSection())
    assert stream(test, 1.3, 600.0, 3600.0, 2, camera_ok=False) is None
    assert not test.active.any()


def test_a_blacked_out_camera_does_not_flag_its_loops_before_camera_health_fails_it() -> None:
    """The camera sees nothing from 1200 s (camera health not told): its loops' counts pile up
    against no crossing, but the camera is dark, so it is no witness and nothing is flagged; once it
    sees again its counts are evidence again (and an unbiased loop stays unflagged)."""
    test = CameraBiasTest(two_lane_approach(), HealthSection())
    assert stream(test, 1.0, 0.0, 2400.0, 3, dark_from_s=1200.0) is None
    assert not test.active.any()


def test_what_a_camera_counted_before_camera_health_failed_it_is_void() -> None:
    """A frozen camera reports too few crossings; camera health fails it 120 s later, inside the
    guard: the frozen counts never reach the test."""
    lanes = two_lane_approach()
    test = CameraBiasTest(lanes, HealthSection())
    for t in np.arange(DT, 1200.0, DT):
        test.sample(float(t), np.array([1, 1, 0]), np.array([1.0, 1.0, 0.0]), np.ones(3, dtype=bool))
    before = test.core.cusum().copy()
    for t in np.arange(1200.0, 1320.0, DT):  # frozen: a third of the true crossings
        test.sample(float(t), np.array([3, 3, 0]), np.array([1.0, 1.0, 0.0]), np.ones(3, dtype=bool))
    test.set_camera_health({"cam": False})
    for t in np.arange(1320.0, 1800.0, DT):
        test.sample(float(t), np.array([3, 3, 0]), np.array([1.0, 1.0, 0.0]), np.ones(3, dtype=bool))
    assert np.array_equal(test.core.cusum(), before) and not test.flagged.any()


def evidence_sample(evidence: LoopEvidence, t: float, hits: list[int], crossings: list[float]) -> None:
    n = evidence.n
    area = np.array([2.0, np.nan, np.nan, np.nan])  # area_N ends at stop_N: 2 vehicles at 6 m/s
    evidence.sample(
        t, DT, np.array(hits, np.int64), np.zeros(n), np.full(n, 6.0), np.ones(n, dtype=bool),
        area, np.zeros(n), np.ones(n, dtype=bool), np.full(n, 6.0), np.array(crossings),
    )  # fmt: skip


def test_loops_without_a_camera_keep_the_area_detector_witness() -> None:
    """cross_geometry: the camera counts stop_S's lane only; stop_N (not covered) is judged against
    area_N and flagged when it counts 30 % more than its area's flow; stop_S, which counts what its
    camera sees, is judged against the camera and not flagged."""
    geometry = cross_geometry()
    lanes = camera_lanes(geometry, [CAMERA])
    assert lanes.loop_camera.tolist() == [-1, -1, 0, -1]
    evidence = LoopEvidence(geometry, HealthSection())
    evidence.camera_bias = CameraBiasTest(lanes, HealthSection())
    owed = 0.0
    for t in np.arange(DT, 3600.0, DT):
        owed += 1.0 * (1.3 if t >= 1800.0 else 1.0)  # area_N's flow: 2 x 6 m/s x 5 s / 60 m = 1
        evidence_sample(evidence, float(t), [int(owed), 0, 1, 0], [0.0, 0.0, 1.0, 0.0])
        owed -= int(owed)
    bias = evidence.conditions["bias"]
    assert bias[0] and "area detector" in evidence.why["bias"][0]
    assert not bias[2] and evidence.camera_bias.active[2]


def test_a_covered_loop_is_flagged_against_its_camera_with_the_camera_named() -> None:
    geometry = cross_geometry()
    evidence = LoopEvidence(geometry, HealthSection())
    evidence.camera_bias = CameraBiasTest(camera_lanes(geometry, [CAMERA]), HealthSection())
    owed = 0.0
    for t in np.arange(DT, 2400.0, DT):
        owed += 1.3 if t >= 1200.0 else 1.0
        evidence_sample(evidence, float(t), [1, 0, int(owed), 0], [0.0, 0.0, 1.0, 0.0])
        owed -= int(owed)
    assert evidence.conditions["bias"][2] and "camera cam_S" in evidence.why["bias"][2]
    assert not evidence.conditions["bias"][0]


# -- the camera's counts ---------------------------------------------------------------------------


def with_vehicles(t: float, vehicles: list[tuple[str, int, float, float]]) -> Snapshot:
    """A snapshot of cross_geometry at ``t`` with vehicles (id, lane, x, y)."""
    base = snapshot(t, [0, 0, 0, 0], [0.0] * 4)
    n = len(vehicles)
    arrays = VehicleArrays(
        ids=tuple(v[0] for v in vehicles),
        xy=frozen(np.array([[v[2], v[3]] for v in vehicles], np.float32).reshape(n, 2)),
        angle=frozen(np.zeros(n, np.float32)),
        speed=frozen(np.full(n, 10.0, np.float32)),
        lane=frozen(np.array([v[1] for v in vehicles], np.int32)),
        vtype=frozen(np.zeros(n, np.int32)),
        waiting=frozen(np.zeros(n, np.float32)),
        time_loss=frozen(np.zeros(n, np.float32)),
    )
    return replace(base, vehicles=arrays)


def test_the_camera_counts_a_vehicle_once_when_its_front_passes_the_loop() -> None:
    counts = CameraLaneCounts(cross_geometry(), [CAMERA])
    got = [
        counts.sample(with_vehicles(1.0, [("a", 2, 0.0, -40.0)]), 1.0),
        counts.sample(with_vehicles(2.0, [("a", 2, 0.0, -9.0)]), 1.0),  # past the loop (2 m before the end)
        counts.sample(with_vehicles(3.0, [("a", -1, 0.0, 0.0)]), 1.0),  # in the junction
        counts.sample(with_vehicles(4.0, [("a", 4, 0.0, 20.0)]), 1.0),  # on its exit
    ]
    assert [g[2] for g in got] == [0.0, 1.0, 0.0, 0.0]


def test_a_vehicle_that_drove_past_the_line_between_two_looks_is_counted_on_its_exit() -> None:
    counts = CameraLaneCounts(cross_geometry(), [CAMERA])
    counts.sample(with_vehicles(1.0, [("b", 2, 0.0, -40.0)]), 1.0)
    assert counts.sample(with_vehicles(2.0, [("b", 4, 0.0, 20.0)]), 1.0)[2] == 1.0
    assert counts.sample(with_vehicles(3.0, []), 1.0).sum() == 0.0  # gone: nothing more


def test_injected_camera_faults_act_on_its_counts() -> None:
    blackout = FaultSection(device="cam_S", kind="blackout", at=2.0)
    counts = CameraLaneCounts(cross_geometry(), [CAMERA], [blackout])
    counts.sample(with_vehicles(1.0, [("c", 2, 0.0, -40.0)]), 1.0)
    assert counts.sample(with_vehicles(2.0, [("c", 2, 0.0, -9.0)]), 1.0).sum() == 0.0
    frozen_rate = np.array([0.0, 0.0, 0.1, 0.0])
    assert faulty_crossings("frozen", np.zeros(4), frozen_rate, 10.0).tolist() == [0.0, 0.0, 1.0, 0.0]


def lagging_loop_flagged(close_every_s: float, seed: int, end_s: float = 7200.0) -> bool:
    """A true loop whose total runs up to 2 vehicles behind its camera late in each 60-s counting
    interval and catches up at the interval's end (SUMO's stop-line loops: a vehicle standing on the
    loop when the interval closes is counted when it leaves). Whether it is ever flagged biased."""
    test = CameraBiasTest(two_lane_approach(), HealthSection(bias_camera_close_every_s=close_every_s))
    rng = np.random.default_rng(seed)
    held = 0
    for t in np.arange(DT, end_s, DT):
        crossed = rng.poisson(1.2)  # a busy lane: about 8 vehicles a minute
        phase = t % 60.0
        if phase == 0.0:  # the interval ended: the loop has caught up
            hits, held = crossed + held, 0
        elif phase > 30.0:
            late = min(crossed, 2 - held)
            hits, held = crossed - late, held + late
        else:
            hits = crossed
        test.sample(
            float(t), np.array([hits, 0, 0], np.int64), np.array([crossed, 0.0, 0.0]), np.ones(3, bool)
        )
        if (test.active & test.flagged)[0]:
            return True
    return False


def test_a_loop_that_lags_within_its_counting_interval_is_not_biased() -> None:
    assert not any(lagging_loop_flagged(60.0, seed) for seed in range(5))  # blocks close at interval ends
    assert any(lagging_loop_flagged(0.0, seed) for seed in range(5))  # closing anywhere: false failures
