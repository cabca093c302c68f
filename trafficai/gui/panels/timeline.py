"""The rolling phase timeline of the signals panel: every signal's state changes and every loop's
calls, kept in bounded buffers, rendered as an RGBA image (rows: links, then the loops on the
signal's approaches; columns: time).

Time nobody watched is drawn as nothing (the background), never as the last state held: a jump, or
a time with frames off (``SimFrame.tracked_since_s`` moves past the last frame), is a gap for every
row; frames further apart than ``MAX_CALL_SPAN_S`` leave the loop rows empty between them (a count
that grew over a minute is not a minute-long call)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from trafficai.core.geometry import NetGeometry
from trafficai.gui.map.schemes import signal_char_lut
from trafficai.runtime.messages import SimFrame

MAX_COLUMNS = 600
MAX_CHANGES = 20000
MAX_CALLS = 5000
MAX_GAPS = 1000
MAX_CALL_SPAN_S = 2.0
GAP = (30, 30, 30, 255)


class Timeline:
    """Per-step signal state history and detector calls, rendered for one signal as an image."""

    def __init__(self, geometry: NetGeometry, step_length_s: float) -> None:
        self.geometry = geometry
        self.step_length_s = step_length_s
        n = len(geometry.signals)
        self.times: list[list[float]] = [[] for _ in range(n)]
        self.states: list[list[str]] = [[] for _ in range(n)]
        n_e1 = len(geometry.e1)
        # detector calls as ring arrays of (start, end) intervals, consecutive ones merged: no
        # Python object per call (a million small tuples make every full garbage collection slow)
        self.call_start = np.full((n_e1, MAX_CALLS), 0.0)  # touched now, not at the first frame
        self.call_end = np.full((n_e1, MAX_CALLS), 0.0)
        self.call_count = np.zeros(n_e1, np.int64)
        self._last_count: NDArray[np.int64] | None = None
        self._last_time = 0.0
        self._tracked_since = -np.inf
        self._seen = False  # a frame has been added
        self.gaps: list[tuple[float, float]] = []  # (start, end) of skipped time, in order
        self.now = 0.0
        self.lut, colors = signal_char_lut()
        self.palette = np.array([[*c, 255] for c in colors], dtype=np.uint8)

    def add_changes(self, changes: Sequence[tuple[int, float, str]]) -> None:
        for index, t, state in changes:
            if 0 <= index < len(self.times):
                times, states = self.times[index], self.states[index]
                if times and t < times[-1]:
                    continue
                times.append(t)
                states.append(state)
                if len(times) > MAX_CHANGES:
                    del times[: len(times) - MAX_CHANGES]
                    del states[: len(states) - MAX_CHANGES]
                self.now = max(self.now, t)

    def add_frame(self, frame: SimFrame) -> None:
        det = frame.snapshot.detectors
        t = frame.snapshot.time_s
        self.now = max(self.now, t)
        skipped = self._note_gap(frame, t)
        if det.e1_count.size != self.call_count.size or not self.call_count.size:
            self._last_time = max(self._last_time, t)
            return
        count = det.e1_count.astype(np.int64)
        span_ok = t - self._last_time <= max(MAX_CALL_SPAN_S, self.step_length_s) + 1e-9
        if self._last_count is not None and t > self._last_time and not skipped and span_ok:
            called = (count > self._last_count) | (det.e1_occupancy > 0)
            rows = np.arange(count.size)
            last = (self.call_count - 1) % MAX_CALLS
            last_end = np.where(self.call_count > 0, self.call_end[rows, last], -np.inf)
            extend = called & (last_end >= self._last_time - 1e-9)
            self.call_end[rows[extend], last[extend]] = t
            new = called & ~extend
            slot = self.call_count[new] % MAX_CALLS
            self.call_start[rows[new], slot] = self._last_time
            self.call_end[rows[new], slot] = t
            self.call_count[new] += 1
        self._last_count = count
        self._last_time = t

    def _note_gap(self, frame: SimFrame, t: float) -> bool:
        """Record the time skipped before ``frame`` (if any); True when there was some."""
        since = frame.tracked_since_s
        if since <= self._tracked_since:
            return False
        first = self._tracked_since == -np.inf and not self._seen
        self._tracked_since = since
        self._seen = True
        if first or since <= self._last_time:
            return False
        self.gaps.append((self._last_time, min(since, t)))
        if len(self.gaps) > MAX_GAPS:
            del self.gaps[: len(self.gaps) - MAX_GAPS]
        return True

    def gap_mask(self, centers: NDArray[np.floating]) -> NDArray[np.bool_]:
        """Which time columns fall in skipped time."""
        mask = np.zeros(centers.shape, dtype=bool)
        for start, end in self.gaps:
            if end >= centers[0] and start <= centers[-1]:
                mask |= (centers > start) & (centers < end)
        return mask

    def calls_of(self, detector: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """A detector's call intervals in time order: (starts, ends)."""
        total = int(self.call_count[detector])
        n = min(total, MAX_CALLS)
        order = (total - n + np.arange(n)) % MAX_CALLS
        return self.call_start[detector, order], self.call_end[detector, order]

    def detectors_of(self, signal_index: int) -> list[int]:
        lanes = set(self.geometry.signals[signal_index].incoming_lanes)
        return [i for i, lane in enumerate(self.geometry.e1.lanes) if int(lane) in lanes]

    def image(self, signal_index: int, window_s: float) -> tuple[NDArray[np.uint8], float, list[str]]:
        """RGBA rows (links, then detector calls) x time columns over the last ``window_s``.

        Returns the image, the time of its first column and a label per row."""
        info = self.geometry.signals[signal_index]
        n_links = info.program.n_links
        detectors = self.detectors_of(signal_index)
        step = max(self.step_length_s, window_s / MAX_COLUMNS)
        cols = max(1, round(window_s / step))
        t0 = self.now - cols * step
        centers = t0 + (np.arange(cols) + 0.5) * step
        rows = n_links + (1 + len(detectors) if detectors else 0)
        img = np.zeros((rows, cols, 4), np.uint8)
        img[..., 3] = 255
        img[..., :3] = 30
        times = np.asarray(self.times[signal_index], dtype=np.float64)
        if times.size:
            which = np.searchsorted(times, centers, side="right") - 1
            states = self.states[signal_index]
            valid = which >= 0
            codes = np.zeros((cols, n_links), np.uint8)
            for c in np.flatnonzero(valid):
                state = states[which[c]]
                codes[c, : min(len(state), n_links)] = np.frombuffer(
                    state.encode("ascii", "replace")[:n_links], np.uint8
                )
            colored = self.palette[self.lut[codes]]  # (cols, links, 4)
            colored[~valid] = (30, 30, 30, 255)
            img[:n_links] = colored.transpose(1, 0, 2)
        labels = [f"L{k}" for k in range(n_links)]
        if detectors:
            img[n_links] = (15, 15, 15, 255)
            labels.append("")
            for r, det in enumerate(detectors, start=n_links + 1):
                starts, ends = self.calls_of(det)
                if starts.size:
                    idx = np.searchsorted(starts, centers, side="right") - 1
                    hit = (idx >= 0) & (centers <= ends[np.clip(idx, 0, None)] + step / 2)
                    img[r, hit, :3] = (78, 161, 255)
                labels.append(self.geometry.e1.ids[det])
        img[:, self.gap_mask(centers)] = GAP
        return img, t0, labels
