"""Count bias: a loop that counts a steady share too many (or too few) vehicles, judged against the
flow its lane's area detector saw.

A biased loop is self-consistent (its count, occupancy and speed all look like traffic), so no
IRIS or PeMS rule sees it; it needs a second, independent count. Every shipped scenario has an E2
area detector ending at each stop-line loop (``health_rules.area_witness``) and covering its lane.
The E2 reports how many vehicles it holds and their mean speed; ``vehicles x mean speed`` is the
distance they cover per second, so summed over time and divided by the detector's length it counts
the vehicles that went through it (``q = k v``). Lane changes inside the area move a share of that
between the lanes of one approach, so the ratio of a loop's count to its witness's flow is not 1
(on ``single`` about 0.85-0.9 on the outer lanes and 1.1-1.4 on the middle ones), but it is
steady per loop: the test learns it.

The test: the loop's count and its witness's flow accumulate into *blocks* that close when the
witness has seen ``bias_block_vehicles`` (so a block holds the same evidence on a busy and on a
quiet lane). Each closed block gives ``x = log((count + 0.5) / (flow + 0.5)) - mu``, ``mu`` the
loop's learned log ratio (exponentially weighted over ``bias_tau_vehicles`` witness vehicles,
after ``bias_history_vehicles`` of them), and a two-sided CUSUM (Page) accumulates it:
``S+ = max(0, S+ + x - k)``, ``S- = max(0, S- - x - k)``; past ``h`` the loop is biased. The
learned ratio stops learning while either sum is past ``h / 2``, so a bias is not learned as
normal before it is detected.

A bias present before there is history (from the start, or an attacker scaling the true readings
early) is learned as the loop's ratio, so the ratio itself is bounded too: a learned ratio past
``bias_max_ratio`` (or under its inverse) is a bias whatever the CUSUM says (lane changes inside the
area move the ratio to 0.85-1.35 on ``single``, never near 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from trafficai.config import HealthSection
from trafficai.core.geometry import NetGeometry
from trafficai.sensors.health_rules import F64, I64, Mask


def witness_lengths(geometry: NetGeometry, witness: I64) -> F64:
    """Per loop: the length (m) of its witness area detector; NaN without one."""
    lengths = np.asarray(geometry.e2.lengths, dtype=np.float64)
    out: F64 = np.where(witness >= 0, lengths[np.maximum(witness, 0)] if lengths.size else np.nan, np.nan)
    return out


def area_flow(dt_s: float, vehicles: F64, speed: F64, length_m: F64) -> F64:
    """Vehicles that went through an area detector in ``dt_s``: vehicles x mean speed / length
    (0 where there is no witness, no vehicle or no speed)."""
    moved = np.nan_to_num(vehicles, nan=0.0) * np.maximum(np.nan_to_num(speed, nan=0.0), 0.0)
    out: F64 = np.divide(dt_s * moved, length_m, out=np.zeros_like(moved), where=length_m > 0)
    return out


def cusum_step(plus: F64, minus: F64, x: F64, drift: float) -> tuple[F64, F64]:
    """One step of a two-sided CUSUM of ``x`` with allowance ``drift``."""
    return np.maximum(0.0, plus + x - drift), np.maximum(0.0, minus - x - drift)


@dataclass(frozen=True, slots=True)
class BiasLimits:
    """One witness's count-bias settings (``HealthSection.bias_*`` for the area detector,
    ``bias_camera_*`` for a camera). ``prior_vehicles``: witness vehicles of history at ratio 1 the
    learned ratio starts from (a witness that counts the loop's own vehicles: the test judges from
    the first block, no history needed)."""

    block_vehicles: float
    drift: float
    threshold: float
    history_vehicles: float
    tau_vehicles: float
    max_ratio: float
    prior_vehicles: float = 0.0

    @classmethod
    def area(cls, h: HealthSection) -> BiasLimits:
        return cls(
            h.bias_block_vehicles, h.bias_drift, h.bias_threshold, h.bias_history_vehicles,
            h.bias_tau_vehicles, h.bias_max_ratio,
        )  # fmt: skip

    @classmethod
    def camera(cls, h: HealthSection) -> BiasLimits:
        return cls(
            h.bias_camera_block_vehicles, h.bias_camera_drift, h.bias_camera_threshold,
            h.bias_camera_prior_vehicles, h.bias_tau_vehicles, h.bias_camera_max_ratio,
            h.bias_camera_prior_vehicles,
        )  # fmt: skip


class RatioCusum:
    """Per loop: blocks of its count against a witness count, the learned ratio and the CUSUM sums
    (the module docstring's test, whatever the witness)."""

    def __init__(self, n: int, limits: BiasLimits) -> None:
        self.n, self.limits = n, limits
        self.reset()

    def reset(self) -> None:
        """Blocks and the learned ratio start again (a gap in the samples)."""
        n, prior = self.n, self.limits.prior_vehicles
        self.block_hits, self.block_witness = np.zeros(n), np.zeros(n)
        self._hits, self._witness = np.full(n, prior), np.full(n, prior)  # learned: weighted sums
        self.plus, self.minus = np.zeros(n), np.zeros(n)

    def forget(self, i: int) -> None:
        """Loop ``i`` is judged afresh (back in service): its sums and its block start again."""
        self.plus[i] = self.minus[i] = 0.0
        self.drop_block(i)

    def drop_block(self, i: int) -> None:
        self.block_hits[i] = self.block_witness[i] = 0.0

    def ratio(self) -> F64:
        """Per loop: the learned count per witness vehicle (NaN before any history)."""
        out: F64 = np.divide(self._hits, self._witness, out=np.full(self.n, np.nan), where=self._witness > 0)
        return out

    def learned(self) -> Mask:
        """Per loop: enough witness vehicles learned for the test."""
        out: Mask = self._witness >= max(self.limits.history_vehicles, 1e-9)
        return out

    def cusum(self) -> F64:
        out: F64 = np.maximum(self.plus, self.minus)
        return out

    def add(self, hits: F64, witness: F64, healthy: Mask, may_close: bool = True) -> Mask:
        """Add one sample's counts (closing full blocks unless ``may_close`` is False); the loops
        past the threshold (or at an implausible learned ratio) after it."""
        lim = self.limits
        self.block_hits += hits
        self.block_witness += witness
        full = np.flatnonzero(self.block_witness >= lim.block_vehicles) if may_close else ()
        for i in full:
            self._close(int(i), bool(healthy[i]))
        ratio = self.ratio()
        implausible = self.learned() & ((ratio > lim.max_ratio) | (ratio < 1.0 / lim.max_ratio))
        out: Mask = (self.cusum() > lim.threshold) | implausible
        return out

    def _close(self, i: int, healthy: bool) -> None:
        lim = self.limits
        hits, witness = self.block_hits[i], self.block_witness[i]
        self.drop_block(i)
        if self._witness[i] >= lim.history_vehicles:
            mu = math.log((self._hits[i] + 0.5) / (self._witness[i] + 0.5))
            x = np.array([math.log((hits + 0.5) / (witness + 0.5)) - mu])
            p, m = cusum_step(self.plus[i : i + 1], self.minus[i : i + 1], x, lim.drift)
            self.plus[i], self.minus[i] = float(p[0]), float(m[0])
        calm = max(self.plus[i], self.minus[i]) < lim.threshold / 2
        if healthy and calm:
            keep = math.exp(-witness / lim.tau_vehicles)
            self._hits[i] = self._hits[i] * keep + hits
            self._witness[i] = self._witness[i] * keep + witness

    def describe(self, i: int, per: str, witness: str) -> str:
        """Why loop ``i`` is biased: ``per`` (e.g. "through its area detector") says what one witness
        vehicle is, ``witness`` what it judged against (e.g. "its area detector's flow")."""
        ratio = self.ratio()[i]
        if not self.cusum()[i] > self.limits.threshold:
            return f"count bias: {ratio:.2f} vehicles counted per vehicle {per}"
        side = "too many" if self.plus[i] >= self.minus[i] else "too few"
        return (
            f"count bias: {side} vehicles against {witness} "
            f"(CUSUM {self.cusum()[i]:.2f}, learned ratio {ratio:.2f})"
        )


class CountBiasTest:
    """The count-bias test against each loop's area detector (the E2 ending at it)."""

    def __init__(self, geometry: NetGeometry, witness: I64, limits: HealthSection) -> None:
        self.n, self.limits = len(geometry.e1), limits
        self.length = witness_lengths(geometry, witness)
        self.reset()

    def reset(self) -> None:
        """Blocks and the learned ratio start again (a gap in the samples)."""
        self.core = RatioCusum(self.n, BiasLimits.area(self.limits))

    def forget(self, i: int) -> None:
        self.core.forget(i)

    def ratio(self) -> F64:
        """Per loop: the learned count per witness vehicle (NaN before any history)."""
        return self.core.ratio()

    def sample(self, dt_s: float, hits: I64, vehicles: F64, speed: F64, healthy: Mask) -> Mask:
        """Add one sample; the loops whose CUSUM is past the threshold after it."""
        flow = area_flow(dt_s, vehicles, speed, self.length)
        return self.core.add(hits.astype(np.float64), flow, healthy)

    def describe(self, i: int) -> str:
        return self.core.describe(i, "through its area detector", "its area detector's flow")
