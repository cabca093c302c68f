"""The camera options of ``run`` and ``iot run`` (``--cameras``, ``--camera-placement``,
``--camera-detector``, ``--camera-weights``): defined once, shared, and bad values are one line."""

from __future__ import annotations

import pytest

from tests.cli.support import assert_one_line_error, trafficai

GRID = "tests/data/grid2x2/grid2x2.sumocfg"


def test_bad_camera_options_are_one_clear_line(isolated_data_dir) -> None:  # type: ignore[no-untyped-def]
    cases = [
        (["run", "single", "--end", "30", "--cameras", "bogus"], ("--cameras", "bogus")),
        (["run", "single", "--cameras", "truth", "--camera-placement", "x"], ("--camera-placement",)),
        (["run", "single", "--end", "30", "--camera-detector", "yolo"], ("--camera-detector", "yolo")),
        (["iot", "run", "single", "--end", "30", "--camera-detector", "yolo"], ("--camera-detector",)),
        (["iot", "export", "abc", "--format", "parquet"], ("--out",)),
    ]  # fmt: skip
    for args, needles in cases:
        assert_one_line_error(trafficai(*args), *needles)


@pytest.mark.sumo
def test_manifest_placement_on_a_net_without_cameras_names_the_fix(isolated_data_dir) -> None:  # type: ignore[no-untyped-def]
    proc = trafficai("run", GRID, "--end", "30", "--cameras", "truth", "--json")
    assert_one_line_error(proc, "no [[cameras]]", "--camera-placement auto")
    auto = trafficai("run", GRID, "--end", "30", "--cameras", "truth", "--camera-placement", "auto")
    assert auto.returncode == 0, auto.stderr


def test_one_definition_per_camera_option() -> None:
    help_text = trafficai("run", "--help").stdout + trafficai("iot", "run", "--help").stdout
    for option in ("--cameras", "--camera-placement", "--camera-detector", "--camera-weights"):
        assert option in help_text
    run_help = trafficai("run", "--help").stdout
    assert run_help.count("--camera-fps") == 1 and "--perfect-cameras" not in run_help
