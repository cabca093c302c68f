"""Concurrent readers and crash safety: the two promises WAL mode and per-bin commits make."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from trafficai.storage.store import RunStore

REPO_ROOT = Path(__file__).resolve().parents[2]

# Records bins as fast as it can, announcing each only after add_bin returned (i.e. committed).
WRITER_SCRIPT = """
import sys
from pathlib import Path
from trafficai.storage.store import RunStore

store = RunStore(Path(sys.argv[1]))
run_id = store.create_run("crash", "fixed", 1, {"duration_s": 10**9})
print("run", run_id, flush=True)
n = 0
while True:
    store.add_bin(
        run_id, n * 60.0, (n + 1) * 60.0, {"mean_delay_s": float(n)},
        signals={f"J{k}": {"queue_veh": float(n + k)} for k in range(20)},
        detectors={f"D{k}": {"flow_veh_h": float(n * k)} for k in range(50)},
    )
    print(f"bin {n}", flush=True)
    n += 1
"""


def test_second_connection_sees_each_committed_bin(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    with RunStore(path) as writer, RunStore(path) as reader:
        run_id = writer.create_run("s", "c", 0, {})
        assert reader.get_run(run_id).status == "running"
        for n in range(5):
            writer.add_bin(run_id, n * 60.0, (n + 1) * 60.0, {"a": float(n)}, signals={"J1": {"q": 1.0}})
            assert reader.get_run(run_id).n_bins == n + 1
            assert reader.network_series(run_id)["a"].tolist() == [float(i) for i in range(n + 1)]
            assert len(reader.scoped_series(run_id, "signal")) == n + 1
        writer.finish_run(run_id, {"a": 4.0})
        assert reader.get_run(run_id).status == "completed"


def test_reader_is_not_blocked_by_an_open_write_transaction(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    with RunStore(path) as store:
        run_id = store.create_run("s", "c", 0, {})
        store.add_bin(run_id, 0.0, 60.0, {"a": 1.0})
    # A writer mid-transaction holding an EXCLUSIVE lock, which blocks readers unless in WAL mode.
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN EXCLUSIVE")
        writer.execute("UPDATE runs SET n_bins = 99 WHERE id = ?", (run_id,))
        done = threading.Event()
        seen: list[int] = []

        def read() -> None:
            with RunStore(path) as reader:  # opening (schema check) must not block either
                seen.append(reader.get_run(run_id).n_bins)
            done.set()

        thread = threading.Thread(target=read)
        thread.start()
        # Blocked, the reader would wait BUSY_TIMEOUT_S (10 s) and then fail.
        assert done.wait(timeout=5.0), "reader blocked by the writer's transaction"
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    thread.join(timeout=15.0)
    assert seen == [1]  # the uncommitted bin was never visible


def test_concurrent_reader_thread_while_writing(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    n_bins = 40
    with RunStore(path) as writer:
        run_id = writer.create_run("s", "c", 0, {})
        errors: list[BaseException] = []
        observed: list[int] = []
        stop = threading.Event()

        def poll() -> None:
            try:
                with RunStore(path) as reader:
                    while not stop.is_set():
                        times = reader.network_series(run_id)["t_end"]
                        observed.append(len(times))
                        # Bins are whole: every visible bin has all its detector rows.
                        assert len(reader.scoped_series(run_id, "detector")) >= 30 * len(times)
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=poll)
        thread.start()
        for n in range(n_bins):
            writer.add_bin(
                run_id, n * 1.0, n + 1.0, {"a": 1.0}, detectors={f"D{k}": {"f": 1.0} for k in range(30)}
            )
        stop.set()
        thread.join(timeout=30.0)
    assert errors == []
    assert observed == sorted(observed)  # never goes backwards
    assert observed and observed[-1] <= n_bins


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
def test_sigkilled_writer_keeps_every_announced_bin(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER_SCRIPT, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    announced: list[int] = []
    run_id = ""
    try:
        for line in proc.stdout:
            if line.startswith("run "):
                run_id = line.split()[1]
            elif line.startswith("bin "):
                announced.append(int(line.split()[1]))
                if len(announced) >= 5:
                    break
        else:
            pytest.fail(f"writer exited early: {proc.stderr.read() if proc.stderr else ''}")
        os.kill(proc.pid, signal.SIGKILL)
        # Lines printed between our last read and the kill are committed bins too.
        announced += [int(line.split()[1]) for line in proc.stdout if line.startswith("bin ")]
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)  # reaped: a zombie would still answer os.kill(pid, 0)
        proc.stdout.close()
        if proc.stderr is not None:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert announced == list(range(len(announced))) and len(announced) >= 5

    with RunStore(path) as store:
        record = store.get_run(run_id)
        # Every announced bin is there; at most one more (committed, killed before printing).
        assert len(announced) <= record.n_bins <= len(announced) + 1
        times = store.network_series(run_id)["t_end"].tolist()
        assert times[: len(announced)] == [(n + 1) * 60.0 for n in announced]
        assert len(times) == record.n_bins
        per_bin_detectors = len(store.scoped_series(run_id, "detector")) / record.n_bins
        assert per_bin_detectors == 50  # no half-written bin
        [listed] = store.list_runs()
        assert (listed.id, listed.status) == (run_id, "interrupted")
        assert listed.finished_at is None
