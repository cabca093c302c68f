"""The SUMO seam: options to flags, SUMO's messages while running, the one getter table behind
snapshots and partial reads, and what the Protocol offers the readers (also on a replay)."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from tests.support import fakes
from trafficai.core.scenario import resolve_scenario
from trafficai.core.snapshot import ALL_PARTS, DetectorArrays, LaneArrays
from trafficai.sim.backend import SimBackend
from trafficai.sim.backlog import BacklogReader
from trafficai.sim.factory import open_backend
from trafficai.sim.partial_read import PartialReader, ReadSpec
from trafficai.sim.sumo_command import SumoOptions, sumo_args
from trafficai.sim.sumo_getters import E2_VALUES, GETTERS, LANE_VALUES
from trafficai.sim.sumo_messages import MAX_LOG_READ_BYTES, MessageLogTail, SumoMessage, message_of

# -- options -> flags (no SUMO needed) ----------------------------------------------------------


def _flag(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def test_seam_options_become_sumo_flags(tiny: str, tmp_path: Path) -> None:
    scenario = resolve_scenario(tiny)
    plain = sumo_args(scenario, SumoOptions())
    for flag in ("--no-warnings", "--error-log", "--max-depart-delay"):
        assert flag not in plain
    log = tmp_path / "sumo.log"
    options = SumoOptions(
        warnings=False, message_log=log, max_depart_delay_s=30.5, extra=("--max-depart-delay", "9")
    )
    args = sumo_args(scenario, options)
    assert _flag(args, "--no-warnings") == "true"
    assert _flag(args, "--error-log") == str(log)
    assert args[args.index("--max-depart-delay") : args.index("--max-depart-delay") + 2] == [
        "--max-depart-delay",
        "30.5",
    ]
    assert args[-2:] == ["--max-depart-delay", "9"]  # the user's own arguments come last and win


# -- the message log (no SUMO needed) ------------------------------------------------------------


def test_message_severity_and_prefix() -> None:
    assert message_of("Warning: Teleporting vehicle 'v'") == SumoMessage("warning", "Teleporting vehicle 'v'")
    assert message_of("Error: Vehicle 'v' has no valid route.") == SumoMessage(
        "alarm", "Vehicle 'v' has no valid route."
    )
    assert message_of("Loading done.") == SumoMessage("warning", "Loading done.")


def test_log_tail_reads_whole_lines_only(tmp_path: Path) -> None:
    path = tmp_path / "sumo.log"
    tail = MessageLogTail(path)
    assert tail.read() == []  # SUMO has not written it yet
    path.write_text("Warning: one\nError: two\nWarning: thr")
    assert tail.read() == [SumoMessage("warning", "one"), SumoMessage("alarm", "two")]
    assert tail.read() == []  # the third line is still being written
    with path.open("a") as fh:
        fh.write("ee\n\n")
    assert tail.read() == [SumoMessage("warning", "three")]


def test_log_tail_reads_at_most_256_kib_per_call(tmp_path: Path) -> None:
    path = tmp_path / "sumo.log"
    line = "Warning: " + "x" * 90 + "\n"  # 100 bytes
    count = 3 * MAX_LOG_READ_BYTES // len(line)
    path.write_text(line * count)
    tail = MessageLogTail(path)
    sizes = []
    while batch := tail.read():
        sizes.append(len(batch))
    assert MAX_LOG_READ_BYTES == 256 * 1024
    assert all(n * len(line) <= MAX_LOG_READ_BYTES for n in sizes) and len(sizes) >= 3
    assert sum(sizes) == count


# -- SUMO's messages while running ---------------------------------------------------------------


@pytest.mark.sumo
@pytest.mark.parametrize("kind", ["libsumo", "traci"])
def test_teleports_mid_run_arrive_as_new_messages(tiny: str, tmp_path: Path, kind: str) -> None:
    """A 1 s time-to-teleport on a crowded junction: SUMO warns of teleports while running. SUMO
    writes its log in blocks, so messages come in batches; what is left comes after close."""
    options = SumoOptions(time_to_teleport=1, demand_scale=5, message_log=tmp_path / "sumo.log")
    backend = open_backend(resolve_scenario(tiny), options, kind=kind)  # type: ignore[arg-type]
    assert isinstance(backend.load_warnings, tuple)
    messages: list[SumoMessage] = []
    first_at = None
    while backend.step < backend.end_step:
        backend.advance()
        batch = backend.new_messages()
        if batch and first_at is None:
            first_at = backend.step
        messages += batch
    teleports = backend.snapshot(vehicles=False).counters.teleports_total
    backend.close()
    messages += backend.new_messages()  # the rest, written when SUMO closed its log
    assert first_at is not None and first_at < backend.end_step  # some arrived while running
    started = [m for m in messages if m.text.startswith("Teleporting vehicle")]
    assert teleports > 0 and len(started) == teleports
    assert all(m.severity == "warning" and not m.text.startswith("Warning") for m in messages)
    assert backend.new_messages() == []


@pytest.mark.sumo
def test_no_message_log_no_messages(tiny: str) -> None:
    backend = open_backend(resolve_scenario(tiny), SumoOptions(time_to_teleport=1, demand_scale=5, end_s=200))
    try:
        for _ in range(200):
            backend.advance()
            assert backend.new_messages() == []
    finally:
        backend.close()


def test_replay_backend_has_no_sumo_messages() -> None:
    backend: SimBackend = fakes.backend([0, 9], steps=5)
    assert backend.load_warnings == () and backend.new_messages() == []
    assert backend.pending_vehicles() == () and backend.vehicle_route("v") == ()
    assert backend.value_reader("lane", "vehicles") is None


# -- one getter table for snapshots and partial reads ---------------------------------------------


def test_the_getter_table_is_the_snapshot_s_fields() -> None:
    assert tuple(f.name for f in fields(LaneArrays)) == LANE_VALUES
    assert tuple(f"e2_{v}" for v in E2_VALUES) == tuple(f.name for f in fields(DetectorArrays))[3:]
    assert {k for k, v in GETTERS if v == "occupancy"} == {"lane", "e1", "e2"}
    assert GETTERS[("e1", "occupancy")].divisor == GETTERS[("e2", "occupancy")].divisor == 100.0
    assert GETTERS[("lane", "occupancy")].divisor == 1.0  # SUMO reports lane occupancy as a fraction


@pytest.mark.sumo
def test_partial_reads_equal_the_full_snapshot(grid2x2: str) -> None:
    """Bit for bit: both read through the same getters and conversions."""
    backend = open_backend(resolve_scenario(grid2x2), SumoOptions(seed=5), vehicles=False)
    try:
        geometry = backend.geometry
        lanes = tuple(range(1, len(geometry.lanes), 3))
        spec = ReadSpec(
            lanes=lanes,
            lane_fields=frozenset(LANE_VALUES),
            e1=tuple(range(len(geometry.e1))),
            e1_fields=frozenset({"occupancy", "speed"}),
            e2=tuple(range(0, len(geometry.e2), 2)),
            e2_fields=frozenset(E2_VALUES),
        )
        reader = PartialReader(backend, spec)
        idx, e2 = np.array(lanes), np.array(spec.e2)
        busy = 0.0
        for step in range(300):
            backend.advance()
            if step % 10:
                continue
            part, full = reader.read(), backend.snapshot(vehicles=False, parts=ALL_PARTS)
            for name in LANE_VALUES:
                np.testing.assert_array_equal(getattr(part.lanes, name)[idx], getattr(full.lanes, name)[idx])
            for name in ("e1_occupancy", "e1_speed"):
                np.testing.assert_array_equal(getattr(part.detectors, name), getattr(full.detectors, name))
            for name in ("e2_vehicles", "e2_halting", "e2_occupancy", "e2_speed"):
                np.testing.assert_array_equal(
                    getattr(part.detectors, name)[e2], getattr(full.detectors, name)[e2]
                )
            busy += float(full.detectors.e2_occupancy.sum() + full.detectors.e1_occupancy.sum())
            assert (full.detectors.e2_occupancy <= 1.0).all() and (full.detectors.e1_occupancy <= 1.0).all()
        assert busy > 0  # real occupancies were compared, not only zeros
    finally:
        backend.close()


def test_partial_read_on_a_replay_is_the_full_snapshot() -> None:
    backend = fakes.backend([3, 0, 5], steps=5)
    snap = PartialReader(backend, ReadSpec(lanes=(0,), lane_fields=frozenset({"halting"}))).read()
    assert snap == backend.snapshot(vehicles=False)


# -- the insertion backlog through the Protocol ----------------------------------------------------


@pytest.mark.sumo
def test_backlog_reads_pending_vehicles_and_their_routes(tiny: str) -> None:
    backend = open_backend(resolve_scenario(tiny), SumoOptions(demand_scale=6, end_s=300), vehicles=False)
    try:
        edges = sorted(set(backend.geometry.lanes.edges))
        reader = BacklogReader(backend, {edge: i for i, edge in enumerate(edges)}, len(edges))
        api = backend.api  # type: ignore[attr-defined]  # SUMO itself, as the reference
        most = 0
        for _ in range(200):
            backend.advance()
            pending = backend.pending_vehicles()
            assert pending == tuple(api.simulation.getPendingVehicles())
            for vehicle in pending[:3]:
                assert backend.vehicle_route(vehicle) == tuple(api.vehicle.getRoute(vehicle))
            counts = reader.read()
            assert counts.sum() == len(pending)  # every route starts on one of the net's edges
            assert backend.snapshot(vehicles=False).counters.pending == len(pending)
            most = max(most, len(pending))
        assert most > 5
    finally:
        backend.close()


def test_backlog_on_a_replay_is_empty() -> None:
    reader = BacklogReader(fakes.backend([0], steps=3), {"l0": 0}, 2)
    assert reader.read().tolist() == [0, 0]


def test_no_reader_reaches_past_the_protocol_for_sumo() -> None:
    """Only the SUMO backends (and the net loader they hand SUMO to) hold SUMO's API object."""
    package = Path(__file__).resolve().parents[2] / "trafficai"
    holders = {"sumo_backend.py", "libsumo_backend.py", "traci_backend.py", "net_loader.py"}
    holders.add("sumo_getters.py")
    reaching = re.compile(r"""getattr\([^)]*["']api["']|backend\.api\b|\._api\b""")
    offenders = [
        f"{path.relative_to(package)}:{n}"
        for path in sorted(package.rglob("*.py"))
        if not (path.parent.name == "sim" and path.name in holders)
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if reaching.search(line)
    ]
    assert offenders == []
