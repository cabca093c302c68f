"""The evidence behind the extended detector-health rules (``health_rules.py``), kept per loop at
simulation rate and on 30 s bins; :class:`~trafficai.sensors.health.DetectorHealthMonitor` feeds
it every sample and folds its conditions into each loop's state.

Failures (fast, strong evidence):

- **witness: locked on** — full occupancy while the loop's area detector sees no vehicle;
- **witness: card off** — vehicles left the area detector at green (its downstream end is the
  loop) and the loop counted none of them (a vehicle standing in the area at red is no evidence:
  it may stand behind a blocked lane, not over the loop);
- **witness: silent at red** — a stop-line loop read empty through ``witness_red_s`` of red while
  its area detector held a standing vehicle (the queue's front stands over the loop), and then
  counted nothing while that queue left at green: ``witness_red_departures`` vehicles out of the
  area in one green and none standing in it any more. The green half guards against a lane blocked
  inside the area (an incident): that queue never leaves, and its stopped vehicle driving off when
  the block ends is still in the area (moving, not gone) until it crosses the loop; one vehicle out
  of the area may have changed lanes (or been removed), two in one green are a queue that left;
- **too few counts** — no vehicle over a stretch of green in which the loop's own recent rate
  (learned from this run, so it follows the time of day) made zero improbable (Poisson);
- **erratic occupancy** — occupied readings over an empty area in several samples of consecutive
  bins (a noisy or spoofed loop).

Suspicions (weaker, slower): IRIS no change and occupancy spike, the PeMS categories on a rolling
window, and flow conservation between two loops of one lane.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from trafficai.config import HealthSection
from trafficai.core.geometry import NetGeometry
from trafficai.sensors.health_bias import CountBiasTest
from trafficai.sensors.health_camera_bias import CameraBiasTest
from trafficai.sensors.health_rules import (
    F64,
    FULL,
    I64,
    Mask,
    area_witness,
    at_area_end,
    conservation_broken,
    conservation_pairs,
    decay_rate,
    improbably_few,
    pems_categories,
    run_seconds,
    spike_timer,
    unchanged,
)

BIN_S = 30.0
FAILURES = ("witness on", "witness off", "witness red", "few counts", "erratic", "bias")


class LoopBinSums:
    """One 30 s bin being filled: per loop counts, occupancy and speed sums, samples, green time
    and erratic samples (the health rules' own bins; the recorded bins are ``bins.DetectorBins``)."""

    def __init__(self, n: int) -> None:
        self.seconds = 0.0
        self.samples_expected = 0.0
        self.hits = np.zeros(n, np.int64)
        self.occupancy = np.zeros(n)
        self.speed = np.zeros(n)
        self.samples = np.zeros(n)
        self.green_s = np.zeros(n)
        self.erratic = np.zeros(n, np.int64)
        self.standing_s = np.zeros(n)  # time its area held a standing vehicle
        self.rate_s = np.zeros(n)  # the seconds a loop's learned rate is per (green, area not empty)


class LoopEvidence:
    def __init__(self, geometry: NetGeometry, limits: HealthSection) -> None:
        n = len(geometry.e1)
        self.n, self.limits = n, limits
        self.witness = area_witness(geometry)
        self.stop_line = at_area_end(geometry, self.witness)
        self.pairs = conservation_pairs(geometry)
        self.bias = CountBiasTest(geometry, self.witness, limits)
        self.camera_bias: CameraBiasTest | None = None  # set by the monitor where cameras count loops
        self.free_flow = np.ones(n, dtype=bool)  # loops on lanes without a signal (set by the monitor)
        self.conditions: dict[str, Mask] = {}
        self.why: dict[str, list[str]] = {}
        self._witness_seen_s = np.full(n, -math.inf)
        self.bins: deque[LoopBinSums] = deque(maxlen=max(limits.pems_window_bins, limits.no_change_bins))
        self._spike = np.zeros(n)
        self.reset()
        for name in (*FAILURES, "no change", "spike", "pems", "conservation"):
            self.conditions[name] = np.zeros(n, dtype=bool)
            self.why[name] = [""] * n

    def reset(self) -> None:
        """Evidence windows and learned rates start again (a gap in the samples: the time of day
        may have moved on, so the rate before it says nothing of the rate after)."""
        n = self.n
        self._num, self._den = np.zeros(n), np.zeros(n)
        self._on_s, self._departed = np.zeros(n), np.zeros(n)
        self._was_on = np.zeros(n, dtype=bool)
        self._red_s = np.zeros(n)
        self._was_red = np.zeros(n, dtype=bool)
        self._red_silent = np.zeros(n, dtype=bool)  # a queue stood over it at red, unseen
        self._red_left = np.zeros(n)  # vehicles out of the area in this green since then
        self._area_before = np.full(n, np.nan)
        self._stretch_expected = np.zeros(n)
        self._stretch_s = np.zeros(n)
        self._stretch_rate = np.zeros(n)
        self._bin = LoopBinSums(n)
        self.bins.clear()
        self.bias.reset()
        if self.camera_bias is not None:
            self.camera_bias.reset()

    def forget(self, i: int) -> None:
        for standing in self.conditions.values():
            standing[i] = False
        self._red_silent[i] = False
        self._red_left[i] = 0.0
        self.bias.forget(i)
        if self.camera_bias is not None:
            self.camera_bias.forget(i)
        arrays = (
            self._on_s,
            self._red_s,
            self._departed,
            self._stretch_expected,
            self._stretch_s,
            self._spike,
        )
        for array in arrays:
            array[i] = 0.0

    @property
    def failed(self) -> Mask:
        out: Mask = np.logical_or.reduce([self.conditions[c] for c in FAILURES])
        return out

    @property
    def suspect(self) -> Mask:
        out: Mask = np.logical_or.reduce(
            [self.conditions[c] for c in ("no change", "spike", "pems", "conservation")]
        )
        return out

    def reason(self, i: int) -> str:
        for name, standing in self.conditions.items():
            if standing[i]:
                return self.why[name][i]
        return ""

    # -- per sample ---------------------------------------------------------------------------

    def sample(
        self,
        t: float,
        dt: float,
        hits: I64,
        occupancy: F64,
        speed: F64,
        moving: Mask,
        area_vehicles: F64,
        area_halting: F64,
        healthy: Mask,
        area_speed: F64 | None = None,
        crossings: F64 | None = None,
    ) -> None:
        """One sample ``dt`` after the last one: ``hits`` counted in between, the loop readings,
        whether traffic over each loop could move, and its witness's vehicles / halting / mean
        speed (NaN: none; no speed: no count-bias test against it); ``crossings``: per loop, the
        vehicles its camera saw cross its lane's stop line in between (None: no camera counts)."""
        lim = self.limits
        seen = area_vehicles > 0
        self._witness_seen_s = np.where(seen, t, self._witness_seen_s)
        alive = (self.witness >= 0) & (t - self._witness_seen_s <= lim.witness_idle_s)
        full = occupancy >= FULL
        on = full & alive & (area_vehicles == 0)
        self._on_s = run_seconds(self._on_s, dt, on, self._was_on)
        self._was_on = on
        # vehicles that left the area at a green left it over the loop (the area ends there)
        left = np.where(
            moving & alive & np.isfinite(self._area_before),
            np.maximum(self._area_before - area_vehicles, 0.0),
            0.0,
        )
        self._area_before = np.where(np.isfinite(area_vehicles), area_vehicles, np.nan)
        self._departed = np.where(hits > 0, 0.0, self._departed + np.nan_to_num(left))
        self._raise(
            "witness on",
            self._on_s >= lim.witness_s,
            ~full,
            lambda i: (
                f"locked on: full occupancy for {self._on_s[i]:.0f} s with no vehicle on its area detector"
            ),
        )
        self._raise(
            "witness off",
            self._departed >= lim.witness_departures,
            hits > 0,
            lambda i: (
                f"{'locked on' if full[i] else 'card off'}: {self._departed[i]:.0f} vehicles "
                f"left its area over it at green, none counted"
            ),
        )
        self._silent_at_red(dt, hits, occupancy, moving, alive, area_halting, np.nan_to_num(left))
        self._count_bias(t, dt, hits, np.where(alive, area_vehicles, np.nan), area_speed, healthy, crossings)
        # a count is due only while vehicles over the loop can move: green, and its area (if any)
        # holds a vehicle that is not standing (a queue blocked at green is no evidence)
        eligible = moving & ((self.witness < 0) | (seen & (area_halting < area_vehicles)))
        self._count_test(dt, hits, eligible, healthy)
        self._bin.rate_s += np.where(eligible, dt, 0.0)
        self._bin.standing_s += np.where(np.nan_to_num(area_halting, nan=0.0) >= 1, dt, 0.0)
        self._fill_bin(dt, hits, occupancy, speed, moving, alive & (area_vehicles == 0))

    def _count_bias(
        self,
        t: float,
        dt: float,
        hits: I64,
        vehicles: F64,
        speed: F64 | None,
        healthy: Mask,
        crossings: F64 | None,
    ) -> None:
        """The count-bias verdict: against the loop's camera where that camera is a witness now,
        else against its area detector (``health_camera_bias``)."""
        camera = self.camera_bias
        if camera is not None and crossings is not None:
            others = np.logical_or.reduce([self.conditions[c] for c in FAILURES if c != "bias"])
            camera.sample(t, hits, crossings, healthy, ~others)  # failed otherwise: no bias evidence
        if speed is None and (camera is None or not camera.active.any()):
            return
        biased = (
            self.bias.sample(dt, hits, vehicles, speed, healthy)
            if speed is not None
            else np.zeros(self.n, bool)
        )
        if camera is None:
            self._raise("bias", biased, ~biased, self.bias.describe)
            return
        active = camera.active.copy()
        biased = np.where(active, camera.flagged, biased)
        self._raise(
            "bias", biased, ~biased, lambda i: camera.describe(i) if active[i] else self.bias.describe(i)
        )

    def _silent_at_red(
        self, dt: float, hits: I64, occupancy: F64, moving: Mask, alive: Mask, halting: F64, left: F64
    ) -> None:
        """``left``: vehicles out of the area since the last sample (at green, else 0)."""
        standing = np.nan_to_num(halting, nan=0.0) >= 1
        red_queue = ~moving & alive & self.stop_line & standing & (occupancy <= 0.0)
        self._red_s = run_seconds(self._red_s, dt, red_queue, self._was_red)
        self._was_red = red_queue
        seen = (hits > 0) | (occupancy > 0.0)
        self._red_silent = (self._red_silent | (self._red_s >= self.limits.witness_red_s)) & ~seen
        # the queue left only once vehicles are out of the area: one that no longer stands but is
        # still in it (a blocked lane's stopped vehicle driving off) has not crossed the loop yet
        self._red_left = np.where(moving & self._red_silent, self._red_left + left, 0.0)
        gone = self._red_left >= self.limits.witness_red_departures
        out = moving & alive & self._red_silent & np.isfinite(halting) & ~standing & gone
        self._raise(
            "witness red",
            out,
            hits > 0,
            lambda i: (
                f"card off: read empty at red under a standing queue, then counted none of the "
                f"{self._red_left[i]:.0f} vehicles that left at green"
            ),
        )
        self._red_silent &= ~out
        self._red_left = np.where(out, 0.0, self._red_left)

    def _count_test(self, dt: float, hits: I64, eligible: Mask, healthy: Mask) -> None:
        lim = self.limits
        green_dt = np.where(eligible, dt, 0.0)
        rate = np.divide(self._num, self._den, out=np.zeros(self.n), where=self._den > 0)
        counted = hits > 0
        fresh = (self._stretch_s == 0.0) & ~counted
        self._stretch_rate = np.where(fresh, rate, self._stretch_rate)
        history = self._den >= lim.rate_history_s
        self._stretch_expected = np.where(
            counted, 0.0, self._stretch_expected + self._stretch_rate * green_dt
        )
        self._stretch_s = np.where(counted, 0.0, self._stretch_s + green_dt)
        num, den = decay_rate(self._num, self._den, hits, green_dt, dt, lim.rate_tau_s)
        self._num = np.where(healthy, num, self._num)
        self._den = np.where(healthy, den, self._den)
        few = improbably_few(np.zeros(self.n, np.int64), self._stretch_expected, lim.expected_alpha) & history
        self._raise(
            "few counts",
            few,
            counted,
            lambda i: (
                f"no vehicle in {self._stretch_s[i]:.0f} s of green where "
                f"{self._stretch_expected[i]:.1f} were expected"
            ),
        )

    def _fill_bin(
        self, dt: float, hits: I64, occupancy: F64, speed: F64, moving: Mask, empty_area: Mask
    ) -> None:
        b = self._bin
        valid = np.isfinite(occupancy)
        b.seconds += dt
        b.samples_expected += 1
        b.hits += hits
        b.occupancy += np.where(valid, occupancy, 0.0)
        b.speed += np.where(speed >= 0, speed, 0.0)
        b.samples += valid
        b.green_s += np.where(moving, dt, 0.0)
        b.erratic += (occupancy > 0.0) & (occupancy < FULL) & empty_area
        if b.seconds >= BIN_S - 1e-9:
            self._close_bin(b)
            self._bin = LoopBinSums(self.n)

    # -- per bin ------------------------------------------------------------------------------

    def _close_bin(self, b: LoopBinSums) -> None:
        lim = self.limits
        occ = b.occupancy / np.maximum(b.samples, 1)
        previous = self.bins[-1] if self.bins else None
        self.bins.append(b)
        tail = list(self.bins)[-lim.erratic_bins :]
        erratic = np.sum([x.erratic for x in tail], axis=0)
        self._raise(
            "erratic",
            (erratic >= lim.erratic_samples) & (len(tail) >= lim.erratic_bins),
            erratic == 0,
            lambda i: f"erratic: occupied over an empty area in {erratic[i]} samples of {len(tail) * 30} s",
        )
        if previous is not None:
            prev_occ = previous.occupancy / np.maximum(previous.samples, 1)
            # only loops away from a signal: a stop-line loop's sampled occupancy jumps with every
            # queue that forms and leaves (measured on city: dozens of spikes an hour)
            same_state = self.free_flow
            self._spike = spike_timer(
                self._spike, prev_occ, occ, same_state, lim.spike_step, lim.spike_add_s, BIN_S
            )
            self._raise(
                "spike",
                self._spike > lim.spike_trip_s,
                self._spike <= 0,
                lambda i: f"occupancy spike (timer {self._spike[i]:.0f} s)",
            )
        recent = list(self.bins)
        occupancy = np.array([x.occupancy / np.maximum(x.samples, 1) for x in recent])
        speed = np.array([x.speed / np.maximum(x.samples, 1) for x in recent])
        if len(recent) >= lim.no_change_bins:
            last = slice(len(recent) - lim.no_change_bins, None)
            same = unchanged(occupancy[last], speed[last])
            self._raise(
                "no change",
                same,
                ~same,
                lambda i: f"no change: occupancy {occ[i]:.2f} in {lim.no_change_bins} bins of 30 s",
            )
        if len(recent) >= lim.pems_window_bins:
            self._pems(recent, occupancy)
        self._conservation(recent)

    def _pems(self, recent: list[LoopBinSums], occupancy: F64) -> None:
        counts = np.array([x.hits * (BIN_S / max(x.seconds, 1e-9)) for x in recent])  # per 30 s
        samples = np.array([x.samples for x in recent])
        expected_samples = np.array([x.samples_expected for x in recent])
        green_share = np.array([x.green_s / max(x.seconds, 1e-9) for x in recent])
        rate = np.divide(self._num, self._den, out=np.zeros(self.n), where=self._den > 0)
        expected = rate * np.array([x.rate_s for x in recent]).sum(axis=0)
        standing = np.array([x.standing_s for x in recent])
        found = pems_categories(
            counts, occupancy, samples, expected_samples, green_share, expected, self.limits.pems_limits(),
            standing,
        )  # fmt: skip
        hit = np.zeros(self.n, dtype=bool)
        for i in range(self.n):
            names = [name for name, mask in found.items() if mask[i]]
            if names:
                hit[i] = True
                self.why["pems"][i] = f"PeMS {', '.join(names)} over {len(recent) * BIN_S / 60:.0f} min"
        self.conditions["pems"] = hit

    def _conservation(self, recent: list[LoopBinSums]) -> None:
        if not self.pairs or len(recent) < self.limits.pems_window_bins:
            return
        totals = np.sum([x.hits for x in recent], axis=0).astype(np.float64)
        rate = np.divide(self._num, self._den, out=np.zeros(self.n), where=self._den > 0)
        expected = rate * np.sum([x.rate_s for x in recent], axis=0)
        broken = np.zeros(self.n, dtype=bool)
        for up, down, storage in self.pairs:
            if conservation_broken(
                totals[up],
                totals[down],
                storage,
                self.limits.conservation_slack,
                self.limits.conservation_share,
            ):
                # blame the loop that strays further from its own recent rate
                off = [abs(math.log((totals[j] + 1.0) / (expected[j] + 1.0))) for j in (up, down)]
                j, other = (up, down) if off[0] >= off[1] else (down, up)
                broken[j] = True
                self.why["conservation"][j] = (
                    f"flow conservation: {totals[j]:.0f} vehicles against {totals[other]:.0f} on the "
                    f"same lane over {len(recent) * BIN_S / 60:.0f} min"
                )
        self.conditions["conservation"] = broken

    def _raise(self, name: str, now: Mask, cleared: Mask, why: object) -> None:
        standing = self.conditions[name] & ~cleared
        new = now & ~standing
        for i in np.flatnonzero(new):
            self.why[name][i] = why(i)  # type: ignore[operator]
        self.conditions[name] = standing | now
