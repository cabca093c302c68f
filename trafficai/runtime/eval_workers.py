"""What the evaluation commands' worker pools share."""

from __future__ import annotations

import contextlib
import os

WORKER_NICE = 10


def nice_worker() -> None:
    """A pool initializer: run the worker at nice 10 (not 10 more than an already niced parent), so
    a long evaluation leaves the machine usable."""
    with contextlib.suppress(OSError):
        os.nice(max(0, WORKER_NICE - os.nice(0)))
