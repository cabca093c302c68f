"""Count bias against a camera: a stop-line loop's count judged against its camera's count of the
same lane (``camera_witness.CameraLaneCounts``), with the blocks and CUSUM of ``health_bias``.

Both count the same vehicles, so the ratio is close to 1 on every lane (on ``single`` within 1-2 %
over an hour, where the area detector's flow gives 0.85-1.35): the learned ratio starts at 1 with
``bias_camera_prior_vehicles`` of history, so the test judges from the first block, and blocks are
small (``bias_camera_block_vehicles``). A camera counts a vehicle a second or so after the loop, and
a lane change right at the line puts one vehicle on the neighbour's lane, so the difference between
the two counts stays within a vehicle or two: noise the allowance and the threshold cover.

A camera is a witness only while it is healthy:

- camera health (``camera_health``, the camera device's bins; handed in with
  :meth:`CameraBiasTest.set_camera_health`) has it ``ok``; a camera without a health verdict (no
  camera devices in the run: no camera fault can act either) counts as healthy;
- it is not *dark*: since its last crossing on any lane, its loops counted fewer than
  ``bias_camera_dark_vehicles`` (a blacked-out camera on a quiet approach, which camera health's
  blackout rule may not see, would otherwise let a loop's counts pile up in a block);
- and its counts are used only once it has stayed healthy for ``bias_camera_guard_s`` after them:
  a frozen or blacked-out camera reports wrong counts for the 1-3 bins camera health needs to fail
  it; what it counted in that time is void when it fails (as the loops' substitution drops what a
  loop read just before it was flagged).

While a camera is not a witness its loops' verdict is the area detector's (``health_bias``), which
keeps judging every loop; so is it before a camera's first ``bias_camera_guard_s`` of evidence.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from trafficai.config import HealthSection
from trafficai.sensors.camera_witness import CameraLanes
from trafficai.sensors.health_bias import BiasLimits, RatioCusum
from trafficai.sensors.health_rules import F64, I64, Mask


class CameraBiasTest:
    """Per loop a camera counts: the count-bias verdict against that camera (:attr:`flagged`), and
    whether it is the loop's verdict now (:attr:`active`)."""

    def __init__(self, lanes: CameraLanes, limits: HealthSection) -> None:
        self.lanes, self.limits = lanes, limits
        self.n = len(lanes.loop_camera)
        self.covered = lanes.covered
        self._camera = np.maximum(lanes.loop_camera, 0)
        self.camera_ok = np.ones(len(lanes.cameras), dtype=bool)
        self.reset()

    def reset(self) -> None:
        """Everything starts again (a gap in the samples)."""
        self.core = RatioCusum(self.n, BiasLimits.camera(self.limits))
        self._buffer: deque[tuple[float, F64, F64]] = deque()  # (t, hits, crossings) not yet used
        self._dark = np.zeros(len(self.lanes.cameras))  # loop vehicles since the camera's last crossing
        self._usable_since = np.full(self.n, np.inf)
        self.flagged = np.zeros(self.n, dtype=bool)
        self.active = np.zeros(self.n, dtype=bool)
        self._interval = -1  # the loop counting interval of the last sample added to the blocks

    def forget(self, i: int) -> None:
        """Loop ``i`` is judged afresh (back in service)."""
        self.core.forget(i)
        for _t, hits, crossings in self._buffer:
            hits[i] = crossings[i] = 0.0
        self.flagged[i] = False

    def set_camera_health(self, ok: dict[str, bool]) -> None:
        """Camera health's verdicts (camera id -> ok); cameras it does not name stay as they were."""
        for c, camera in enumerate(self.lanes.cameras):
            self.camera_ok[c] = ok.get(camera, bool(self.camera_ok[c]))

    def usable(self, hits: F64, crossings: F64) -> Mask:
        """Per loop: its camera is a witness now (healthy, not dark) after this sample's counts."""
        k = len(self.lanes.cameras)
        cam, covered = self._camera[self.covered], self.covered
        loop_hits = np.bincount(cam, weights=hits[covered], minlength=k)
        seen = np.bincount(cam, weights=crossings[covered], minlength=k)
        self._dark = np.where(seen > 0, 0.0, self._dark + loop_hits)
        ok = self.camera_ok & (self._dark < self.limits.bias_camera_dark_vehicles)
        out: Mask = covered & ok[self._camera]
        return out

    def sample(self, t: float, hits: I64, crossings: F64, healthy: Mask, judged: Mask | None = None) -> None:
        """One sample: the loops' hits and the cameras' crossings since the last one. ``healthy``:
        loops whose ratio may be learned; ``judged``: loops whose counts are evidence (None: all) — a
        loop failed by another rule (locked on, stuck off) counts nothing like a biased one, and its
        counts from just before that failure are void too."""
        h = np.where(self.covered, hits.astype(np.float64), 0.0)
        c = np.where(self.covered, crossings, 0.0)
        usable = self.usable(h, c)
        void = self.covered & ~(usable if judged is None else usable & judged)
        if void.any():  # what an unhealthy camera counted while it was not yet known is no evidence
            for _t, old_h, old_c in self._buffer:
                old_h[void] = old_c[void] = 0.0
            for i in np.flatnonzero(void):
                self.core.drop_block(int(i))
        self._usable_since = np.where(usable, np.minimum(self._usable_since, t), np.inf)
        self._buffer.append((t, np.where(void, 0.0, h), np.where(void, 0.0, c)))
        guard = self.limits.bias_camera_guard_s
        while self._buffer and self._buffer[0][0] <= t - guard:
            old_t, old_h, old_c = self._buffer.popleft()
            closing = self.on_interval_end(old_t)
            self.flagged = self.core.add(old_h, old_c, healthy, closing) & self.covered
        self.active = usable & (self._usable_since <= t - guard)

    def on_interval_end(self, t: float) -> bool:
        """``t`` is the first sample in a new loop counting interval (``bias_camera_close_every_s``),
        where the loops' totals have caught up with the vehicles that stood on them."""
        every = self.limits.bias_camera_close_every_s
        if every <= 0:
            return True
        interval = math.floor(t / every + 1e-9)
        new = interval != self._interval
        self._interval = interval
        return new

    def describe(self, i: int) -> str:
        camera = self.lanes.cameras[int(self._camera[i])]
        return self.core.describe(
            i, f"camera {camera} saw cross its lane's stop line", f"camera {camera}'s count of its lane"
        )
