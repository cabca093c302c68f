"""The SUMO backend shared by libsumo (in-process) and TraCI (socket; sumo-gui or remote SUMO).

Per-vehicle state comes only from subscriptions (each vehicle is subscribed once, when it
departs). Aggregates (lanes, signals, detectors) are read on demand when a snapshot is taken, and
only the parts asked for: libsumo evaluates every subscription on every step whether it is read or
not, so a controller that looks every 5 s would otherwise pay for all the steps in between.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np

from trafficai.core.detours import RouteRepairs
from trafficai.core.geometry import NetGeometry
from trafficai.core.kpis import TripRecords
from trafficai.core.lane_state import lanes_from_vehicles
from trafficai.core.scenario import Scenario
from trafficai.core.signals import SignalProgram
from trafficai.core.snapshot import (
    ALL_PARTS,
    DETECTORS,
    LANE_COUNTS,
    LANE_EMISSIONS,
    LANE_FLOW,
    DetectorArrays,
    LaneArrays,
    NetworkCounters,
    SignalArrays,
    Snapshot,
    VehicleArrays,
    frozen,
)
from trafficai.errors import SimulationError
from trafficai.sim.closures import LaneClosures, add_stopped_vehicle
from trafficai.sim.net_loader import detector_periods, load_geometry
from trafficai.sim.route_demand import CLONE_MARK, RouteDemandScaler, route_demand_problem
from trafficai.sim.sumo_command import SumoOptions
from trafficai.sim.sumo_getters import (
    E2_VALUES,
    GETTERS,
    LANE_PART,
    LANE_VALUES,
    ValueReader,
    raw_function,
    value_reader,
)
from trafficai.sim.sumo_messages import MessageLogTail, SumoMessage, one_line

TYPE_IDS = {"static": 0, "actuated": 3, "NEMA": 4, "delay_based": 5}
_NO_I32, _NO_F32 = frozen(np.zeros(0, np.int32)), frozen(np.zeros(0, np.float32))
EMPTY_DETECTORS = DetectorArrays(_NO_I32, _NO_F32, _NO_F32, _NO_I32, _NO_I32, _NO_F32, _NO_F32)


class SumoBackend:
    """Common implementation over a TraCI-compatible API object (``libsumo`` or a traci connection)."""

    def __init__(
        self,
        api: Any,
        scenario: Scenario,
        options: SumoOptions,
        *,
        vehicles: bool = True,
        load_warnings: tuple[str, ...] = (),
        constants: Any = None,
    ) -> None:
        self.api = api
        # called every step / at every signal change: libsumo's raw functions where there are
        self._sim_results = raw_function(api, "simulation", "getSubscriptionResults")
        self._set_state = raw_function(api, "trafficlight", "setRedYellowGreenState")
        self.scenario = scenario
        self.options = options
        self._tc = constants if constants is not None else api.constants
        self.step_length_s = options.step_length_s or scenario.step_length_s
        self._begin_ms = round(scenario.begin_s * 1000)
        self._step_ms = round(self.step_length_s * 1000)
        end_s = options.end_s if options.end_s is not None else scenario.end_s
        self._end_step = math.floor((end_s - scenario.begin_s) * 1000 / self._step_ms + 1e-9)
        self._step = 0
        self._vehicles_on = vehicles
        self._closed = False
        self._departed = self._arrived = self._teleports = self._collisions = 0
        self._departed_step = self._arrived_step = 0
        self._type_index: dict[str, int] = {}
        self._vehicle_type: dict[str, int] = {}
        self._type_lengths: dict[str, float] = {}
        self._fns: dict[tuple[str, str], Callable[[str], Any]] = {}
        self._readers: dict[tuple[str, str], ValueReader] = {}
        self.load_warnings = load_warnings  # SUMO warnings while loading, for the event list
        log = options.message_log
        self._messages = MessageLogTail(log) if log is not None else None
        self._lane_index: dict[str, int] = {}
        # demand through edges: decisions at departure, seeded with the run's seed
        self._route_demand = RouteDemandScaler(options.seed)
        self._route_ids: dict[tuple[str, ...], str] = {}  # routes of the copies, one per edge list
        self._added: set[str] = set()  # vehicles this backend added (copies, incidents): never scaled
        self._removed: set[str] = set()  # vehicles route demand removed as they departed
        self._removed_step = 0
        self._departed_ids_on = False
        self.geometry = self._load_geometry()
        self._closures = LaneClosures(api, self.geometry.lanes)

    # -- life cycle ---------------------------------------------------------------------------

    def _load_geometry(self) -> NetGeometry:
        tc = self._tc
        try:
            self._subscribe_simulation()
            geometry = load_geometry(self.scenario.net, self.api)
        except SimulationError:
            raise
        except Exception as exc:
            self.close()
            raise self._wrap(exc, "cannot load the network") from exc
        self._lane_index = geometry.lanes.index()
        self._edges = frozenset(geometry.lanes.edges)
        # internal (junction) lanes map to -1; defaultdict keeps the lookup in C
        self._lane_lookup: defaultdict[str, int] = defaultdict(lambda: -1, self._lane_index)
        self._e1_ids = geometry.e1.ids
        self._e2_ids = geometry.e2.ids
        periods = detector_periods(self.scenario.additional)
        # E1 totals: SUMO only keeps the current and the last aggregation interval, so the last
        # one is added at every interval end (one read per detector and period, not per step)
        by_period: dict[int, list[int]] = {}
        for i, det in enumerate(self._e1_ids):
            period = periods.get(det, 0.0)
            if period > 0:
                by_period.setdefault(max(1, round(period * 1000 / self._step_ms)), []).append(i)
        self._e1_groups = [
            (steps, np.array(idx), [self._e1_ids[i] for i in idx]) for steps, idx in by_period.items()
        ]
        self._e1_totals = np.zeros(len(self._e1_ids), np.int64)
        self._e1_shown = np.zeros(len(self._e1_ids), np.int64)
        self._tls_ids = tuple(s.id for s in geometry.signals)
        self._vehicle_vars = (
            tc.VAR_POSITION,
            tc.VAR_ANGLE,
            tc.VAR_SPEED,
            tc.VAR_LANE_ID,
            tc.VAR_WAITING_TIME,
        )
        self._vehicle_get = itemgetter(*self._vehicle_vars)
        return geometry

    def _subscribe_simulation(self) -> None:
        """The network-wide counters; departed ids too while vehicles are tracked or routes scaled
        (subscribing again replaces the variables)."""
        tc = self._tc
        sim_vars = [
            tc.VAR_DEPARTED_VEHICLES_NUMBER,
            tc.VAR_ARRIVED_VEHICLES_NUMBER,
            tc.VAR_TELEPORT_STARTING_VEHICLES_NUMBER,
            tc.VAR_COLLIDING_VEHICLES_NUMBER,
        ]
        self._departed_ids_on = self._vehicles_on or bool(self._route_demand)
        if self._departed_ids_on:
            sim_vars.append(tc.VAR_DEPARTED_VEHICLES_IDS)
        if self._vehicles_on:
            sim_vars.append(tc.VAR_ARRIVED_VEHICLES_IDS)
        if getattr(self, "_closures", None) is not None and self._closures.active:
            sim_vars.append(tc.VAR_LOADED_VEHICLES_IDS)  # their routes are checked as SUMO loads them
        self.api.simulation.subscribe(sim_vars)

    def _wrap(self, exc: BaseException, what: str) -> SimulationError:
        return SimulationError(
            f"SUMO: {what}: {one_line(str(exc))}", scenario=self.scenario.name, time_s=self.time_s
        )

    @property
    def step(self) -> int:
        return self._step

    @property
    def end_step(self) -> int:
        return self._end_step

    @property
    def time_s(self) -> float:
        return (self._begin_ms + self._step * self._step_ms) / 1000.0

    def advance(self) -> None:
        tc = self._tc
        try:
            self.api.simulationStep()
            self._step += 1
            sim = self._sim_results()
            self._departed_step = int(sim[tc.VAR_DEPARTED_VEHICLES_NUMBER])
            self._arrived_step = int(sim[tc.VAR_ARRIVED_VEHICLES_NUMBER])
            self._departed += self._departed_step
            self._arrived += self._arrived_step
            self._teleports += int(sim[tc.VAR_TELEPORT_STARTING_VEHICLES_NUMBER])
            self._collisions += int(sim[tc.VAR_COLLIDING_VEHICLES_NUMBER])
            self._removed_step = 0
            if self._closures.active:
                self._closures.repair(sim.get(tc.VAR_LOADED_VEHICLES_IDS, ()))
            departed: tuple[str, ...] = ()
            if self._departed_ids_on:
                departed = tuple(sim.get(tc.VAR_DEPARTED_VEHICLES_IDS, ()))
                if departed and (self._route_demand or self._added):
                    departed = self._scale_departures(departed)
            if self._vehicles_on:
                subscribe, variables = self.api.vehicle.subscribe, self._vehicle_vars
                type_of, types = self.api.vehicle.getTypeID, self._type_index
                for vehicle in departed:
                    subscribe(vehicle, variables)
                    vtype = type_of(vehicle)  # once per vehicle, at departure
                    self._vehicle_type[vehicle] = types.setdefault(vtype, len(types))
                for vehicle in sim[tc.VAR_ARRIVED_VEHICLES_IDS]:
                    self._vehicle_type.pop(vehicle, None)
            for period, index, ids in self._e1_groups:
                if self._step % period == 0:  # SUMO closes the interval at the step that ends it
                    last = self.api.inductionloop.getLastIntervalVehicleNumber
                    self._e1_totals[index] += np.fromiter(map(last, ids), np.int64, len(ids))
        except Exception as exc:
            raise self._wrap(exc, "simulation step failed") from exc

    def _scale_departures(self, departed: tuple[str, ...]) -> tuple[str, ...]:
        """Apply route demand to the vehicles that departed this step: one route read per vehicle
        (none when no edge is scaled); returns those that stay in the network."""
        added, scaler, vehicle = self._added, self._route_demand, self.api.vehicle
        kept: list[str] = []
        for vid in departed:
            if vid in added:  # a copy or an incident vehicle departing: not scaled again
                added.discard(vid)
                kept.append(vid)
                continue
            if not scaler:
                kept.append(vid)
                continue
            route = tuple(vehicle.getRoute(vid))
            copies = scaler.copies(route)
            if copies == 0:
                vehicle.remove(vid)
                self._removed.add(vid)
                self._removed_step += 1
                continue
            kept.append(vid)
            if copies > 1:
                self._add_copies(vid, route, copies - 1)
        self._departed_step -= self._removed_step
        return tuple(kept)

    def _add_copies(self, vid: str, route: tuple[str, ...], n: int) -> None:
        """``n`` more vehicles like ``vid``: same edges, same type, departing now from the start of
        its first edge (they wait in SUMO's insertion queue while there is no room)."""
        route_id = self._route_ids.get(route)
        if route_id is None:
            route_id = f"trafficai_route_demand_{len(self._route_ids)}"
            self.api.route.add(route_id, list(route))
            self._route_ids[route] = route_id
        vtype = self.api.vehicle.getTypeID(vid)
        for k in range(1, n + 1):
            copy = f"{vid}{CLONE_MARK}{k}"
            self.api.vehicle.add(
                copy,
                route_id,
                typeID=vtype,
                depart="now",
                departLane="best",
                departPos="base",
                departSpeed="max",
            )
            self._added.add(copy)

    # -- reading state ------------------------------------------------------------------------

    def snapshot(self, vehicles: bool = True, parts: frozenset[str] = ALL_PARTS) -> Snapshot:
        try:
            vehicle_arrays = self._vehicles() if vehicles and self._vehicles_on else VehicleArrays()
            return Snapshot(
                step=self._step,
                time_s=self.time_s,
                lanes=self._lanes(parts, vehicle_arrays if vehicles and self._vehicles_on else None),
                signals=self._signals(),
                detectors=self._detectors() if DETECTORS in parts else EMPTY_DETECTORS,
                counters=self._counters(),
                vehicles=vehicle_arrays,
                vehicle_types=tuple(self._type_index),
                parts=parts,
            )
        except SimulationError:
            raise
        except Exception as exc:
            raise self._wrap(exc, "reading the simulation state failed") from exc

    def _vehicles(self) -> VehicleArrays:
        if self._step == 0 and not self._vehicle_type:
            # before this run's first step libsumo still answers the previous run's results (a
            # second run in one process saw the last run's vehicles in its first snapshot)
            return VehicleArrays()
        results = self.api.vehicle.getAllSubscriptionResults()
        n = len(results)
        if not n:
            return VehicleArrays()
        # everything below iterates in C (map, zip, fromiter): no Python loop per vehicle
        positions, angles, speeds, lanes, waiting = zip(
            *map(self._vehicle_get, results.values()), strict=True
        )
        xy = np.fromiter(itertools.chain.from_iterable(positions), np.float32, 2 * n).reshape(n, 2)
        vtype = np.fromiter(map(self._vehicle_type.get, results, itertools.repeat(0)), np.int32, n)
        return VehicleArrays(
            ids=tuple(results),
            xy=frozen(xy),
            angle=frozen(np.fromiter(angles, np.float32, n)),
            speed=frozen(np.fromiter(speeds, np.float32, n)),
            lane=frozen(np.fromiter(map(self._lane_lookup.__getitem__, lanes), np.int32, n)),
            vtype=frozen(vtype),
            waiting=frozen(np.fromiter(waiting, np.float32, n)),
        )

    def _lanes(self, parts: frozenset[str], vehicles: VehicleArrays | None) -> LaneArrays:
        ids = self.geometry.lanes.ids
        derived = None
        if vehicles is not None and parts & {LANE_COUNTS, LANE_FLOW}:
            # every vehicle is at hand already: lane aggregates are a bincount away
            lengths = np.array([self._type_length(t) for t in self._type_index], dtype=np.float64)
            derived = lanes_from_vehicles(vehicles, self.geometry.lanes, lengths)

        def read(value: str, part: str) -> Any:
            if part not in parts:
                return frozen(np.zeros(0, GETTERS[("lane", value)].dtype))
            return frozen(self._read("lane", value, ids))

        if derived is not None:
            none_i, none_f = frozen(np.zeros(0, np.int32)), frozen(np.zeros(0, np.float32))
            counts, flow = LANE_COUNTS in parts, LANE_FLOW in parts
            return LaneArrays(
                vehicles=derived.vehicles if counts else none_i,
                halting=derived.halting if counts else none_i,
                occupancy=derived.occupancy if flow else none_f,
                mean_speed=derived.mean_speed if flow else none_f,
                waiting=derived.waiting if LANE_EMISSIONS in parts else none_f,
                co2_mg_s=read("co2_mg_s", LANE_EMISSIONS),
            )
        return LaneArrays(*(read(value, LANE_PART[value]) for value in LANE_VALUES))

    def _read(self, kind: str, value: str, ids: tuple[str, ...]) -> Any:
        reader = self._readers.get((kind, value))
        if reader is None:
            reader = self._readers[(kind, value)] = value_reader(self.api, kind, value)
        return reader(ids)

    def _fn(self, domain: str, name: str) -> Callable[[str], Any]:
        key = (domain, name)
        fn = self._fns.get(key)
        if fn is None:
            fn = self._fns[key] = raw_function(self.api, domain, name)
        return fn

    def _type_length(self, vtype: str) -> float:
        if vtype not in self._type_lengths:
            self._type_lengths[vtype] = float(self.api.vehicletype.getLength(vtype))
        return self._type_lengths[vtype]

    def _signals(self) -> SignalArrays:
        ids, n = self._tls_ids, len(self._tls_ids)
        # SUMO's own clock of the running phase: exact however rarely snapshots are taken (a state
        # set by the safety layer is a phase of SUMO's "online" program, so this holds for it too)
        return SignalArrays(
            state=tuple(map(self._fn("trafficlight", "getRedYellowGreenState"), ids)),
            phase=frozen(np.fromiter(map(self._fn("trafficlight", "getPhase"), ids), np.int32, n)),
            time_in_phase=frozen(
                np.fromiter(map(self._fn("trafficlight", "getSpentDuration"), ids), np.float32, n)
            ),
        )

    def _detectors(self) -> DetectorArrays:
        ids1, ids2 = self._e1_ids, self._e2_ids
        interval_count = self._fn("inductionloop", "getIntervalVehicleNumber")
        counts = self._e1_totals + np.fromiter(map(interval_count, ids1), np.int64, len(ids1))
        # SUMO's running interval count includes a vehicle still standing on the loop, the closed
        # interval does not (it is counted in the interval it leaves in): at an interval end the sum
        # can dip by the vehicles on the loop. A cumulative counter never goes back.
        counts = np.maximum(counts, self._e1_shown)
        self._e1_shown = counts
        return DetectorArrays(
            frozen(counts.astype(np.int32)),
            frozen(self._read("e1", "occupancy", ids1)),
            frozen(self._read("e1", "speed", ids1)),
            *(frozen(self._read("e2", value, ids2)) for value in E2_VALUES),
        )

    def _counters(self) -> NetworkCounters:
        pending = len(self.pending_vehicles())
        return NetworkCounters(
            running=int(self.api.vehicle.getIDCount()),
            departed_total=self._departed - len(self._removed),
            arrived_total=self._arrived,
            pending=pending,
            teleports_total=self._teleports,
            collisions_total=self._collisions,
            arrived_step=self._arrived_step,
            departed_step=self._departed_step,
        )

    def value_reader(self, kind: str, value: str) -> ValueReader:
        return value_reader(self.api, kind, value)

    def pending_vehicles(self) -> tuple[str, ...]:
        return tuple(self.api.simulation.getPendingVehicles())

    def vehicle_route(self, vehicle_id: str) -> tuple[str, ...]:
        return tuple(self.api.vehicle.getRoute(vehicle_id))

    def new_messages(self) -> list[SumoMessage]:
        if self._messages is None:
            return []
        # SUMO warns once per vehicle at every saved state that its emissions device has no state
        # to save (resume points): noise, not news
        return [m for m in self._messages.read() if not m.text.endswith("cannot save state")]

    # -- acting -------------------------------------------------------------------------------

    def set_signal_state(self, signal_id: str, state: str) -> None:
        try:
            self._set_state(signal_id, state)
        except Exception as exc:
            raise self._wrap(exc, f"cannot set signal {signal_id}") from exc

    def signal_state(self, signal_id: str) -> str:
        try:
            return str(self.api.trafficlight.getRedYellowGreenState(signal_id))
        except Exception as exc:
            raise self._wrap(exc, f"cannot read signal {signal_id}") from exc

    def run_program(self, signal_id: str, program_id: str, phase_index: int) -> None:
        try:
            self.api.trafficlight.setProgram(signal_id, program_id)
            self.api.trafficlight.setPhase(signal_id, phase_index)
        except Exception as exc:
            raise self._wrap(exc, f"cannot run program {program_id!r} on signal {signal_id}") from exc

    def install_program(self, signal_id: str, program: SignalProgram) -> None:
        tl = self.api.trafficlight
        try:
            phases = [tl.Phase(p.duration, p.state, p.min_dur, p.max_dur) for p in program.phases]
            logic = tl.Logic(program.program_id, TYPE_IDS.get(program.kind, 0), 0, phases)
            current = tl.getProgram(signal_id)
            phase = tl.getPhase(signal_id)
            tl.setProgramLogic(signal_id, logic)
            # setProgramLogic activates the new program; keep the running one until asked
            if current != program.program_id:
                tl.setProgram(signal_id, current)
                tl.setPhase(signal_id, phase)
        except Exception as exc:
            raise self._wrap(exc, f"cannot install program {program.program_id!r} on {signal_id}") from exc

    def set_demand_scale(self, factor: float) -> None:
        self.api.simulation.setScale(factor)

    def set_lanes_closed(self, lane_ids: tuple[str, ...], closed: bool) -> RouteRepairs:
        unknown = [lane for lane in lane_ids if lane not in self._lane_index]
        if unknown:
            raise SimulationError(
                f"unknown lane {unknown[0]!r}", scenario=self.scenario.name, time_s=self.time_s
            )
        was_active = self._closures.active
        try:
            if closed:
                repairs = self._closures.close(lane_ids)
            else:
                self._closures.reopen(lane_ids)
                repairs = RouteRepairs()
            if self._closures.active != was_active:
                self._subscribe_simulation()
        except Exception as exc:
            raise self._wrap(exc, f"cannot {'close' if closed else 'reopen'} {', '.join(lane_ids)}") from exc
        return repairs

    def route_repairs(self) -> RouteRepairs:
        return self._closures.totals

    def set_route_demand(self, edge_id: str, factor: float) -> None:
        problem = route_demand_problem(edge_id, factor, self._edges)
        if problem is not None:
            raise SimulationError(problem, scenario=self.scenario.name, time_s=self.time_s)
        self._route_demand.set(edge_id, factor)
        if not self._departed_ids_on:
            try:
                self._subscribe_simulation()
            except Exception as exc:
                raise self._wrap(exc, f"cannot scale the demand through {edge_id}") from exc

    def clear_route_demand(self, edge_id: str) -> None:
        if edge_id not in self._edges:
            raise SimulationError(
                f"unknown edge {edge_id!r}", scenario=self.scenario.name, time_s=self.time_s
            )
        self._route_demand.clear(edge_id)
        if self._departed_ids_on and not self._vehicles_on and not self._route_demand:
            try:
                self._subscribe_simulation()
            except Exception as exc:
                raise self._wrap(exc, f"cannot restore the demand through {edge_id}") from exc

    def add_stopped_vehicle(self, lane_id: str, position_m: float, duration_s: float) -> str:
        if lane_id not in self._lane_index:
            raise SimulationError(
                f"unknown lane {lane_id!r}", scenario=self.scenario.name, time_s=self.time_s
            )
        length = float(self.geometry.lanes.lengths[self._lane_index[lane_id]])
        try:
            vehicle = add_stopped_vehicle(self.api, lane_id, position_m, duration_s, length, self._step)
        except Exception as exc:
            raise self._wrap(exc, f"cannot block lane {lane_id}") from exc
        self._added.add(vehicle)  # a breakdown on a scaled edge stays (one id per incident)
        return vehicle

    def remove_vehicle(self, vehicle_id: str) -> None:
        try:
            if self._vehicles_on:  # SUMO's next step fails on the subscription of a removed vehicle
                self.api.vehicle.unsubscribe(vehicle_id)
            self.api.vehicle.remove(vehicle_id)
        except Exception as exc:
            raise self._wrap(exc, f"cannot remove vehicle {vehicle_id}") from exc

    def vehicle_state(self) -> tuple[VehicleArrays, tuple[str, ...]]:
        """Every vehicle now, and the vehicle type names ``VehicleArrays.vtype`` indexes.

        With vehicle subscriptions on, from their results. Otherwise read directly: libsumo answers
        each value in well under a microsecond (5,000 vehicles in ~10 ms) and, unlike subscriptions,
        costs nothing on the steps in between. Over TraCI every value is a round trip: keep vehicle
        subscriptions on there.
        """
        if self._vehicles_on:
            try:
                return self._vehicles(), tuple(self._type_index)
            except Exception as exc:
                raise self._wrap(exc, "reading the vehicles failed") from exc
        try:
            vehicle = self.api.vehicle
            ids = tuple(vehicle.getIDList())
            n = len(ids)
            if not n:
                return VehicleArrays(), tuple(self._type_index)
            types, known = self._type_index, self._vehicle_type
            if len(known) > 4 * n + 1000:  # forget the types of vehicles that have left
                known = self._vehicle_type = {v: known[v] for v in ids if v in known}
            for v in ids:
                if v not in known:
                    known[v] = types.setdefault(vehicle.getTypeID(v), len(types))
            xy = np.fromiter(itertools.chain.from_iterable(map(vehicle.getPosition, ids)), np.float32, 2 * n)
            lanes = map(self._lane_lookup.__getitem__, map(vehicle.getLaneID, ids))
            arrays = VehicleArrays(
                ids=ids,
                xy=frozen(xy.reshape(n, 2)),
                angle=frozen(np.fromiter(map(vehicle.getAngle, ids), np.float32, n)),
                speed=frozen(np.fromiter(map(vehicle.getSpeed, ids), np.float32, n)),
                lane=frozen(np.fromiter(lanes, np.int32, n)),
                vtype=frozen(np.fromiter(map(known.__getitem__, ids), np.int32, n)),
                waiting=frozen(np.fromiter(map(vehicle.getWaitingTime, ids), np.float32, n)),
            )
        except Exception as exc:
            raise self._wrap(exc, "reading the vehicles failed") from exc
        return arrays, tuple(types)

    def save_state(self, path: Path) -> None:
        try:
            self.api.simulation.saveState(str(path))
        except Exception as exc:  # libsumo and TraCI raise their own error types
            raise SimulationError(f"{self.scenario.name}: cannot save the state to {path}: {exc}") from exc

    def finish(self) -> TripRecords:
        """Trips from SUMO's tripinfo output plus the vehicles still waiting to be inserted, which
        SUMO does not write there; their wait to depart counts as delay (as in RESCO)."""
        pending: list[tuple[str, float]] = []
        if not self._closed:
            try:
                get_delay = self.api.vehicle.getDepartDelay
                pending = [(v, float(get_delay(v))) for v in self.pending_vehicles()]
            except Exception as exc:
                raise self._wrap(exc, "reading the vehicles waiting to depart failed") from exc
        self.close()
        path = self.options.tripinfo_path
        trips = read_tripinfo(path) if path is not None and path.exists() else TripRecords.empty()
        if self._removed:  # removed by route demand as they departed: not part of the demand
            trips = without_trips(trips, self._removed)
        return with_pending(trips, pending)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):  # already closed after a SUMO error: nothing to release
            self.api.close()


def without_trips(trips: TripRecords, ids: set[str]) -> TripRecords:
    keep = np.fromiter((v not in ids for v in trips.ids), bool, len(trips.ids))
    if keep.all():
        return trips
    return TripRecords(
        tuple(v for v, k in zip(trips.ids, keep, strict=True) if k),
        trips.depart[keep],
        trips.arrival[keep],
        trips.duration[keep],
        trips.time_loss[keep],
        trips.depart_delay[keep],
        trips.waiting_time[keep],
        trips.waiting_count[keep],
        trips.co2_mg[keep],
    )


def with_pending(trips: TripRecords, pending: list[tuple[str, float]]) -> TripRecords:
    if not pending:
        return trips
    n = len(pending)
    minus = np.full(n, -1.0)
    zero = np.zeros(n)
    delay = np.array([d for _, d in pending], dtype=np.float64)
    return TripRecords(
        trips.ids + tuple(v for v, _ in pending),
        np.concatenate([trips.depart, minus]),
        np.concatenate([trips.arrival, minus]),
        np.concatenate([trips.duration, zero]),
        np.concatenate([trips.time_loss, zero]),
        np.concatenate([trips.depart_delay, delay]),
        np.concatenate([trips.waiting_time, zero]),
        np.concatenate([trips.waiting_count, zero]),
        np.concatenate([trips.co2_mg, zero]),
    )


def read_tripinfo(path: Path) -> TripRecords:
    """Per-vehicle records from SUMO's tripinfo output (with write-unfinished)."""
    ids: list[str] = []
    rows: list[tuple[float, ...]] = []
    try:
        for _event, node in ET.iterparse(path):
            if node.tag != "tripinfo":
                continue
            emissions = node.find("emissions")
            co2 = float(emissions.get("CO2_abs", 0.0)) if emissions is not None else 0.0
            arrival = float(node.get("arrival", -1))
            depart = float(node.get("depart", -1))
            ids.append(node.get("id", ""))
            rows.append(
                (
                    depart,
                    arrival,
                    float(node.get("duration", 0)),
                    max(0.0, float(node.get("timeLoss", 0))),
                    max(0.0, float(node.get("departDelay", 0))),
                    float(node.get("waitingTime", 0)),
                    float(node.get("waitingCount", 0)),
                    co2,
                )
            )
            node.clear()
    except ET.ParseError as exc:
        raise SimulationError(f"{path}: cannot read tripinfo output: {exc}") from exc
    if not rows:
        return TripRecords.empty()
    cols = np.array(rows, dtype=np.float64).T
    return TripRecords(tuple(ids), *cols)
