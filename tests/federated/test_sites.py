"""Sites: the SITE grammar, districts, the refusal of a network without a controllable signal."""

from __future__ import annotations

import pytest

from tests.cli.support import assert_one_line_error, trafficai
from tests.conftest import DATA
from trafficai.errors import ConfigError, ScenarioError
from trafficai.federated.sites import Site, district_signals, inspect_site, parse_site
from trafficai.federated.traffic import bin_bytes, raw_bins_bytes

NO_SIGNALS = str(DATA / "odd" / "nosignals.sumocfg")
GRID = str(DATA / "grid2x2" / "scenario.toml")


def test_site_grammar() -> None:
    assert parse_site("grid4x4") == Site("grid4x4", "grid4x4")
    assert parse_site("grid4x4@1.2") == Site("grid4x4@1.2", "grid4x4", 1.2)
    assert parse_site("city@0.8#2/3") == Site("city@0.8#2/3", "city", 0.8, (2, 3))


@pytest.mark.parametrize(
    ("text", "needle"),
    [("city@x", "not a number"), ("city@0", "(0, 20]"), ("city#3/2", "1 <= K <= N"), ("@2", "expected")],
)
def test_bad_site(text: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle.replace("(", r"\(").replace("]", r"\]")):
        parse_site(text)


def test_districts_cut_the_signals_west_to_east() -> None:
    positions = {"a": (0.0, 0.0), "b": (300.0, 0.0), "c": (100.0, 5.0), "d": (200.0, 0.0), "e": (400.0, 0.0)}
    assert district_signals(positions, 1, 2) == ("a", "c")
    assert district_signals(positions, 2, 2) == ("d", "b", "e")
    everything = [s for k in (1, 2, 3) for s in district_signals(positions, k, 3)]
    assert sorted(everything) == sorted(positions)  # every signal in exactly one district
    with pytest.raises(ConfigError, match="6 districts"):
        district_signals(positions, 1, 6)


def test_inspect_a_site_and_a_district() -> None:
    whole = inspect_site(parse_site(GRID))
    assert len(whole.signals) == 4 and whole.max_stages >= 2 and whole.detectors
    west = inspect_site(parse_site(GRID + "#1/2"))
    east = inspect_site(parse_site(GRID + "#2/2"))
    assert len(west.signals) == 2 and set(west.signals) | set(east.signals) == set(whole.signals)


def test_a_site_without_a_controllable_signal_is_refused() -> None:
    with pytest.raises(ScenarioError, match=r"no controllable signal .*nothing to train there"):
        inspect_site(parse_site(NO_SIGNALS))


def test_the_command_refuses_it_in_one_line() -> None:
    proc = trafficai("federated", NO_SIGNALS, GRID, "--rounds", "1")
    assert_one_line_error(proc, f"site {NO_SIGNALS}", "no controllable signal")


def test_dp_with_weighting_by_decisions_is_refused_in_one_line() -> None:
    proc = trafficai("federated", GRID, GRID + "@1.5", "--weighting", "decisions", "--dp-clip", "1")
    assert_one_line_error(proc, "--dp-clip needs --weighting sites")


def test_raw_bins_cost_every_detector_every_30_s() -> None:
    info = inspect_site(parse_site(GRID))
    per_bin = sum(bin_bytes(d) for d in info.detectors)
    assert raw_bins_bytes(info, 600) == 20 * per_bin
    assert raw_bins_bytes(info, 601) == 21 * per_bin
    assert 60 < bin_bytes("e1_det") < 400  # a SenML pack of count, occupancy, speed
