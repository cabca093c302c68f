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
    manifest: dict[str, Any] = {"controller": resolved.default_controller}
    if resolved.incidents:
        manifest["incidents"] = [i.model_dump() for i in resolved.incidents]
    extra = flags.get("incidents")
    if extra:  # --incident adds to the manifest's incidents rather than replacing them
        flags = {**flags, "incidents": [*manifest.get("incidents", []), *extra]}
    if resolved.faults:
        manifest["faults"] = [f.model_dump() for f in resolved.faults]
    more_faults = flags.get("faults")
    if more_faults:  # --fault adds to the manifest's faults too
        flags = {**flags, "faults": [*manifest.get("faults", []), *more_faults]}
    config = resolve_run_config({**flags, "scenario": scenario}, manifest=manifest)
    check_controller(config.controller)
    return config
