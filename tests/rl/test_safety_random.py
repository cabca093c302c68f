"""Random agents can never cause an unsafe transition: SUMO's own state is checked every step."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import DATA
from tests.support.safety_monitor import SafetyMonitor
from trafficai.control.rl.config import EnvConfig
from trafficai.control.rl.episode import ControlledEpisodes
from trafficai.core.signals import is_green

pytestmark = pytest.mark.sumo


def _monitors(episodes: ControlledEpisodes) -> dict[str, SafetyMonitor]:
    out = {}
    for info in episodes.backend.geometry.signals:
        if info.id in episodes.signal_ids:
            yellows = [p.duration for p in info.program.phases if "y" in p.state.lower()]
            out[info.id] = SafetyMonitor(yellow_steps=round(min(yellows) / episodes.backend.step_length_s))
    return out


def short_greens(trace: list[tuple[str, bool]], min_green_steps: int) -> list[int]:
    """Lengths of finished green runs (same state, begun under control) shorter than min green."""
    out, start = [], None
    for k, (state, controlled) in enumerate(trace):
        if start is not None and state != trace[start][0]:
            if k - start < min_green_steps:
                out.append(k - start)
            start = None
        if start is None and controlled and is_green(state) and k > 0 and trace[k - 1][0] != state:
            start = k
    return out


def run_random(scenario: str, episodes_n: int, seconds: float) -> int:
    """Random actions (re-drawn every decision, so often switching) over whole episodes."""
    config = EnvConfig(scenario=scenario, episode_s=seconds)
    min_green_steps = round(config.safety.min_green_s)
    monitors: dict[str, SafetyMonitor] = {}
    traces: dict[str, list[tuple[str, bool]]] = {}
    steps = 0

    def check(ep: ControlledEpisodes) -> None:
        nonlocal steps
        steps += 1
        for signal_id, monitor in monitors.items():
            state = ep.backend.signal_state(signal_id)
            monitor.observe(state)
            traces[signal_id].append((state, ep.loop.safety.is_controlled(signal_id)))

    episodes = ControlledEpisodes(config, on_sim_step=check)
    rng = np.random.default_rng(123)
    try:
        for e in range(episodes_n):
            monitors = _monitors(episodes)  # filled after reset, so the pre-roll is not checked
            traces = {s: [] for s in monitors}
            saved, monitors = monitors, {}
            episodes.reset(100 + e)
            monitors = saved
            done = False
            while not done:
                done = episodes.step(rng.integers(0, episodes.n_actions, len(episodes.signal_ids))).done
            for signal_id, monitor in monitors.items():
                assert monitor.violations == [], f"{scenario} {signal_id}: {monitor.violations[:3]}"
                assert short_greens(traces[signal_id], min_green_steps) == [], f"{scenario} {signal_id}"
    finally:
        episodes.close()
    return steps


def test_random_actions_are_always_safe_tiny(tiny: str) -> None:
    assert run_random(tiny, episodes_n=3, seconds=600) > 1700


@pytest.mark.parametrize("config", ["allred", "noalt", "actuated"])
def test_random_actions_are_always_safe_odd(config: str) -> None:
    assert run_random(str(DATA / "odd" / f"{config}.sumocfg"), episodes_n=2, seconds=600) > 1100


def test_random_actions_are_always_safe_long(grid2x2: str) -> None:
    """A long run: 4 signals, 10 episodes of 600 s, a new random request every 5 s."""
    assert run_random(grid2x2, episodes_n=10, seconds=600) > 5900


def test_random_actions_are_always_safe_grid4x4_hour() -> None:
    """16 signals with left-turn stages, one whole hour of random requests."""
    assert run_random("grid4x4", episodes_n=1, seconds=3600) > 3500
