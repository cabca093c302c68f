"""What-if branches forked from the live simulation, collected on a background thread so the live
run keeps stepping; the serve loop takes the results with :meth:`BranchRunner.take`.

Two ways (``handlers.fork_whatif`` picks): :meth:`BranchRunner.start_forked` gathers branches that
are ``fork()``ed copies of the worker process (``runtime/whatif_fork.py``: exact, no start-up; Linux
and libsumo), :meth:`BranchRunner.start` runs branches in new processes that load the state the
worker saved now (the fallback)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from trafficai.errors import TrafficAIError
from trafficai.runtime.messages import WhatIfResults
from trafficai.runtime.whatif import UNCHANGED, BranchResult, BranchSpec, BranchTask, run_branch, run_branches
from trafficai.runtime.whatif_fork import ForkedBranches


class BranchRunner:
    def __init__(self, jobs: int = 2, target: Callable[[BranchTask], BranchResult] = run_branch) -> None:
        self.jobs, self.target = jobs, target
        self._thread: threading.Thread | None = None
        self._done: WhatIfResults | None = None
        self._lock = threading.Lock()

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def start(self, tasks: Sequence[BranchTask], at_s: float, horizon_s: float, scratch: Path) -> None:
        """Run ``tasks`` (an unchanged branch is added first); ``scratch`` (the state) is removed after."""
        if self.busy:
            raise TrafficAIError("what-if branches are already running; wait for their results")
        if not tasks:
            raise TrafficAIError("a what-if needs at least one branch")
        unchanged = replace(tasks[0], spec=BranchSpec(UNCHANGED))
        every = [unchanged, *[t for t in tasks if t.spec.text != UNCHANGED]]

        def work() -> None:
            started = time.perf_counter()
            try:
                results = run_branches(every, self.jobs, self.target)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            rows = tuple((r.branch, r.kpis, r.error) for r in results)
            with self._lock:
                self._done = WhatIfResults(at_s, horizon_s, rows, round(time.perf_counter() - started, 2))

        self._thread = threading.Thread(target=work, name="whatif-branches", daemon=True)
        self._thread.start()

    def start_forked(self, forked: ForkedBranches) -> None:
        """Gather branches already forked (``whatif_fork.fork_branches``), ``jobs`` at a time."""
        if self.busy:
            raise TrafficAIError("what-if branches are already running; wait for their results")
        forked.jobs = self.jobs

        def work() -> None:
            started = time.perf_counter()
            results = forked.collect()
            rows = tuple((r.branch, r.kpis, r.error) for r in results)
            wall = round(time.perf_counter() - started + forked.forked_s, 2)
            with self._lock:
                self._done = WhatIfResults(forked.at_s, forked.horizon_s, rows, wall)

        self._thread = threading.Thread(target=work, name="whatif-branches", daemon=True)
        self._thread.start()

    def take(self) -> WhatIfResults | None:
        """The results once every branch has finished (then the runner is free again)."""
        with self._lock:
            done, self._done = self._done, None
        if done is not None and self._thread is not None:
            self._thread.join()
            self._thread = None
        return done
