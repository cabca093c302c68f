"""A trained policy as a :class:`~trafficai.control.controller.Controller`.

It builds the same observations as the training environment (same pure functions, same padding:
the model's own), asks the policy for a green stage per signal (deterministically) and returns the
requests; the safety layer does the rest, exactly as for the baselines. ``RLController()`` uses the
zoo policy trained on this network's signals; ``RLController(path)`` any model file. A model that
does not fit the signals it is given is refused with a :class:`~trafficai.errors.ModelError` saying
what differs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trafficai.control.controller import ControlContext, Controller
from trafficai.control.rl.config import LANE_FEATURES, PHASE_FEATURES, ObservationConfig
from trafficai.control.rl.model import ModelMeta, check_compatible, load_algorithm, read_meta
from trafficai.control.rl.observations import (
    PhaseState,
    SignalTopology,
    build_topology,
    observation_size,
    observe,
)
from trafficai.control.rl.zoo import ZOO_DECISION_INTERVAL_S, find_for_signals
from trafficai.control.safety import SignalStatus
from trafficai.core.signals import green_stages
from trafficai.core.snapshot import DETECTORS, LANE_COUNTS, LANE_FLOW, Snapshot
from trafficai.errors import ConfigError, ModelError


def snapshot_parts(config: ObservationConfig) -> frozenset[str]:
    """The snapshot parts these observations read."""
    if config.source == "sensors":
        uses = any(f in LANE_FEATURES or f in PHASE_FEATURES for f in config.features)
        return frozenset({DETECTORS}) if uses else frozenset()
    parts: set[str] = set()
    for feature in config.features:
        if feature in ("queue", "density") or feature in PHASE_FEATURES:
            parts.add(LANE_COUNTS)
        elif feature in ("occupancy", "speed"):
            parts.add(LANE_FLOW)
    return frozenset(parts)


class RLController(Controller):
    name = "rl"

    def __init__(self, model_path: str | Path | None = None) -> None:
        self.model_path = Path(model_path).expanduser() if model_path is not None else None
        self.meta: ModelMeta | None = read_meta(self.model_path) if self.model_path is not None else None
        self.decision_interval_s = self.meta.env.delta_time_s if self.meta else ZOO_DECISION_INTERVAL_S
        self.needs = (
            snapshot_parts(self.meta.env.observation)
            if self.meta
            else frozenset({LANE_COUNTS, LANE_FLOW, DETECTORS})
        )
        self.model: Any = None
        self.topology: SignalTopology | None = None

    def reset(self, context: ControlContext) -> None:
        super().reset(context)
        geometry = context.geometry
        path, meta = self.model_path, self.meta
        if meta is None or path is None:
            wanted = {
                s: (
                    green_stages(geometry.signal(s).program),
                    tuple(geometry.lanes.ids[v] for v in sorted(geometry.signal(s).incoming_lanes)),
                )
                for s in context.signal_ids
            }
            entry = find_for_signals(wanted)
            path, meta = entry.path, entry.meta
            if meta.env.delta_time_s != self.decision_interval_s:
                raise ModelError(
                    f"zoo policy {path} decides every {meta.env.delta_time_s:g} s; "
                    f"zoo policies must use {ZOO_DECISION_INTERVAL_S:g} s"
                )
            self.needs = snapshot_parts(meta.env.observation)
        try:
            topology = build_topology(
                geometry,
                context.signal_ids,
                meta.env.observation.vehicle_space_m,
                pad_lanes=meta.max_lanes,
                pad_phases=meta.max_phases,
            )
        except ConfigError as exc:
            raise ModelError(
                f"model trained on scenario '{meta.scenario}' "
                f"(observation {meta.obs_size}, {meta.n_actions} actions) "
                f"does not fit these signals: {exc}"
            ) from exc
        check_compatible(meta, topology, observation_size(topology, meta.env.observation), "these signals")
        self.model = load_algorithm(path, meta)
        self.model_path, self.meta, self.topology = path, meta, topology

    def decide(self, snapshot: Snapshot, status: Mapping[str, SignalStatus]) -> dict[str, int]:
        assert self.topology is not None and self.meta is not None
        topology = self.topology
        statuses = [status[s] for s in topology.signal_ids]
        obs = observe(topology, self.meta.env.observation, snapshot, PhaseState.from_statuses(statuses))
        actions, _ = self.model.predict(obs, deterministic=True)
        out: dict[str, int] = {}
        for i, st in enumerate(statuses):
            if not st.controlled:
                continue
            action = int(actions[i])  # a stage the signal lacks keeps its green, as in training
            out[st.signal_id] = action if action < topology.n_greens[i] else st.current_green
        return out
