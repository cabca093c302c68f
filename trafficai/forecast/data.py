"""Simulated history as aligned arrays: days x bins x objects, read from the run store.

The objects are the induction loops (``e1_*``) and the signal approaches (``<signal>/<edge>``)
whose bins ``trafficai history`` stored. ``flow`` is vehicles per hour from each 30 s count;
``speed`` (m/s) is NaN in a bin where no vehicle gave one. Each object belongs to a *group*, its
signal (a loop: the signal of the approach on its lane's edge), which the learned model's
neighbour features average over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from trafficai.errors import ModelError
from trafficai.storage import RunStore, RunSummary

F64 = NDArray[np.float64]
HISTORY_KEY = "history"
_RUNS_SCANNED = 100_000


@dataclass(frozen=True, slots=True)
class HistoryDay:
    day: int
    day_type: str
    has_incident: bool
    run_id: str
    plan: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class History:
    """``flow`` and ``speed`` are ``(days, bins, objects)``; bin ``t`` ends at ``(t + 1) * bin_s``."""

    scenario: str
    set_id: str
    bin_s: float
    objects: tuple[str, ...]
    groups: tuple[str, ...]
    days: tuple[HistoryDay, ...]
    flow: F64
    speed: F64

    @property
    def n_bins(self) -> int:
        return int(self.flow.shape[1])

    @property
    def day_types(self) -> tuple[str, ...]:
        return tuple(d.day_type for d in self.days)

    def subset(self, index: list[int] | NDArray[np.int64]) -> History:
        idx = np.asarray(index, dtype=np.int64)
        return History(
            self.scenario,
            self.set_id,
            self.bin_s,
            self.objects,
            self.groups,
            tuple(self.days[i] for i in idx),
            self.flow[idx],
            self.speed[idx],
        )


def object_groups(objects: tuple[str, ...]) -> tuple[str, ...]:
    """Each object's signal: an approach's own, a loop's through the edge its lane is on."""
    signal_of_edge = {o.split("/", 1)[1]: o.split("/", 1)[0] for o in objects if "/" in o}
    out = []
    for obj in objects:
        if "/" in obj:
            out.append(obj.split("/", 1)[0])
            continue
        lane = obj.removeprefix("e1_")
        out.append(signal_of_edge.get(lane.rsplit("_", 1)[0], ""))
    return tuple(out)


def history_runs(store: RunStore, scenario: str, set_id: str | None = None) -> tuple[str, list[RunSummary]]:
    """The completed history days of ``scenario`` in one set (default: the set with most days,
    the newest on a tie); a day recorded twice counts once, its newest run."""
    runs = [
        r
        for r in store.list_runs(_RUNS_SCANNED)
        if r.status == "completed" and r.scenario == scenario and isinstance(r.config.get(HISTORY_KEY), dict)
    ]
    by_set: dict[str, dict[int, RunSummary]] = {}
    for run in runs:  # newest first: the first run of a day wins
        record = run.config[HISTORY_KEY]
        by_set.setdefault(str(record["set"]), {}).setdefault(int(record["day"]), run)
    if not by_set:
        raise ModelError(
            f"no history of {scenario} in {store.path} (run `trafficai history {scenario} --days 14` first)"
        )
    if set_id is None:
        set_id = max(by_set, key=lambda s: len(by_set[s]))
    elif set_id not in by_set:
        raise ModelError(f"no history set {set_id!r} of {scenario} (sets: {', '.join(sorted(by_set))})")
    days = by_set[set_id]
    return set_id, [days[d] for d in sorted(days)]


_RunArrays = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_], F64]


def _read_run(store: RunStore, run: RunSummary, bin_s: float, columns: dict[str, int]) -> _RunArrays:
    """A day's count and speed values: bin index, object column (numbered in ``columns`` as first
    seen), is-a-speed flag, value."""
    t_idx: list[int] = []
    o_idx: list[int] = []
    is_speed: list[bool] = []
    values: list[float] = []
    begin = float(run.config.get("resolved_scenario", {}).get("begin_s", 0.0))
    for row in store.iter_series(run.id, "detector", ("count", "speed")):
        t_idx.append(round((row.t_end - begin) / bin_s) - 1)
        o_idx.append(columns.setdefault(row.object_id, len(columns)))
        is_speed.append(row.metric == "speed")
        values.append(row.value)
    return (
        np.array(t_idx, dtype=np.int64),
        np.array(o_idx, dtype=np.int64),
        np.array(is_speed, dtype=bool),
        np.array(values, dtype=float),
    )


def load_history(store: RunStore, scenario: str, set_id: str | None = None) -> History:
    """Every day of one history set as arrays (see :class:`History`)."""
    set_id, runs = history_runs(store, scenario, set_id)
    bin_s = float(runs[0].config[HISTORY_KEY].get("bin_s", 30.0))
    n_bins = round(float(runs[0].config[HISTORY_KEY]["day_s"]) / bin_s)
    columns: dict[str, int] = {}
    raw = [_read_run(store, run, bin_s, columns) for run in runs]
    order = sorted(columns, key=lambda o: ("/" not in o, o))  # approaches first, then loops
    remap = np.array([order.index(o) for o in sorted(columns, key=columns.__getitem__)], dtype=np.int64)
    flow = np.full((len(runs), n_bins, len(order)), np.nan)
    speed = np.full_like(flow, np.nan)
    for d, (t_idx, o_idx, is_speed, values) in enumerate(raw):
        if t_idx.size == 0:
            continue
        ok = (t_idx >= 0) & (t_idx < n_bins)
        cols = remap[o_idx]
        counts, speeds = ok & ~is_speed, ok & is_speed
        flow[d, t_idx[counts], cols[counts]] = values[counts] * 3600.0 / bin_s
        speed[d, t_idx[speeds], cols[speeds]] = values[speeds]
    objects = tuple(order)
    days = tuple(
        HistoryDay(
            int(r.config[HISTORY_KEY]["day"]),
            str(r.config[HISTORY_KEY]["day_type"]),
            bool(r.config[HISTORY_KEY].get("plan", {}).get("has_incident", False)),
            r.id,
            dict(r.config[HISTORY_KEY].get("plan", {})),
        )
        for r in runs
    )
    return History(scenario, set_id, bin_s, objects, object_groups(objects), days, flow, speed)
