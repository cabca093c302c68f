"""The bench tables: medians with their ranges, overhead_control with its verdict."""

from __future__ import annotations

import pytest
from rich.console import Console
from typer.testing import CliRunner

from tests.cli.support import cli_app
from trafficai.cli.bench import _gui_table, _rl_tables, spread_text


def rendered(table: object) -> str:
    console = Console(width=200, record=True)
    console.print(table)
    return console.export_text()


def spread(median: float, low: float, high: float) -> dict[str, float]:
    return {"median": median, "low": low, "high": high}


def test_a_spread_prints_as_median_and_range() -> None:
    assert rendered(spread_text(spread(1.234, 1.0, 2.5))).strip() == "1.23 [1.00-2.50]"
    assert rendered(spread_text(spread(12.0, 9.5, 20.0), 0)).strip() == "12 [10-20]"


@pytest.mark.sumo
def test_bench_sim_prints_every_variant_and_the_overhead_verdict(tiny: str) -> None:
    result = CliRunner().invoke(cli_app(), ["bench", "sim", tiny, "--end", "30", "--repeat", "2"])
    assert result.exit_code == 0, result.output
    words = " ".join(result.output.split())  # the table wraps at the runner's 80 columns
    for label in ("bare sumo", "libsumo", "controller", "median", "2 interleaved runs", "overhead_control"):
        assert label in words
    assert "target <= 1.10 (CPU median): met" in words or "target <= 1.10 (CPU median): missed" in words


def test_the_gui_table_shows_the_cpu_ratio_where_measured() -> None:
    s = spread(1.0, 0.5, 2.0)
    spreads = {
        k: s for k in ("fps", "frames_per_s", "gui_steps_per_s", "headless_steps_per_s", "gui_cpu_load")
    }
    result = {"scenario": "city", "vehicles": 5000, "rounds": 5, "max_stall_ms": 12.0, "spreads": spreads}
    spreads["sim_ratio"] = {"wall": spread(0.64, 0.6, 0.7), "cpu": spread(0.9, 0.8, 0.95)}
    text = rendered(_gui_table(result))
    assert "0.64 [0.60-0.70]" in text and "0.90 [0.80-0.95]" in text and "5 interleaved" in text
    spreads["sim_ratio"] = {"wall": spread(0.64, 0.6, 0.7)}
    assert "worker CPU" not in rendered(_gui_table(result))


def test_the_rl_tables_show_ratios_and_speedups_with_ranges() -> None:
    row = {"steps": 40, "steps_per_s_spread": spread(100.0, 90.0, 110.0)}
    result = {
        "scenario": "tiny",
        "agents": 1,
        "seconds": 200.0,
        "repeat": 3,
        "trafficai": row,
        "sumo_rl": row,
        "sumo_rl_version": "1.4.5",
        "ratios": {"vs_sumo_rl": {"wall": spread(1.5, 1.2, 1.8), "cpu": spread(1.4, 1.3, 1.6)}},
        "scaling": [
            {**row, "workers": 2, "agent_steps_per_s": 200.0, "speedup_spread": spread(1.7, 1.5, 1.9)}
        ],
    }
    table, scaling = _rl_tables(result)
    text = rendered(table) + rendered(scaling)
    assert "1.50 [1.20-1.80]" in text and "1.40 [1.30-1.60]" in text and "1.70 [1.50-1.90]" in text
