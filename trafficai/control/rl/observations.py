"""Observations as pure functions of a snapshot and the signals' phase state.

All controlled signals are observed at once, vectorised: a :class:`SignalTopology` built once from
the network holds, per signal, its approach lanes (padded to the most any controlled signal has),
its green stages (padded likewise) and which lanes each stage serves. Every signal's observation
has the same length, so one shared policy serves intersections with different numbers of lanes
and phases; the last ``max_phases`` entries are the action mask (1 = the stage exists).

Layout of one observation row, in the configured feature order::

    phase          one-hot of the current green stage            max_phases
    min_green      1 once min green has passed (may switch)      1
    time_in_green  seconds in the current green / norm, <= 1     1
    queue          halting vehicles / lane capacity, <= 1        max_lanes
    density        vehicles / lane capacity, <= 1                max_lanes
    occupancy      occupancy 0..1                                max_lanes
    speed          mean speed / speed limit, 0..1                max_lanes
    loop_occupancy E1 loop occupancy 0..1 (sensors only)         max_lanes
    phase_queue    per stage: halting / capacity of its lanes    max_phases
    phase_density  per stage: vehicles / capacity of its lanes   max_phases
    phase_pressure per stage: density in - density out, -1..1    max_phases
    (mask)         1 for stages the signal has                   max_phases

With ``source = "sensors"`` every lane value comes from the E2 area detector on that lane (its
capacity is the detector length), ``loop_occupancy`` from the E1 loop; lanes without a detector
read 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from trafficai.control.rl.config import LANE_FEATURES, PHASE_FEATURES, ObservationConfig, RewardKind
from trafficai.control.safety import SignalStatus
from trafficai.core.geometry import NetGeometry
from trafficai.core.signals import GREEN_CHARS, green_stages
from trafficai.core.snapshot import Snapshot
from trafficai.errors import ConfigError
from trafficai.sim.partial_read import ReadSpec

F32 = NDArray[np.float32]
I64 = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class SignalTopology:
    """Static tables for N controlled signals, padded to ``max_lanes`` / ``max_phases``."""

    signal_ids: tuple[str, ...]
    greens: tuple[tuple[str, ...], ...]  # per signal: green stage states
    lane_ids: tuple[tuple[str, ...], ...]  # per signal: approach lane ids (sorted)
    n_greens: I64  # (N,)
    max_lanes: int
    max_phases: int
    lane_idx: I64  # (N, L) geometry lane index (padding: 0, masked by lane_valid)
    lane_valid: F32  # (N, L)
    lane_cap: F32  # (N, L) vehicles that fit on the lane (padding: 1)
    lane_vmax: F32  # (N, L) m/s (padding: 1)
    out_idx: I64  # (N, O) outgoing lanes
    out_valid: F32
    out_cap: F32
    stage_in: F32  # (N, P, L) 1 where stage p serves approach lane l
    stage_out: F32  # (N, P, O)
    e2_idx: I64  # (N, L) E2 detector on the approach lane (padding / none: 0, masked)
    e2_valid: F32
    e2_cap: F32
    e2_out_idx: I64  # (N, O)
    e2_out_valid: F32
    e2_out_cap: F32
    e1_idx: I64  # (N, L)
    e1_valid: F32

    @property
    def n_signals(self) -> int:
        return len(self.signal_ids)

    def action_mask(self) -> F32:
        """(N, P): 1 where the signal has that green stage."""
        return (np.arange(self.max_phases)[None, :] < self.n_greens[:, None]).astype(np.float32)


def _pad(rows: Sequence[Sequence[float]], width: int, fill: float, dtype: type) -> NDArray[np.generic]:
    out: NDArray[np.generic] = np.full((len(rows), width), fill, dtype=dtype)
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return out


def _detector_on(lanes: NDArray[np.int32], positions: NDArray[np.float64]) -> dict[int, int]:
    """Lane index -> the detector nearest the stop line on it."""
    best: dict[int, int] = {}
    for det, lane in enumerate(lanes.tolist()):
        if lane >= 0 and (lane not in best or positions[det] > positions[best[lane]]):
            best[lane] = det
    return best


@dataclass(frozen=True, slots=True)
class _SignalRows:
    """Per signal: its approach lanes, the outgoing lanes its greens feed, and for each green stage
    the positions (in those lists) of the lanes it serves."""

    lanes: list[list[int]]
    outs: list[list[int]]
    stage_in: list[list[list[int]]]
    stage_out: list[list[list[int]]]


def _signal_rows(
    geometry: NetGeometry, ids: tuple[str, ...], greens: dict[str, tuple[str, ...]]
) -> _SignalRows:
    rows = _SignalRows([], [], [], [])
    for signal_id in ids:
        info = geometry.signal(signal_id)
        served = [
            [
                lk
                for lk in info.links
                if lk.in_lane >= 0 and lk.index < len(state) and state[lk.index] in GREEN_CHARS
            ]
            for state in greens[signal_id]
        ]
        lanes = sorted(info.incoming_lanes)
        outs = sorted({lk.out_lane for links in served for lk in links if lk.out_lane >= 0})
        pos = {lane: k for k, lane in enumerate(lanes)}
        opos = {lane: k for k, lane in enumerate(outs)}
        rows.lanes.append(lanes)
        rows.outs.append(outs)
        rows.stage_in.append([sorted({pos[lk.in_lane] for lk in links}) for links in served])
        rows.stage_out.append(
            [sorted({opos[lk.out_lane] for lk in links if lk.out_lane >= 0}) for links in served]
        )
    return rows


def _padded_sizes(
    ids: tuple[str, ...], rows: _SignalRows, n_greens: I64, pad_lanes: int | None, pad_phases: int | None
) -> tuple[int, int]:
    """The lane and phase widths of the tables; a pad smaller than a signal needs is a ConfigError."""
    need_lanes = max((len(r) for r in rows.lanes), default=1) or 1
    need_phases = int(n_greens.max()) if len(ids) else 2
    if pad_lanes is not None and pad_lanes < need_lanes:
        worst = ids[int(np.argmax([len(r) for r in rows.lanes]))]
        raise ConfigError(
            f"signal {worst} has {need_lanes} approach lanes, more than pad_lanes = {pad_lanes}"
        )
    if pad_phases is not None and pad_phases < need_phases:
        worst = ids[int(np.argmax(n_greens))]
        raise ConfigError(
            f"signal {worst} has {need_phases} green stages, more than pad_phases = {pad_phases}"
        )
    return pad_lanes or need_lanes, pad_phases or max(need_phases, 2)


def _stage_mask(stage_rows: list[list[list[int]]], phases: int, width: int) -> F32:
    mask = np.zeros((len(stage_rows), phases, width), np.float32)
    for i, stages in enumerate(stage_rows):
        for p, members in enumerate(stages):
            mask[i, p, members] = 1.0
    return mask


def _capacities(rows: list[list[int]], width: int, lane_lengths: NDArray[np.float64], space_m: float) -> F32:
    return _pad(
        [[max(lane_lengths[v] / space_m, 1.0) for v in r] for r in rows], width, 1.0, np.float32
    )  # type: ignore[return-value]


def _detector_tables(
    rows: list[list[int]], width: int, table: dict[int, int], lengths: NDArray[np.float64], space_m: float
) -> tuple[I64, F32, F32]:
    """Per lane of ``rows``: the index of the detector on it, whether there is one, its capacity."""
    idx = _pad([[table.get(v, 0) for v in r] for r in rows], width, 0, np.int64)
    valid = _pad([[1.0 if v in table else 0.0 for v in r] for r in rows], width, 0.0, np.float32)
    cap = _pad(
        [[max(lengths[table[v]] / space_m, 1.0) if v in table else 1.0 for v in r] for r in rows],
        width,
        1.0,
        np.float32,
    )
    return idx, valid, cap  # type: ignore[return-value]


def build_topology(
    geometry: NetGeometry,
    signal_ids: Sequence[str],
    vehicle_space_m: float = 7.5,
    pad_lanes: int | None = None,
    pad_phases: int | None = None,
) -> SignalTopology:
    ids = tuple(signal_ids)
    greens = {s: green_stages(geometry.signal(s).program) for s in ids}
    lane_lengths = geometry.lanes.lengths
    lane_speeds = geometry.lanes.max_speeds
    e2_of = _detector_on(geometry.e2.lanes, geometry.e2.positions)
    e1_of = _detector_on(geometry.e1.lanes, geometry.e1.positions)
    rows = _signal_rows(geometry, ids, greens)
    n_greens = np.array([len(greens[s]) for s in ids], dtype=np.int64)
    L, P = _padded_sizes(ids, rows, n_greens, pad_lanes, pad_phases)
    n_out = max((len(r) for r in rows.outs), default=1) or 1
    e2_lengths = geometry.e2.lengths
    e2_idx, e2_valid, e2_cap = _detector_tables(rows.lanes, L, e2_of, e2_lengths, vehicle_space_m)
    e2o_idx, e2o_valid, e2o_cap = _detector_tables(rows.outs, n_out, e2_of, e2_lengths, vehicle_space_m)
    e1_idx, e1_valid, _ = _detector_tables(rows.lanes, L, e1_of, np.ones(len(geometry.e1)), vehicle_space_m)
    return SignalTopology(
        signal_ids=ids,
        greens=tuple(greens[s] for s in ids),
        lane_ids=tuple(tuple(geometry.lanes.ids[v] for v in r) for r in rows.lanes),
        n_greens=n_greens,
        max_lanes=L,
        max_phases=P,
        lane_idx=_pad(rows.lanes, L, 0, np.int64),  # type: ignore[arg-type]
        lane_valid=_pad([[1.0] * len(r) for r in rows.lanes], L, 0.0, np.float32),  # type: ignore[arg-type]
        lane_cap=_capacities(rows.lanes, L, lane_lengths, vehicle_space_m),
        lane_vmax=_pad([[max(lane_speeds[v], 0.1) for v in r] for r in rows.lanes], L, 1.0, np.float32),  # type: ignore[arg-type]
        out_idx=_pad(rows.outs, n_out, 0, np.int64),  # type: ignore[arg-type]
        out_valid=_pad([[1.0] * len(r) for r in rows.outs], n_out, 0.0, np.float32),  # type: ignore[arg-type]
        out_cap=_capacities(rows.outs, n_out, lane_lengths, vehicle_space_m),
        stage_in=_stage_mask(rows.stage_in, P, L),
        stage_out=_stage_mask(rows.stage_out, P, n_out),
        e2_idx=e2_idx,
        e2_valid=e2_valid,
        e2_cap=e2_cap,
        e2_out_idx=e2o_idx,
        e2_out_valid=e2o_valid,
        e2_out_cap=e2o_cap,
        e1_idx=e1_idx,
        e1_valid=e1_valid,
    )


def observation_size(topology: SignalTopology, config: ObservationConfig) -> int:
    sizes = {"phase": topology.max_phases, "min_green": 1, "time_in_green": 1}
    total = 0
    for feature in config.features:
        if feature in sizes:
            total += sizes[feature]
        elif feature in LANE_FEATURES:
            total += topology.max_lanes
        else:
            total += topology.max_phases
    return total + topology.max_phases  # the action mask


def feature_slices(topology: SignalTopology, config: ObservationConfig) -> dict[str, slice]:
    """Where each feature (and ``mask``) sits in an observation row."""
    out: dict[str, slice] = {}
    start = 0
    for feature in (*config.features, "mask"):
        if feature in ("min_green", "time_in_green"):
            width = 1
        elif feature in LANE_FEATURES:
            width = topology.max_lanes
        else:
            width = topology.max_phases
        out[feature] = slice(start, start + width)
        start += width
    return out


@dataclass(frozen=True, slots=True)
class PhaseState:
    """What the safety layer reports about each controlled signal, as arrays."""

    current: I64  # (N,) current green stage; -1 while the signal is not (yet) controlled
    can_switch: F32  # (N,) 1 when min green has passed
    green_time_s: F32  # (N,) seconds in the current green (0 during clearance)

    @staticmethod
    def from_statuses(statuses: Sequence[SignalStatus]) -> PhaseState:
        rows = [
            (
                s.current_green if s.controlled else -1,
                s.can_switch,
                s.time_in_stage_s if s.stage == "green" else 0.0,
            )
            for s in statuses
        ]
        current, can_switch, green_time = zip(*rows, strict=True) if rows else ((), (), ())
        return PhaseState.from_rows(current, can_switch, green_time)

    @staticmethod
    def from_rows(
        current: Sequence[int], can_switch: Sequence[bool], green_time_s: Sequence[float]
    ) -> PhaseState:
        """From per-signal columns (as :meth:`SafetyLayer.phase_rows` gives them)."""
        return PhaseState(
            np.array(current, dtype=np.int64),
            np.array(can_switch, dtype=np.float32),
            np.array(green_time_s, dtype=np.float32),
        )


def _lane_values(topology: SignalTopology, snapshot: Snapshot, feature: str, source: str) -> F32:
    t = topology
    raw: NDArray[np.floating[Any]]
    if source == "sensors":
        det = snapshot.detectors
        if feature == "loop_occupancy":
            return det.e1_occupancy[t.e1_idx] * t.e1_valid  # type: ignore[no-any-return]
        if feature == "queue":
            raw = det.e2_halting[t.e2_idx] / t.e2_cap
        elif feature == "density":
            raw = det.e2_vehicles[t.e2_idx] / t.e2_cap
        elif feature == "occupancy":
            raw = det.e2_occupancy[t.e2_idx]
        else:  # speed; E2 reports -1 when no vehicle is on it: free flow
            speed = det.e2_speed[t.e2_idx]
            raw = np.where(speed < 0, 1.0, speed / t.lane_vmax)
        return np.clip(raw, 0.0, 1.0).astype(np.float32) * t.e2_valid  # type: ignore[no-any-return]
    lanes = snapshot.lanes
    if feature == "queue":
        raw = lanes.halting[t.lane_idx] / t.lane_cap
    elif feature == "density":
        raw = lanes.vehicles[t.lane_idx] / t.lane_cap
    elif feature == "occupancy":
        raw = lanes.occupancy[t.lane_idx]
    elif feature == "speed":
        raw = lanes.mean_speed[t.lane_idx] / t.lane_vmax
    else:
        raise ConfigError(f"observation feature {feature!r} needs source = 'sensors'")
    return np.clip(raw, 0.0, 1.0).astype(np.float32) * t.lane_valid  # type: ignore[no-any-return]


def _stage_sum(membership: F32, values: F32) -> F32:
    """(N, P, K) x (N, K) -> (N, P)."""
    return np.einsum("npk,nk->np", membership, values)  # type: ignore[no-any-return]


def _phase_values(topology: SignalTopology, snapshot: Snapshot, feature: str, source: str) -> F32:
    t = topology
    if source == "sensors":
        det = snapshot.detectors
        cap_in = t.e2_cap * t.e2_valid
        halting = det.e2_halting[t.e2_idx] * t.e2_valid
        vehicles = det.e2_vehicles[t.e2_idx] * t.e2_valid
        out_vehicles = det.e2_vehicles[t.e2_out_idx] * t.e2_out_valid
        cap_out = t.e2_out_cap * t.e2_out_valid
    else:
        lanes = snapshot.lanes
        cap_in = t.lane_cap * t.lane_valid
        halting = lanes.halting[t.lane_idx] * t.lane_valid
        vehicles = lanes.vehicles[t.lane_idx] * t.lane_valid
        out_vehicles = lanes.vehicles[t.out_idx] * t.out_valid
        cap_out = t.out_cap * t.out_valid
    in_cap = np.maximum(_stage_sum(t.stage_in, cap_in.astype(np.float32)), 1.0)
    if feature == "phase_queue":
        raw = _stage_sum(t.stage_in, halting.astype(np.float32)) / in_cap
        return np.clip(raw, 0.0, 1.0).astype(np.float32)
    density_in = _stage_sum(t.stage_in, vehicles.astype(np.float32)) / in_cap
    if feature == "phase_density":
        return np.clip(density_in, 0.0, 1.0).astype(np.float32)
    out_cap = np.maximum(_stage_sum(t.stage_out, cap_out.astype(np.float32)), 1.0)
    density_out = _stage_sum(t.stage_out, out_vehicles.astype(np.float32)) / out_cap
    return np.clip(density_in - density_out, -1.0, 1.0).astype(np.float32)


def observe(
    topology: SignalTopology, config: ObservationConfig, snapshot: Snapshot, phase: PhaseState
) -> F32:
    """(N, D) float32 observations of every controlled signal; see the module docstring."""
    t = topology
    n, P = t.n_signals, t.max_phases
    parts: list[F32] = []
    for feature in config.features:
        if feature == "phase":
            onehot = np.zeros((n, P), np.float32)
            rows = np.nonzero(phase.current >= 0)[0]
            onehot[rows, phase.current[rows]] = 1.0
            parts.append(onehot)
        elif feature == "min_green":
            parts.append(phase.can_switch.reshape(n, 1).astype(np.float32))
        elif feature == "time_in_green":
            parts.append(
                np.minimum(phase.green_time_s / config.max_green_norm_s, 1.0).reshape(n, 1).astype(np.float32)
            )
        elif feature in LANE_FEATURES:
            parts.append(_lane_values(t, snapshot, feature, config.source))
        elif feature in PHASE_FEATURES:
            parts.append(_phase_values(t, snapshot, feature, config.source))
        else:  # pragma: no cover - the config validates feature names
            raise ConfigError(f"unknown observation feature {feature!r}")
    parts.append(t.action_mask())
    return np.concatenate(parts, axis=1).astype(np.float32, copy=False)


_LANE_FIELD_OF = {"queue": "halting", "density": "vehicles", "occupancy": "occupancy", "speed": "mean_speed"}
_E2_FIELD_OF = {"queue": "halting", "density": "vehicles", "occupancy": "occupancy", "speed": "speed"}
_REWARD_FIELDS: dict[str, tuple[str, ...]] = {
    "diff-waiting-time": ("waiting",),
    "queue": ("halting",),
    "pressure": ("vehicles",),
    "delay": ("vehicles", "mean_speed"),
    "total-delay": ("vehicles", "mean_speed"),  # + the insertion backlog (trafficai.sim.backlog)
}


def read_spec(topology: SignalTopology, config: ObservationConfig, reward: RewardKind | None) -> ReadSpec:
    """The least a decision needs to read from SUMO for these observations and this reward."""
    t = topology
    lane_fields: set[str] = set()
    e1_fields: set[str] = set()
    e2_fields: set[str] = set()
    need_out = reward == "pressure"
    for feature in config.features:
        if feature in LANE_FEATURES:
            if config.source == "sensors":
                if feature == "loop_occupancy":
                    e1_fields.add("occupancy")
                else:
                    e2_fields.add(_E2_FIELD_OF[feature])
            else:
                lane_fields.add(_LANE_FIELD_OF[feature])
        elif feature in PHASE_FEATURES:
            fields = {
                "phase_queue": {"halting"},
                "phase_density": {"vehicles"},
                "phase_pressure": {"vehicles"},
            }[feature]
            if config.source == "sensors":
                e2_fields |= fields
            else:
                lane_fields |= fields
                need_out = need_out or feature == "phase_pressure"
    sensor_out = config.source == "sensors" and "phase_pressure" in config.features
    if reward is not None:
        lane_fields.update(_REWARD_FIELDS[reward])
    lanes = {int(v) for v in t.lane_idx[t.lane_valid > 0].tolist()} if lane_fields else set()
    if need_out and lane_fields:
        lanes |= {int(v) for v in t.out_idx[t.out_valid > 0].tolist()}
    e2 = {int(v) for v in t.e2_idx[t.e2_valid > 0].tolist()} if e2_fields else set()
    if sensor_out:
        e2 |= {int(v) for v in t.e2_out_idx[t.e2_out_valid > 0].tolist()}
    e1 = {int(v) for v in t.e1_idx[t.e1_valid > 0].tolist()} if e1_fields else set()
    return ReadSpec(
        lanes=tuple(sorted(lanes)),
        lane_fields=frozenset(lane_fields),
        e1=tuple(sorted(e1)),
        e1_fields=frozenset(e1_fields),
        e2=tuple(sorted(e2)),
        e2_fields=frozenset(e2_fields),
    )
