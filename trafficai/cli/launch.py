"""What every command that starts a simulation does first: scenario, layered config, controller.

A typo (scenario, controller, config value) is refused here in one line, before SUMO or a window
starts.
"""

from __future__ import annotations

from typing import Any

from trafficai.config import RunConfig, resolve_run_config


def resolve_launch(scenario: str, flags: dict[str, Any]) -> RunConfig:
    """The run config of ``scenario``: its manifest's defaults < user config ``[run]`` <
    ``TRAFFICAI_`` environment < ``flags`` (``None``: not given), with the controller checked."""
    from trafficai.control.registry import check_controller
    from trafficai.core.scenario import resolve_scenario

    resolved = resolve_scenario(scenario)
    config = resolve_run_config(
        {**flags, "scenario": scenario}, manifest={"controller": resolved.default_controller}
    )
    check_controller(config.controller)
    return config
