"""Pure detector-health rules beyond IRIS's locked-on / chatter / no-hits (``health.py``).

Every function here is a pure, vectorised function of its evidence (arrays over loops); the
stateful part that feeds them lives in ``bin_health.py``. Thresholds come from
``config.HealthSection`` (documented in docs/health.md) so a scenario can tune them.

Witnesses: in every shipped scenario an E2 lane-area detector ends at each stop-line loop
(``scenarios/generate.py``), so the area detector sees every vehicle standing or passing over the
loop. A loop that reads full occupancy while its area detector sees no vehicle, or empty while the
area detector holds a vehicle standing at a red, contradicts its witness: that is the fastest
evidence of a stuck loop, and it needs no history.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.typing import NDArray

from trafficai.core.geometry import NetGeometry

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
Mask = NDArray[np.bool_]

FULL = 0.99  # one-step occupancy of a vehicle covering the loop for the whole step
COVER_TOLERANCE_M = 1.0


def area_witness(geometry: NetGeometry) -> I64:
    """Per loop: the index of the E2 area detector on its lane that covers its position, or -1."""
    out = np.full(len(geometry.e1), -1, dtype=np.int64)
    e2 = geometry.e2
    for i in range(len(geometry.e1)):
        lane, pos = int(geometry.e1.lanes[i]), float(geometry.e1.positions[i])
        for j in np.flatnonzero(e2.lanes == lane):
            end, length = float(e2.positions[j]), float(e2.lengths[j])
            if end - length - COVER_TOLERANCE_M <= pos <= end + COVER_TOLERANCE_M:
                out[i] = int(j)
                break
    return out


def at_area_end(geometry: NetGeometry, witness: I64, tolerance_m: float = 3.0) -> Mask:
    """Per loop: its witness ends at it (a stop-line loop: the front vehicle of a queue standing
    in the area stands over the loop)."""
    out = np.zeros(len(geometry.e1), dtype=bool)
    for i in np.flatnonzero(witness >= 0):
        end = float(geometry.e2.positions[int(witness[i])])
        out[i] = abs(end - float(geometry.e1.positions[i])) <= tolerance_m
    return out


def run_seconds(previous_s: F64, dt_s: float, condition: Mask, was: Mask) -> F64:
    """Time a condition has held at consecutive samples (an interval counts when it held at both
    ends); a sample without it starts again at 0."""
    return np.where(condition, previous_s + np.where(was, dt_s, 0.0), 0.0)


def decay_rate(num: F64, den: F64, hits: I64, green_dt_s: F64, dt_s: float, tau_s: float) -> tuple[F64, F64]:
    """Exponentially weighted vehicles and green seconds (time constant ``tau_s`` of simulated
    time): their ratio is a loop's recent count rate per green second, which follows the time of
    day (it falls at night with the traffic)."""
    keep = math.exp(-dt_s / tau_s)
    return num * keep + hits, den * keep + green_dt_s


def poisson_cdf(k: int, mean: float) -> float:
    """P(X <= k) for X ~ Poisson(mean)."""
    if mean <= 0.0:
        return 1.0
    term = total = math.exp(-mean)
    for i in range(1, k + 1):
        term *= mean / i
        total += term
    return min(total, 1.0)


def improbably_few(hits: I64, expected: F64, alpha: float) -> Mask:
    """Loops whose count over a stretch is improbably low against the count ``expected`` (Poisson):
    zero while 9.2 were expected is p = 1e-4. A low expectation (night, a quiet approach) never
    fires: the expectation is what makes zero surprising, not zero itself."""
    return np.array([poisson_cdf(int(k), float(m)) < alpha for k, m in zip(hits, expected, strict=True)])


def unchanged(occupancy: F64, speed: F64) -> Mask:
    """IRIS "no change" over a window of bins ((k, n) arrays): occupancy above 0 and below full,
    identical in every bin, and the speed identical too. Real 30 s means never repeat exactly;
    a full loop (locked on) and an empty one are other rules' business."""
    if occupancy.shape[0] < 2:
        return np.zeros(occupancy.shape[1], dtype=bool)
    occ_same = np.all(np.abs(occupancy - occupancy[0]) < 1e-9, axis=0)
    speed_same = np.all(np.abs(speed - speed[0]) < 1e-9, axis=0)
    inside = (occupancy[0] > 0.0) & (occupancy[0] < FULL)
    out: Mask = occ_same & speed_same & inside
    return out


def spike_timer(
    timer_s: F64, previous: F64, occupancy: F64, eligible: Mask, step: float, add_s: float, bin_s: float
) -> F64:
    """IRIS "occupancy spike": each jump of ``step`` (25 %) between consecutive 30 s occupancies
    adds ``add_s`` (30 s) to a timer that runs down with time; past a limit the loop is suspect.
    Only ``eligible`` jumps count (both bins in one signal state): a red starting over a stop-line
    loop makes the occupancy jump by design."""
    jumps = np.floor(np.abs(occupancy - previous) / step)
    return np.maximum(timer_s - bin_s, 0.0) + np.where(eligible, jumps * add_s, 0.0)


def pems_categories(
    counts: F64,
    occupancy: F64,
    samples: F64,
    expected_samples: F64,
    green_share: F64,
    expected_counts: F64,
    limits: dict[str, float],
    standing_share: F64 | None = None,
) -> dict[str, Mask]:
    """Caltrans PeMS diagnostics over a rolling window of bins ((k, n) arrays; ``expected_samples``
    (k,), ``expected_counts`` (n,): what the loop's recent rate says it should have counted).

    - insufficient data: fewer than 60 % of the expected samples arrived;
    - card off: zero occupancy and no count in >= 59 % of the bins that were at least half
      green, *while* the loop was expected to count (PeMS is daily; on a quiet approach or at
      night zero is normal; occupancy here is sampled one-step occupancy, which misses most
      passing vehicles, hence the count too);
    - high value: > 33 vehicles per 30 s (PeMS: 20, above urban saturation; 33 is a 0.9 s
      headway) in >= 20 % of the bins (PeMS's occupancy > 0.7 part is left out: a queue over a
      stop-line loop reads full occupancy through every red);
    - intermittent: zero flow with occupancy strictly between 0 and full in >= 20 % (PeMS: 2 % of
      a day) and at least 3 of the bins that were green throughout (a vehicle standing over the
      loop at red is not evidence, nor is one standing in the area at green, ``standing_share`` > 0:
      a left-turner waiting for a gap stands half over the loop, counted only when it goes);
    - constant: no change of the occupancy over the window (above 0, below full: a standing
      queue reads full for as long as it stands).
    """
    k = max(counts.shape[0], 1)
    got = samples.sum(axis=0)
    wanted = max(float(expected_samples.sum()), 1e-9)
    insufficient = got < limits["insufficient_share"] * wanted
    green = green_share >= 0.999
    mostly_green = green_share >= 0.5
    n_mostly = np.maximum(mostly_green.sum(axis=0), 1)
    zero = mostly_green & (occupancy <= 0.0) & (counts <= 0)
    card_off = (zero.sum(axis=0) / n_mostly >= limits["card_off_share"]) & (
        expected_counts >= limits["card_off_min_expected"]
    )
    high = (counts > limits["high_flow_per_30s"]).sum(axis=0) / k >= limits["high_value_share"]
    calm = np.ones_like(green) if standing_share is None else standing_share <= 0.0
    odd = green & calm & (counts <= 0) & (occupancy > 0.0) & (occupancy < FULL)
    n_green = np.maximum(green.sum(axis=0), 1)
    intermittent = (odd.sum(axis=0) / n_green >= limits["intermittent_share"]) & (odd.sum(axis=0) >= 3)
    constant = (np.ptp(occupancy, axis=0) < 1e-9) & (occupancy[0] > 0.0) & (occupancy[0] < FULL)
    return {
        "insufficient data": insufficient,
        "card off": card_off & ~insufficient,
        "high value": high,
        "intermittent": intermittent,
        "constant": constant,
    }


def conservation_pairs(geometry: NetGeometry) -> tuple[tuple[int, int, float], ...]:
    """(upstream loop, downstream loop, storage in vehicles between them) for loops on one lane
    chain: two loops on the same lane (no junction between them, so every vehicle over one passes
    the other). Storage: the lane length between them over 7.5 m per vehicle."""
    out = []
    lanes = geometry.e1.lanes
    for lane in np.unique(lanes[lanes >= 0]):
        on_lane = np.flatnonzero(lanes == lane)
        order = on_lane[np.argsort(geometry.e1.positions[on_lane])]
        for up, down in itertools.pairwise(order):
            gap = float(geometry.e1.positions[down] - geometry.e1.positions[up])
            out.append((int(up), int(down), max(gap / 7.5, 1.0)))
    return tuple(out)


def conservation_broken(up: float, down: float, storage: float, slack: float, share: float) -> bool:
    """Counts of two loops on one chain over a window disagree by more than the vehicles that can
    be stored between them plus ``slack`` and ``share`` of the larger count."""
    return abs(up - down) > storage + slack + share * max(up, down)
