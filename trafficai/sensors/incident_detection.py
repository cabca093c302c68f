"""Automatic incident detection over 30 s loop bins: pure detectors, vectorised over loop pairs.

Four detectors, each ``update(bin) -> list[Alarm]`` over the pairs of ``loop_pairs.loop_pairs``:

- :class:`California8` — California algorithm #8 (Payne & Tignor, 1978): the occupancy tests of
  the California algorithms on a pair of stations, with the states of #8 (incident-free,
  tentative, confirmed, continuing) and its compression-wave test, which suppresses incident tests
  for five minutes after a sharp occupancy rise at the downstream station (a wave passing, not an
  incident). Tests, with OCC in 0..1 over the algorithm's one-minute interval:
  OCCDF = OCC(up) - OCC(down) >= T1, OCCRDF = OCCDF / OCC(up) >= T2,
  DOCCTD = (OCC(down, t-2 min) - OCC(down, t)) / OCC(down, t-2 min) >= T3 (downstream drop);
  compression wave: DOCCTD <= -T5 with OCC(down) >= T4. A tentative incident whose OCCRDF still
  passes T2 for ``persistence`` further intervals is confirmed (the alarm); it continues while
  OCCRDF >= T2. Intervals here are 30 s bins, the one-minute occupancy their two-bin mean.
- :class:`FixedThreshold` — a loop reads occupancy >= ``occupancy`` with mean speed <= ``speed``
  (no vehicle passing counts as stopped) over ``window`` bins, for ``persistence`` bins.
- :class:`BaselineAnomaly` — the project's detector: each loop's own recent baseline (an
  exponentially weighted mean and variance of its windowed occupancy, each step of which is
  clipped to one deviation), so a loop that is half-covered by every red queue is judged against
  itself, not against a network-wide threshold; stop-line loops (whose occupancy the signal sets)
  are not judged where mid-block loops exist. Alarm when the upstream loop stands ``z`` standard
  deviations above its baseline while the downstream loop is not congested above its own (an
  incident starves it; a queue spilling back from further downstream does not), for
  ``persistence`` bins, after ``warmup`` bins of learning.

- :class:`FlowBalance` — ``BaselineAnomaly``'s queue test or vehicles going missing on a link
  (input-output balance): upstream in times the pair's learned transfer ratio minus downstream
  out, accumulated bin by bin (a one-sided CUSUM with a drift allowance), while no queue covers
  the downstream loop.

Every detector latches per pair: one alarm when its condition starts, none until it has cleared.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from trafficai.sensors.loop_pairs import F64, LoopBin, LoopPair

Mask = NDArray[np.bool_]
_EPS = 1e-6


@dataclass(frozen=True, slots=True)
class Alarm:
    """A detector's alarm on one pair, with the figures that raised it."""

    time_s: float
    pair: int  # index into the detector's pairs
    detector: str
    evidence: dict[str, float] = field(default_factory=dict)


class PairDetector(ABC):
    """Shared machinery: pair index arrays, a short history of loop bins, the per-pair latch."""

    name = "detector"
    history_bins = 6

    def __init__(self, pairs: Sequence[LoopPair]) -> None:
        self.pairs = tuple(pairs)
        self.up = np.array([p.up for p in self.pairs], dtype=np.int64)
        self.down = np.array([p.down for p in self.pairs], dtype=np.int64)
        self.history: deque[LoopBin] = deque(maxlen=self.history_bins)
        self.active = np.zeros(len(self.pairs), dtype=bool)
        self.bins_seen = 0

    def window_occupancy(self, bins: int) -> F64:
        """Mean occupancy of every loop over the last ``bins`` bins (fewer at the start)."""
        recent = list(self.history)[-bins:]
        return np.mean([b.occupancy for b in recent], axis=0)  # type: ignore[no-any-return]

    def update(self, loop_bin: LoopBin) -> list[Alarm]:
        self.history.append(loop_bin)
        self.bins_seen += 1
        if not self.pairs:
            return []
        condition, evidence = self.judge(loop_bin)
        rising = condition & ~self.active
        self.active = condition
        return [
            Alarm(loop_bin.end_s, int(i), self.name, {k: float(v[i]) for k, v in evidence.items()})
            for i in np.flatnonzero(rising)
        ]

    @abstractmethod
    def judge(self, loop_bin: LoopBin) -> tuple[Mask, dict[str, F64]]:
        """Per pair: whether the alarm condition holds now, and the evidence arrays."""


FREE, TENTATIVE, CONFIRMED, CONTINUING, COMPRESSION = 0, 1, 2, 3, 4


class California8(PairDetector):
    name = "california8"

    def __init__(
        self,
        pairs: Sequence[LoopPair],
        t1: float = 0.08,
        t2: float = 0.5,
        t3: float = 0.15,
        t4: float = 0.2,
        t5: float = 0.4,
        persistence: int = 1,
        suppress_bins: int = 10,  # five minutes of 30 s bins
        interval_bins: int = 2,  # the algorithm's one-minute occupancy
        lag_bins: int = 4,  # DOCCTD compares with two minutes before
    ) -> None:
        self.history_bins = interval_bins + lag_bins + 1
        super().__init__(pairs)
        self.t1, self.t2, self.t3, self.t4, self.t5 = t1, t2, t3, t4, t5
        self.persistence, self.suppress_bins = persistence, suppress_bins
        self.interval_bins, self.lag_bins = interval_bins, lag_bins
        self.state = np.zeros(len(self.pairs), dtype=np.int64)
        self.count = np.zeros(len(self.pairs), dtype=np.int64)  # persistence or suppression bins
        self.down_past: deque[F64] = deque(maxlen=lag_bins + 1)

    def judge(self, loop_bin: LoopBin) -> tuple[Mask, dict[str, F64]]:
        occ = self.window_occupancy(self.interval_bins)
        occ_up, occ_down = occ[self.up], occ[self.down]
        self.down_past.append(occ_down)
        past = self.down_past[0]
        occdf = occ_up - occ_down
        occrdf = occdf / np.maximum(occ_up, _EPS)
        docctd = (past - occ_down) / np.maximum(past, _EPS)
        if len(self.down_past) <= self.lag_bins:
            docctd = np.zeros_like(docctd)  # no two-minute history yet: no temporal evidence
        wave = (docctd <= -self.t5) & (occ_down >= self.t4)
        pattern = (occdf >= self.t1) & (occrdf >= self.t2) & (docctd >= self.t3)
        spatial = (occdf >= self.t1) & (occrdf >= self.t2)
        self._transition(wave, pattern, spatial)
        alarm = (self.state == CONFIRMED) | (self.state == CONTINUING)
        return alarm, {"OCCDF": occdf, "OCCRDF": occrdf, "DOCCTD": docctd, "OCC_up": occ_up}

    def _transition(self, wave: Mask, pattern: Mask, spatial: Mask) -> None:
        s, n = self.state, self.count
        was = s.copy()
        free, tent = was == FREE, was == TENTATIVE
        incident = (was == CONFIRMED) | (was == CONTINUING)
        comp = was == COMPRESSION
        # incident-free: a compression wave suppresses; the full pattern makes a tentative incident
        s[free & wave] = COMPRESSION
        n[free & wave] = self.suppress_bins
        to_tent = free & ~wave & pattern
        s[to_tent], n[to_tent] = TENTATIVE, 0
        # tentative: persistence of the spatial test confirms, else back to incident-free
        n[tent & spatial] += 1
        s[tent & spatial & (n >= self.persistence)] = CONFIRMED
        s[tent & ~spatial] = FREE
        # confirmed/continuing: continues while OCCRDF passes T2, else the incident has cleared
        keep = incident & spatial
        s[keep] = CONTINUING
        s[incident & ~keep] = FREE
        # compression wave: tests suppressed for the suppression time, restarted by a new wave
        n[comp] -= 1
        n[comp & wave] = self.suppress_bins
        s[comp & (n <= 0)] = FREE


class FixedThreshold(PairDetector):
    name = "fixed-threshold"

    def __init__(
        self,
        pairs: Sequence[LoopPair],
        occupancy: float = 0.6,
        speed: float = 3.0,
        window: int = 3,
        persistence: int = 2,
    ) -> None:
        self.history_bins = window
        super().__init__(pairs)
        self.occupancy, self.speed, self.window, self.persistence = occupancy, speed, window, persistence
        self.run = np.zeros(len(self.pairs), dtype=np.int64)

    def judge(self, loop_bin: LoopBin) -> tuple[Mask, dict[str, F64]]:
        occ = self.window_occupancy(self.window)[self.up]
        speeds = np.array([b.speed for b in self.history])[:, self.up]
        stopped = np.where(np.isnan(speeds), 0.0, speeds).mean(axis=0)
        hit = (occ >= self.occupancy) & (stopped <= self.speed)
        self.run = np.where(hit, self.run + 1, 0)
        return self.run >= self.persistence, {"occupancy": occ, "speed_m_s": stopped}


class BaselineAnomaly(PairDetector):
    name = "baseline-anomaly"

    def __init__(
        self,
        pairs: Sequence[LoopPair],
        z: float = 4.0,
        down_excess: float = 0.1,
        min_occupancy: float = 0.3,
        window: int = 3,
        persistence: int = 2,
        half_life_bins: float = 10.0,
        warmup: int = 10,
        floor_sd: float = 0.1,
        clip_sd: float = 1.0,
        skip_stop_line: bool = True,
    ) -> None:
        self.history_bins = window
        super().__init__(pairs)
        self.z, self.down_excess, self.min_occupancy = z, down_excess, min_occupancy
        self.window, self.persistence, self.warmup, self.floor_sd = window, persistence, warmup, floor_sd
        self.clip_sd = clip_sd
        # a stop-line loop's occupancy is its signal's (a left turner waiting for its phase covers
        # it for a whole cycle): with loops further upstream, only those judge a queue
        has_midblock = any(not p.up_at_lane_end for p in self.pairs)
        self.judged = np.array(
            [not (skip_stop_line and has_midblock and p.up_at_lane_end) for p in self.pairs], dtype=bool
        )
        self.alpha = 1.0 - 0.5 ** (1.0 / half_life_bins)
        self.mean: F64 | None = None
        self.var: F64 | None = None
        self.run = np.zeros(len(self.pairs), dtype=np.int64)

    def judge(self, loop_bin: LoopBin) -> tuple[Mask, dict[str, F64]]:
        occ = self.window_occupancy(self.window)
        if self.mean is None or self.var is None:
            self.mean, self.var = occ.copy(), np.full_like(occ, self.floor_sd**2)
        mean, var = self.mean, self.var
        sd = np.sqrt(var + self.floor_sd**2)
        score = (occ - mean) / sd
        anomalous = score >= self.z
        up, down = self.up, self.down
        hit = (
            self.judged
            & anomalous[up]
            & (occ[up] >= self.min_occupancy)
            & (occ[down] - mean[down] <= self.down_excess)
        )
        if self.bins_seen <= self.warmup:
            hit[:] = False
        self.run = np.where(hit, self.run + 1, 0)
        # learn the baseline: freely while warming up (the network fills), then with every step
        # clipped to ``clip_sd`` deviations, so a standing queue takes many minutes to become the norm
        delta = occ - mean
        if self.bins_seen > self.warmup:
            delta = np.clip(delta, -self.clip_sd * sd, self.clip_sd * sd)
        mean += self.alpha * delta
        var[:] = (1 - self.alpha) * (var + self.alpha * delta**2)
        return self.run >= self.persistence, {
            "occupancy_up": occ[up],
            "baseline_up": mean[up],
            "z_up": score[up],
            "occupancy_down": occ[down],
        }


class FlowBalance(BaselineAnomaly):
    """:class:`BaselineAnomaly`'s queue test, or vehicles going missing on a link: the input-output
    balance of the section between the two loops of a pair, accumulated.

    Each pair learns how many of the vehicles counted upstream arrive downstream (the ratio of two
    exponentially weighted count sums: about 1 along a lane, a turning share across a junction,
    more where other lanes merge in). Every bin the vehicles that went missing,
    ``ratio x count(up) - count(down)``, are accumulated as a one-sided CUSUM with a ``drift``
    allowance per bin: ``missing = max(0, missing + ratio x up - down - drift)``. A red signal stores
    a cycle's arrivals and gives them back at green, so the sum falls back; a blocked lane keeps
    swallowing them, and the sum grows until it passes ``min_missing`` vehicles. The downstream loop
    must not be covered by a queue of its own (mean occupancy <= ``down_occupancy`` over the last
    ``window`` bins: a loop under a standing queue counts nothing either). Only pairs whose upstream
    loop carries traffic (learned ``min_rate`` vehicles per bin) and feeds most of the downstream
    loop (ratio <= ``max_ratio``) are judged. The ratio is not learned while the section is judged
    starved, so an incident does not become the norm. A blocked lane starves its downstream loop at once,
    before the queue behind the block grows back to the upstream loop: that is this test's lead
    over the queue test.
    """

    name = "flow-balance"

    def __init__(
        self,
        pairs: Sequence[LoopPair],
        min_missing: float = 6.0,
        drift: float = 1.0,
        down_occupancy: float = 0.15,
        ratio_half_life_bins: float = 20.0,
        max_ratio: float = 1.5,
        min_rate: float = 0.5,
        **queue_test: Any,
    ) -> None:
        super().__init__(pairs, **queue_test)
        self.min_missing, self.drift, self.down_occupancy = min_missing, drift, down_occupancy
        self.max_ratio, self.min_rate = max_ratio, min_rate
        self.beta = 1.0 - 0.5 ** (1.0 / ratio_half_life_bins)
        self.sum_up = np.zeros(len(self.pairs))
        self.sum_down = np.zeros(len(self.pairs))
        self.missing = np.zeros(len(self.pairs))

    def judge(self, loop_bin: LoopBin) -> tuple[Mask, dict[str, F64]]:
        queue, evidence = super().judge(loop_bin)
        up_n, down_n = loop_bin.count[self.up], loop_bin.count[self.down]
        occ_down = self.window_occupancy(self.window)[self.down]
        ratio = self.sum_down / np.maximum(self.sum_up, _EPS)
        # judged where the upstream loop carries traffic and feeds most of the downstream one (a
        # minor feeder of a merge says little about what the downstream loop should count)
        fed = (self.sum_up >= self.min_rate) & (ratio <= self.max_ratio) & (self.bins_seen > self.warmup)
        step = np.where(fed, ratio * up_n - down_n - self.drift, -np.inf)
        self.missing = np.maximum(0.0, self.missing + step)
        starved = (self.missing >= self.min_missing) & (occ_down <= self.down_occupancy)
        held = self.section_test(up_n, down_n, ratio, occ_down, evidence)
        # (stopping earlier, e.g. at any deficit, biases it: reds stop it, greens not)
        learn = ~(starved | held)
        self.sum_up[learn] += self.beta * (up_n[learn] - self.sum_up[learn])
        self.sum_down[learn] += self.beta * (down_n[learn] - self.sum_down[learn])
        # NaN where the flow test does not judge the pair (an alarm there came from another test)
        evidence.update(missing_vehicles=np.where(fed, self.missing, np.nan), ratio=ratio)
        return queue | starved | held, evidence

    def section_test(
        self, up_n: F64, down_n: F64, ratio: F64, occ_down: F64, evidence: dict[str, F64]
    ) -> Mask:
        """A further test on the counts (none here; :class:`HeldVehicles` adds one)."""
        return np.zeros(len(self.pairs), dtype=bool)


class HeldVehicles(FlowBalance):
    """:class:`FlowBalance`'s tests, or vehicles held on a single-lane section: a lane between two
    loops of its own has no exit, so every vehicle the upstream loop counts must reach the
    downstream one within a signal cycle. Per pair whose path is one lane, the vehicles held
    between the loops are accumulated without the flow test's per-bin allowance for merges
    (``held = max(0, held + ratio x up - down - held_drift)``, the ratio <= 1 learned as the flow
    test's but with an hour's half-life, ``held_ratio_half_life_bins``, and not while alarmed; 1
    where the section's edge has one lane, ``LoopPair.no_exit``: no vehicle can leave it),
    and the alarm is raised when at least ``held_min`` vehicles are held while the downstream loop
    has counted nothing for ``quiet_bins`` bins (30 s each) and is not under a queue of its own;
    fitted (``held_bounds``, from :func:`fit_held_bounds` on incident-free runs), a pair also needs
    ``held_margin`` more than it ever held there after as long a quiet time. A red
    signal downstream holds vehicles too, but gives them back within a cycle; a blocked lane holds
    them for good. This is the evidence left where the queue behind a block stands over a loop
    without covering it: SUMO's loops are points, and a standing queue (5 m cars, 2.5 m gaps)
    leaves a third of the points uncovered, so the upstream loop reads neither occupancy nor flow.
    It works on lanes carrying a vehicle every two or three bins, where the flow test's allowance
    (about a vehicle per bin) absorbs the whole deficit.
    """

    name = "held-vehicles"

    def __init__(
        self,
        pairs: Sequence[LoopPair],
        held_min: float = 4.0,
        quiet_bins: int = 4,
        held_drift: float = 0.1,
        held_min_rate: float = 0.05,
        held_bounds: Sequence[float] | Sequence[Sequence[float]] | F64 | None = None,
        held_margin: float = 1.0,
        held_ratio_half_life_bins: float = 120.0,
        **flow_balance: Any,
    ) -> None:
        super().__init__(pairs, **flow_balance)
        self.held_min, self.quiet_bins, self.held_drift = held_min, quiet_bins, held_drift
        self.held_min_rate = held_min_rate
        # per pair and quiet time (bins, the last column for that long or longer): at least
        # held_min, and above what incident-free runs held there (when fitted)
        self.held_threshold = np.full((len(self.pairs), 1), float(held_min))
        if held_bounds is not None:
            bounds = np.asarray(held_bounds, dtype=np.float64)
            bounds = bounds[:, None] if bounds.ndim == 1 else bounds
            if bounds.shape[0] != len(self.pairs):
                raise ValueError(f"held_bounds: {bounds.shape[0]} rows for {len(self.pairs)} pairs")
            self.held_threshold = np.maximum(self.held_threshold, bounds + held_margin)
        self.single = np.array([len(p.lanes) == 1 for p in self.pairs], dtype=bool)
        self.no_exit = np.array([p.no_exit for p in self.pairs], dtype=bool)
        # its own, slower transfer ratio: an hour's half-life, so a block's minutes hardly move it
        self.gamma = 1.0 - 0.5 ** (1.0 / held_ratio_half_life_bins)
        self.held_up = np.zeros(len(self.pairs))
        self.held_down = np.zeros(len(self.pairs))
        self.held = np.zeros(len(self.pairs))
        self.quiet = np.zeros(len(self.pairs), dtype=np.int64)

    def section_test(
        self, up_n: F64, down_n: F64, ratio: F64, occ_down: F64, evidence: dict[str, F64]
    ) -> Mask:
        # where no vehicle can leave the section, every one counted in must come out
        own = np.where(self.no_exit, 1.0, np.minimum(self.held_down / np.maximum(self.held_up, _EPS), 1.0))
        judged = self.single & (self.held_up >= self.held_min_rate) & (self.bins_seen > self.warmup)
        step = own * up_n - down_n - self.held_drift
        self.held = np.where(judged, np.maximum(0.0, self.held + step), 0.0)
        self.quiet = np.where(down_n > 0, 0, self.quiet + 1)
        hit = (self.held >= self.threshold_now()) & self.quiet_window(occ_down)
        learn = ~hit
        self.held_up[learn] += self.gamma * (up_n[learn] - self.held_up[learn])
        self.held_down[learn] += self.gamma * (down_n[learn] - self.held_down[learn])
        held = np.where(judged, self.held, np.nan)  # NaN: the held test does not judge the pair
        evidence.update(held_vehicles=held, quiet_bins=self.quiet.astype(np.float64))
        return hit

    def threshold_now(self) -> F64:
        """Each pair's threshold for the time its downstream loop has now been quiet."""
        levels = self.held_threshold.shape[1]
        column = np.minimum(self.quiet, levels - 1)
        return self.held_threshold[np.arange(len(self.pairs)), column]  # type: ignore[no-any-return]

    def quiet_window(self, occ_down: F64) -> Mask:
        """The downstream loop has counted nothing for ``quiet_bins`` and stands under no queue."""
        return (self.quiet >= self.quiet_bins) & (occ_down <= self.down_occupancy)


def fit_held_bounds(
    pairs: Sequence[LoopPair],
    settings: dict[str, Any],
    runs: Iterable[Iterable[LoopBin]],
    quiet_levels: int = 10,
    fit_from_s: float = 0.0,
) -> F64:
    """Per pair and quiet time q = 0 .. ``quiet_levels`` bins, the most vehicles
    :class:`HeldVehicles` (with ``settings``) held while the downstream loop had been quiet for at
    least q bins (and stood under no queue), over the incident-free ``runs`` (each an iterable of
    bins, replayed from a fresh state; the detector's warm-up and the bins ending at or before
    ``fit_from_s`` are replayed but not fitted): the ``held_bounds`` of a
    fitted detector, an envelope that falls with the quiet time (a busy section's vehicles are
    not held long; a quiet one's last vehicle may wait a whole red)."""
    free = {k: v for k, v in settings.items() if k not in ("held_bounds", "held_min", "quiet_bins")}
    bounds = np.zeros((len(pairs), quiet_levels + 1))
    levels = np.arange(quiet_levels + 1)
    for bins in runs:
        detector = HeldVehicles(pairs, held_min=np.inf, quiet_bins=0, **free)
        for loop_bin in bins:
            detector.update(loop_bin)
            if detector.bins_seen > detector.warmup and loop_bin.end_s > fit_from_s:
                occ_down = detector.window_occupancy(detector.window)[detector.down]
                seen = np.where(detector.quiet_window(occ_down), detector.held, 0.0)
                long_enough = detector.quiet[:, None] >= levels[None, :]
                bounds = np.maximum(bounds, np.where(long_enough, seen[:, None], 0.0))
    return bounds


DETECTORS: dict[str, type[PairDetector]] = {
    California8.name: California8,
    FixedThreshold.name: FixedThreshold,
    BaselineAnomaly.name: BaselineAnomaly,
    FlowBalance.name: FlowBalance,
    HeldVehicles.name: HeldVehicles,
}
