"""What-if branches by ``fork()``: every branch is a copy of the process holding the running
simulation, taken at *now*, so it starts from SUMO's whole state (vehicles with their lane-change
and car-following internals, signals, every random number generator) and from the controllers'
own state; no process start, no imports, no state file to write or load.

    forked = fork_branches(life, specs, at_s, horizon_s, jobs=2)   # in the thread stepping SUMO
    ... the live run goes on in this process ...
    results = forked.collect()                                     # any thread; blocks

Safe because a child of ``fork()`` holds only the forking thread, which is the one that owns
libsumo (single-threaded C++, in process, no TraCI socket), and the child touches nothing the
other threads own: it never returns into the caller, sends its result over its own pipe and ends
with ``os._exit`` (no atexit handlers, no finalizers; garbage collection off). Before running, the
child takes SUMO's output files away from the live run: every file descriptor open for writing is
pointed at ``/dev/null``, except the trip records (tripinfo), which it continues in a private copy
of what the live run had written so far; a branch therefore never writes into the live run's
files, its run store or its state files (see ``resume.ResumePoints.sumo_prefix``). Linux only
(``/proc/self/fd``); elsewhere, and on the TraCI backend, branches load a saved state
(``whatif.run_branches``).
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import os
import pickle
import select
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from trafficai.core.kpis import QueueTracker, run_kpis
from trafficai.errors import TrafficAIError
from trafficai.runtime.whatif import NICE, BranchResult, BranchSpec, apply_branch, window_trips

PROC_FD = Path("/proc/self/fd")
RELEASE = b"g"


def fork_supported(backend_kind: str = "libsumo", sumo_gui: bool = False) -> bool:
    """Whether branches can be forked here: Linux's ``/proc/self/fd``, libsumo, no sumo-gui."""
    return hasattr(os, "fork") and PROC_FD.is_dir() and backend_kind == "libsumo" and not sumo_gui


def inner_backend(backend: Any) -> Any:
    """The SUMO backend under the fault and substitution wrappers."""
    while "_backend" in vars(backend):
        backend = vars(backend)["_backend"]
    return backend


def writable_files() -> dict[int, str]:
    """This process's descriptors (above stderr) open for writing on a regular file: fd -> path."""
    out: dict[int, str] = {}
    for name in os.listdir(PROC_FD):
        fd = int(name)
        if fd <= 2:
            continue
        try:
            target = os.readlink(PROC_FD / name)
            mode = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
        except OSError:  # the listing's own descriptor, closed meanwhile
            continue
        if mode != os.O_RDONLY and target.startswith("/") and Path(target).is_file():
            out[fd] = target
    return out


@dataclass(frozen=True, slots=True)
class TripFile:
    """The live run's tripinfo descriptor and how much of it was written when the branches forked."""

    fd: int
    path: str
    offset: int


def trip_file(tripinfo: Path | None) -> TripFile | None:
    if tripinfo is None:
        return None
    wanted = str(tripinfo.resolve())
    for fd, path in writable_files().items():
        if path == wanted:
            return TripFile(fd, path, os.lseek(fd, 0, os.SEEK_CUR))
    return None


def take_outputs(
    trips: TripFile | None, scratch: Path, keep: Sequence[int], state_dirs: Sequence[int] = ()
) -> Path | None:
    """In a branch: every writable file descriptor to /dev/null, the trip records to a private
    copy continued from what the live run had written (returned), and the folders SUMO saves its
    states in through ``/proc/self/fd`` (``state_dirs``) to a folder of the branch's own."""
    if state_dirs:
        (scratch / "states").mkdir()
        own_dir = os.open(scratch / "states", os.O_RDONLY | os.O_DIRECTORY)
        for fd in state_dirs:
            os.dup2(own_dir, fd)
        os.close(own_dir)
    null = os.open(os.devnull, os.O_WRONLY)
    own: Path | None = None
    for fd in writable_files():
        if fd in keep or fd == null:
            continue
        if trips is not None and fd == trips.fd:
            own = scratch / "tripinfo.xml"
            copy = os.open(own, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with open(trips.path, "rb") as src:
                os.write(copy, src.read(trips.offset))
            os.dup2(copy, fd)
            os.close(copy)
        else:
            os.dup2(null, fd)
    os.close(null)
    return own


@dataclass
class _Child:
    spec: BranchSpec
    pid: int
    result: int  # read end of its result pipe
    release: int  # write end of its start pipe
    data: bytearray = field(default_factory=bytearray)
    started: bool = False
    done: bool = False


@dataclass
class ForkedBranches:
    """The branches forked at ``at_s``; ``collect`` releases ``jobs`` at a time and gathers them."""

    at_s: float
    horizon_s: float
    jobs: int
    children: list[_Child]
    forked_s: float = 0.0  # wall time the forks took

    def collect(self, poll_s: float = 0.05) -> list[BranchResult]:
        """Every branch's result in the specs' order (blocks until all are done); a branch whose
        process died is reported with its exit code."""
        results: dict[int, BranchResult] = {}
        try:
            while len(results) < len(self.children):
                self._release()
                reading = {c.result: i for i, c in enumerate(self.children) if c.started and not c.done}
                ready, _, _ = select.select(list(reading), [], [], poll_s)
                for fd in ready:
                    i = reading[fd]
                    child = self.children[i]
                    chunk = os.read(fd, 1 << 16)
                    if chunk:
                        child.data += chunk
                        continue
                    results[i] = self._finish(child)
        finally:
            for child in self.children:
                if not child.done:
                    self._abandon(child)
        return [results[i] for i in range(len(self.children))]

    def _release(self) -> None:
        running = sum(1 for c in self.children if c.started and not c.done)
        for child in self.children:
            if running >= max(1, self.jobs):
                return
            if not child.started:
                child.started = True
                running += 1
                with contextlib.suppress(OSError):  # already dead: its EOF reports it
                    os.write(child.release, RELEASE)
                os.close(child.release)

    def _finish(self, child: _Child) -> BranchResult:
        child.done = True
        os.close(child.result)
        _, status = os.waitpid(child.pid, 0)
        if child.data:
            with contextlib.suppress(Exception):
                result: BranchResult = pickle.loads(bytes(child.data))
                return result
        code = os.waitstatus_to_exitcode(status)
        return BranchResult(child.spec.text, error=f"branch worker crashed (exit code {code})")

    def _abandon(self, child: _Child) -> None:
        child.done = True
        with contextlib.suppress(OSError):
            os.kill(child.pid, 9)
        for fd in (child.result, child.release):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(child.pid, 0)


BranchBody = Callable[[Any, BranchSpec, float, float, Sequence[str]], BranchResult]


def fork_branches(
    life: Any,
    specs: Sequence[BranchSpec],
    horizon_s: float,
    jobs: int = 2,
    sources: Sequence[str] = (),
    body: BranchBody | None = None,
    state_dirs: Sequence[int] = (),
) -> ForkedBranches:
    """Fork one process per branch from the running lifecycle ``life`` (call it from the thread
    that steps SUMO); each waits for ``collect`` to release it, runs ``body`` (default:
    :func:`run_forked_branch`) and sends its result back. ``state_dirs``: descriptors through which
    the live SUMO saves its states (``resume.ResumePoints.dir_fd``)."""
    backend = life.backend
    at_s = backend.time_s
    trips = trip_file(inner_backend(backend).options.tripinfo_path)
    run = body or run_forked_branch
    children: list[_Child] = []
    started = time.perf_counter()
    gc.collect()  # less for every child to copy on write
    for spec in specs:
        result_r, result_w = os.pipe()
        release_r, release_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the branch: never returns
            _child_main(life, spec, horizon_s, sources, run, trips, (result_w, release_r), state_dirs)
        os.close(result_w)
        os.close(release_r)
        children.append(_Child(spec, pid, result_r, release_w))
    return ForkedBranches(at_s, horizon_s, jobs, children, round(time.perf_counter() - started, 4))


def _child_main(
    life: Any,
    spec: BranchSpec,
    horizon_s: float,
    sources: Sequence[str],
    run: BranchBody,
    trips: TripFile | None,
    pipes: tuple[int, int],
    state_dirs: Sequence[int],
) -> None:
    result_w, release_r = pipes
    code = 0
    try:
        gc.disable()  # no finalizer of the live run's objects (store, sockets) runs in a branch
        os.nice(max(0, NICE - os.nice(0)))
        for fd in os.listdir(PROC_FD):  # the other branches' pipes: theirs, not this one's
            if int(fd) > 2 and int(fd) not in (result_w, release_r) and _is_pipe(int(fd)):
                with contextlib.suppress(OSError):
                    os.close(int(fd))
        scratch = Path(tempfile.mkdtemp(prefix="trafficai-branch-"))
        own_trips = take_outputs(trips, scratch, pipes, state_dirs)
        if os.read(release_r, 1) != RELEASE:  # the parent went away or gave up on the branches
            os._exit(0)
        inner = inner_backend(life.backend)
        inner.options = replace(inner.options, tripinfo_path=own_trips)
        started = time.perf_counter()
        try:
            result = run(life, spec, life.backend.time_s, horizon_s, sources)
        except Exception as exc:  # a branch must come back as a line, whatever broke in it
            result = BranchResult(spec.text, error=f"{type(exc).__name__}: {exc}")
        result.wall_s = round(time.perf_counter() - started, 2)
        shutil.rmtree(scratch, ignore_errors=True)
        _send(result_w, pickle.dumps(result))
    except BaseException:  # nothing may escape into the caller's code in this process
        code = 70
    os._exit(code)


def _is_pipe(fd: int) -> bool:
    try:
        return os.readlink(PROC_FD / str(fd)).startswith("pipe:")
    except OSError:
        return False


def _send(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.close(fd)


def detach_from_live(life: Any) -> None:
    """In a branch: the lifecycle keeps stepping SUMO but records, publishes and cleans up nothing
    of the live run's (no store, no devices, no observers, no scratch folder removal)."""
    life.store = None
    life.run_id = ""
    life.devices = None
    life.observers = ()
    if life.recorder is not None:
        life.recorder.store = None
    if life.sim is not None:
        life.sim.workdir = None


def run_forked_branch(
    life: Any, spec: BranchSpec, at_s: float, horizon_s: float, sources: Sequence[str]
) -> BranchResult:
    """The branch in its forked process: apply the change now, run the horizon, the KPIs over the
    vehicles still travelling at ``at_s`` or later (as ``whatif.run_branch``)."""
    from trafficai.runtime.operator_state import OperatorState

    detach_from_live(life)
    notes: list[str] = []
    operator = OperatorState(lambda severity, kind, message, *_: notes.append(f"{kind}: {message}"))
    backend = life.backend
    recorder = life.recorder
    if recorder is None:
        raise TrafficAIError("the live run has no recorder: no KPIs to compute")
    try:
        apply_branch(spec, life, operator, horizon_s, sources)
        recorder.queue = QueueTracker()
        end = min(backend.end_step, backend.step + round(horizon_s / backend.step_length_s))
        while backend.step < end:
            life.step()
        final = backend.snapshot(vehicles=False)
        trips = backend.finish()
    except TrafficAIError as exc:
        return BranchResult(spec.text, error=str(exc))
    kpis = run_kpis(window_trips(trips, at_s), recorder.queue.stats(), final.counters.teleports_total)
    return BranchResult(spec.text, kpis, events=notes)


class ForkCollector:
    """Collects forked branches on a background thread (the live run keeps stepping)."""

    def __init__(self, forked: ForkedBranches, done: Callable[[list[BranchResult], float], None]) -> None:
        self.forked, self.done = forked, done
        self.thread = threading.Thread(target=self._run, name="whatif-fork-collector", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        started = time.perf_counter()
        results = self.forked.collect()
        self.done(results, time.perf_counter() - started + self.forked.forked_s)


def run_with_forks(
    task: Any, specs: Sequence[BranchSpec], jobs: int = 2
) -> tuple[BranchResult, list[BranchResult], float]:
    """``trafficai whatif`` by forking: a run from the begin to ``task.at_s`` that forks every
    branch there and goes on, itself, as the uninterrupted reference to ``at_s + horizon``.
    Returns (reference, branches, the branches' wall time from the fork to the last result)."""
    from trafficai.control.registry import make_controller
    from trafficai.runtime.lifecycle import RunLifecycle
    from trafficai.runtime.whatif import source_edges
    from trafficai.sim.net_loader import lane_successors

    started = time.perf_counter()
    scenario, config = task.scenario, task.config
    end_s = task.at_s + task.horizon_s - scenario.begin_s
    config = config.model_copy(update={"end_s": end_s, "incidents": ()})
    life = RunLifecycle(config, scenario)
    life.record(None, task.base_controller)
    try:
        backend = life.open(warnings=False).backend
        life.attach(make_controller(task.base_controller), config.signals or None)
        sources: tuple[str, ...] = ()
        if any(s.demand is not None for s in specs):
            lanes = backend.geometry.lanes
            sources = source_edges(
                lane_successors(scenario.net), dict(zip(lanes.ids, lanes.edges, strict=True))
            )
        while backend.time_s < task.at_s - 1e-9 and backend.step < backend.end_step:
            life.step()
        fork_t0 = time.perf_counter()
        forked = fork_branches(life, specs, task.horizon_s, jobs, sources)
        box: dict[str, Any] = {}
        collector = ForkCollector(
            forked, lambda r, w: box.update(results=r, wall=time.perf_counter() - fork_t0)
        )
        collector.start()
        recorder = life.recorder
        assert recorder is not None
        recorder.queue = QueueTracker()  # the reference's queue KPIs over the horizon, as a branch's
        while backend.step < backend.end_step:
            life.step()
        final = backend.snapshot(vehicles=False)
        trips = backend.finish()
        kpis = run_kpis(
            window_trips(trips, task.at_s), recorder.queue.stats(), final.counters.teleports_total
        )
        collector.thread.join()
    except TrafficAIError as exc:
        reference = BranchResult("uninterrupted", error=str(exc), wall_s=time.perf_counter() - started)
        return reference, [], 0.0
    finally:
        life.close_simulation()
    reference = BranchResult("uninterrupted", kpis, wall_s=round(time.perf_counter() - started, 2))
    return reference, box["results"], round(box["wall"], 2)
