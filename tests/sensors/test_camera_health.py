"""Each camera health rule on scripted bins: it fires on its fault and stays quiet on healthy data,
a quiet night approach included; and the injected camera faults on a scripted source."""

from __future__ import annotations

import random

from trafficai.config import CameraHealthSection, FaultSection
from trafficai.core.snapshot import Snapshot
from trafficai.sensors.camera_faults import FaultyCameraSource, blacked_out
from trafficai.sensors.camera_health import CameraHealthMonitor, CameraWatch, is_blackout, is_frozen
from trafficai.sensors.camera_source import CameraCoverage
from trafficai.sensors.cameras import CameraSpec
from trafficai.sensors.health import FAILED, OK, SUSPECT

LOOPS = ("e1_N_0", "e1_N_1")


def busy_bin(rng: random.Random) -> dict[str, float]:
    """A healthy bin of a busy approach: crossings, a queue, a mean speed that never repeats."""
    n = rng.randint(3, 9)
    left = rng.randint(0, n)
    return {
        "class.car": float(n),
        "approach.N": float(n),
        "movement.N.E": float(left),
        "movement.N.S": float(n - left),
        "queue.N": round(rng.uniform(0, 40), 2),
        "speed.N": round(rng.uniform(2, 12), 3),
    }


def night_bin(rng: random.Random) -> dict[str, float]:
    """A night bin: mostly nothing at all (identical empty bins), now and then one vehicle."""
    if rng.random() < 0.9:
        return {"approach.N": 0.0, "movement.N.E": 0.0, "movement.N.S": 0.0, "queue.N": 0.0}
    return {"class.car": 1.0, "approach.N": 1.0, "movement.N.E": 1.0, "movement.N.S": 0.0,
            "queue.N": 0.0, "speed.N": round(rng.uniform(8, 14), 3)}  # fmt: skip


def feed(
    monitor: CameraHealthMonitor, bins: list[dict[str, float]], loops: list[float], start: int = 1
) -> list[str]:
    """Feed bins (and the loops' counts of the same intervals); the camera's state after each."""
    states = []
    for k, (values, count) in enumerate(zip(bins, loops, strict=True)):
        t_end = 30.0 * (start + k)
        monitor.loop_bin(t_end, {LOOPS[0]: {"count": count / 2}, LOOPS[1]: {"count": count / 2}})
        monitor.observe("cam", start + k, t_end, values, t_end)
        states.append(monitor.states()["cam"].state)
    return states


def monitor(loops: tuple[str, ...] = LOOPS) -> CameraHealthMonitor:
    return CameraHealthMonitor([CameraWatch("cam", frozenset({"N"}), loops)], CameraHealthSection())


def test_healthy_busy_and_night_cameras_stay_quiet() -> None:
    rng = random.Random(3)
    busy = [busy_bin(rng) for _ in range(240)]  # 2 h
    m = monitor()
    assert set(feed(m, busy, [float(crossings_of(b)) for b in busy])) == {OK}
    night = [night_bin(rng) for _ in range(240)]
    # at night the loops count a vehicle now and then, not always in the camera's bin
    loops = [float(rng.random() < 0.1) for _ in night]
    for m in (monitor(), monitor(loops=())):
        assert set(feed(m, night, loops)) == {OK}
        assert m.changes == []


def crossings_of(values: dict[str, float]) -> float:
    return values.get("approach.N", 0.0)


def test_frozen_fires_on_repeated_bins_with_traffic_and_clears() -> None:
    rng = random.Random(1)
    stuck = busy_bin(rng)
    bins = [busy_bin(rng) for _ in range(10)] + [stuck] * 6 + [busy_bin(rng) for _ in range(3)]
    states = feed(monitor(), bins, [6.0] * len(bins))
    assert states[:13] == [OK] * 13 and states[13:16] == [FAILED] * 3  # the 4th identical bin
    assert states[-1] == OK
    assert is_frozen([stuck] * 4, 0.0, 4)
    empty = night_bin(random.Random(0)) | {"approach.N": 0.0}
    assert not is_frozen([{"approach.N": 0.0, "queue.N": 0.0}] * 8, 10.0, 4)  # empty: not frozen
    assert not is_frozen([empty] * 3, 10.0, 4)


def test_blackout_fires_against_the_loops_and_against_its_own_rate() -> None:
    rng = random.Random(2)
    healthy = [busy_bin(rng) for _ in range(20)]
    dark = [blacked_out(b) for b in (busy_bin(rng) for _ in range(6))]
    loops = [6.0] * 26
    m = monitor()
    states = feed(m, healthy + dark, loops)
    assert states[:23] == [OK] * 23 and states[23] == FAILED  # the 4th dark bin
    assert "loops counted 24" in m.states()["cam"].reason
    assert feed(m, [busy_bin(rng)], [6.0], start=27) == [OK]
    no_loops = monitor(loops=())
    assert feed(no_loops, healthy + dark, loops)[23] == FAILED  # its own rate: ~6 a bin expected
    assert "expected" in no_loops.states()["cam"].reason
    limits = CameraHealthSection()
    assert not is_blackout(dark[:4], 3.0, 0.0, limits, 4)  # a quiet approach: loops counted 3


def test_a_sequence_gap_is_suspect_until_bins_come_in_order() -> None:
    rng = random.Random(4)
    m = monitor()
    feed(m, [busy_bin(rng) for _ in range(5)], [5.0] * 5)
    states = feed(m, [busy_bin(rng) for _ in range(5)], [5.0] * 5, start=8)  # bins 6 and 7 lost
    assert states == [SUSPECT] * 4 + [OK]  # cleared by the 4th bin in order after the gap
    assert [c.health.state for c in m.changes] == [SUSPECT, OK]


class ScriptedSource:
    """A camera source whose bins are scripted: bin k counts k vehicles."""

    name, firmware = "truth", "test"

    def __init__(self) -> None:
        self.cameras = (CameraSpec("cam", "J", 0.0, 0.0), CameraSpec("other", "J", 0.0, 0.0))
        self.k = 0

    def coverage(self, camera: str) -> CameraCoverage:
        return CameraCoverage(("N",), (("N", "E"),))

    def sample(self, snapshot: Snapshot) -> None:
        self.k += 1

    def close(self) -> dict[str, dict[str, float]]:
        k = float(self.k)
        values = {"class.car": k, "approach.N": k, "movement.N.E": k, "queue.N": 2 * k, "speed.N": 5.0}
        return {"cam": dict(values), "other": dict(values)}


class FakeSnapshot:
    def __init__(self, t: float) -> None:
        self.time_s = t


def run_source(faults: tuple[FaultSection, ...]) -> list[dict[str, dict[str, float]]]:
    source = FaultyCameraSource(ScriptedSource(), faults, begin_s=0.0)
    out = []
    for k in range(1, 9):
        source.sample(FakeSnapshot(30.0 * k))  # type: ignore[arg-type]
        out.append(source.close())
    return out


def test_injected_camera_faults_act_on_their_camera_from_onset_to_end() -> None:
    frozen = run_source((FaultSection(device="cam", kind="frozen", at=90, duration=90),))
    counts = [b["cam"]["approach.N"] for b in frozen]
    assert counts == [1, 2, 2, 2, 2, 6, 7, 8]  # bins ending 90..150 repeat the bin before onset
    assert [b["other"]["approach.N"] for b in frozen] == [1, 2, 3, 4, 5, 6, 7, 8]
    dark = run_source((FaultSection(device="cam", kind="blackout", at=60),))
    assert dark[0]["cam"]["approach.N"] == 1 and all(
        b["cam"] == {"approach.N": 0.0, "movement.N.E": 0.0, "queue.N": 0.0} for b in dark[1:]
    )
    assert run_source((FaultSection(device="cam", kind="blackout", at=60),)) == dark  # reproducible
    assert run_source((FaultSection(device="cam", kind="latency", at=0),))[3]["cam"]["approach.N"] == 4


def feed_timed(m: CameraHealthMonitor, n: int, late_s: float = 0.0, skew_s: float = 0.0) -> list[str]:
    """Busy bins with the loops' bins on time; the camera's bin ``k`` arrives ``late_s`` after its
    end (latency: it is observed once the loops' bin of that later time is in) and carries times
    shifted by ``skew_s`` (its clock). Latency and skew start at bin 10."""
    rng = random.Random(5)
    states, waiting = [], []
    for k in range(1, n + 1):
        t_end = 30.0 * k
        m.loop_bin(t_end, {LOOPS[0]: {"count": 3.0}, LOOPS[1]: {"count": 3.0}})
        faulty = k >= 10
        waiting.append((t_end + (late_s if faulty else 0.0), k, t_end + (skew_s if faulty else 0.0)))
        for _, seq, stamp in [w for w in waiting if w[0] <= t_end]:
            m.observe("cam", seq, stamp, busy_bin(rng), t_end)
        waiting = [w for w in waiting if w[0] > t_end]
        states.append(m.states()["cam"].state)
    return states


def test_late_bins_make_a_camera_suspect_and_on_time_ones_clear_it() -> None:
    m = monitor()
    states = feed_timed(m, 20, late_s=60.0)
    assert states[:9] == [OK] * 9 and states[-1] == SUSPECT
    assert "late: bins arrive 60 s after their end" in m.states()["cam"].reason
    assert set(feed_timed(monitor(), 20, late_s=30.0)) == {OK}  # one bin late is within late_s 45
    m.loop_bin(630.0, {})
    m.observe("cam", 19, 630.0, {"approach.N": 1.0}, 630.0)  # on time again (19: no sequence gap)
    assert m.states()["cam"].state == OK


def test_a_skewed_camera_clock_is_suspect_ahead_or_off_the_bin_boundaries() -> None:
    m = monitor()
    states = feed_timed(m, 20, skew_s=120.0)  # ahead by four bins: on the boundaries, from the future
    assert states[:9] == [OK] * 9 and states[-1] == SUSPECT
    assert "120 s ahead" in m.states()["cam"].reason
    m = monitor()
    assert feed_timed(m, 20, skew_s=-17.0)[-1] == SUSPECT  # behind, between boundaries
    assert "off the loops' bins" in m.states()["cam"].reason
    assert set(feed_timed(monitor(), 20, skew_s=5.0)) == {OK}  # within skew_s 10
