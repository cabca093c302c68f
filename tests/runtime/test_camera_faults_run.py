"""Camera faults on short real SUMO runs: a blacked-out truth camera is flagged by camera health
against its approach's loops and its stored bins are the faulty ones; transport faults on a camera
device are reproducible by seed; bad camera fault specifications are one clear line."""

from __future__ import annotations

import pytest

from tests.cli.support import assert_one_line_error, trafficai
from trafficai.config import RunConfig, parse_fault
from trafficai.runtime.device_settings import DeviceNetworkSettings
from trafficai.runtime.session import run_headless
from trafficai.storage import RunStore
from trafficai.storage.devices import BinRow, DeviceStore

pytestmark = pytest.mark.sumo
TRUTH = DeviceNetworkSettings(cameras="truth")


def _run(faults: str, seed: int = 0) -> tuple[list[BinRow], list[object]]:
    config = RunConfig(scenario="single", end_s=600, bin_s=30, faults=(parse_fault(faults),))
    config = config.model_copy(update={"sim": config.sim.model_copy(update={"seed": seed})})
    with RunStore() as store:
        result = run_headless(config, store, devices=TRUTH)
        path = store.path
    with DeviceStore(path) as devices:
        bins = [b for b in devices.bins(result.run_id) if b.device_id == "cam.cam_C"]
    return bins, list(result.events)


def test_a_blacked_out_truth_camera_is_flagged_and_its_bins_are_dark(isolated_data_dir) -> None:  # type: ignore[no-untyped-def]
    bins, events = _run("cam_C:blackout@240")
    flags = [e for e in events if e.kind == "detector" and e.object_id == "cam_C"]  # type: ignore[attr-defined]
    assert flags and flags[0].severity == "alarm" and "blackout" in flags[0].message  # type: ignore[attr-defined]
    assert 240 < flags[0].time_s <= 240 + 150  # type: ignore[attr-defined]
    seen = [sum(v for k, v in b.values.items() if k.startswith("approach.")) for b in bins]
    assert sum(seen[:8]) > 10 and sum(seen[8:]) == 0  # from the 9th bin on (after the onset): nothing seen
    assert not any(k.startswith("speed.") for b in bins[8:] for k in b.values)


def test_camera_packet_loss_is_reproducible_by_seed(isolated_data_dir) -> None:  # type: ignore[no-untyped-def]
    runs = [_run("cam_C:packet-loss@0:0.4", seed) for seed in (3, 3, 4)]
    seqs = [[b.seq for b in bins] for bins, _ in runs]
    assert seqs[0] == seqs[1] and len(seqs[0]) < 20  # some of the 20 bins lost, the same ones
    assert seqs[0] != seqs[2]
    gaps = [e for e in runs[0][1] if e.kind == "detector" and "sequence gap" in e.message]  # type: ignore[attr-defined]
    assert gaps


def test_bad_camera_faults_are_one_clear_line(isolated_data_dir) -> None:  # type: ignore[no-untyped-def]
    base = ["run", "single", "--end", "30"]
    cases = [
        ([*base, "--fault", "cam_C:blackout@0"], ("cam_C", "--cameras truth")),
        ([*base, "--cameras", "truth", "--fault", "cam_X:blackout@0"], ("unknown device 'cam_X'", "cam_C")),
        ([*base, "--cameras", "truth", "--fault", "cam_C:stuck-on@0"], ("camera cam_C takes", "blackout")),
        ([*base, "--fault", "e1_E_app_0:blackout@0"], ("blackout is not a fault of a loop",)),
    ]
    for args, needles in cases:
        assert_one_line_error(trafficai(*args), *needles)


TIMING = [("latency", "late: bins arrive 60 s"), ("clock-skew", "120 s ahead")]


@pytest.mark.parametrize(("fault", "says"), TIMING)
def test_a_late_or_skewed_camera_is_suspect_on_a_real_run(isolated_data_dir, fault: str, says: str) -> None:  # type: ignore[no-untyped-def]
    _, events = _run(f"cam_C:{fault}@240")
    flags = [e for e in events if e.kind == "detector" and e.object_id == "cam_C"]  # type: ignore[attr-defined]
    assert flags and flags[0].severity == "warning" and says in flags[0].message, flags  # type: ignore[attr-defined]
    assert 240 < flags[0].time_s <= 240 + 150  # type: ignore[attr-defined]
