"""Fixed-size ring buffers for live time series (pure numpy; no Qt)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


class RingBuffer:
    """The last ``capacity`` samples of a time series with ``width`` values per sample."""

    def __init__(self, capacity: int, width: int = 1) -> None:
        if capacity < 1 or width < 1:
            raise ValueError("capacity and width must be positive")
        self.capacity = capacity
        self.width = width
        self._t = np.zeros(capacity, np.float64)
        self._v = np.full((capacity, width), np.nan, np.float64)
        self._next = 0
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def clear(self) -> None:
        self._next = 0
        self._size = 0

    def append(self, t: float, values: NDArray[np.float64] | list[float] | float) -> None:
        row = np.asarray(values, dtype=np.float64).reshape(-1)
        if row.size != self.width:
            raise ValueError(f"expected {self.width} values, got {row.size}")
        self._t[self._next] = t
        self._v[self._next] = row
        self._next = (self._next + 1) % self.capacity
        self._size = min(self._size + 1, self.capacity)

    def _order(self) -> NDArray[np.intp]:
        start = (self._next - self._size) % self.capacity
        return (start + np.arange(self._size)) % self.capacity

    def times(self) -> NDArray[np.float64]:
        return self._t[self._order()]

    def values(self, column: int | None = None) -> NDArray[np.float64]:
        """All values in time order: (n, width), or (n,) for one ``column``."""
        order = self._order()
        return self._v[order] if column is None else self._v[order, column]

    def last(self) -> tuple[float, NDArray[np.float64]] | None:
        if not self._size:
            return None
        i = (self._next - 1) % self.capacity
        return float(self._t[i]), self._v[i].copy()
