"""The episode engine under every RL environment: one SUMO run, agent signals behind the safety layer.

:class:`ControlledEpisodes` owns one simulation at a time (libsumo allows one per process; a new
episode closes the old one and starts SUMO again). The chosen signals are taken under control of
the :class:`~trafficai.control.safety.SafetyLayer` through a
:class:`~trafficai.control.loop.ControlLoop`; every other signal keeps running its own program.
An agent only ever *requests* a green stage: yellow, all-red, min and max green are the safety
layer's, so no action sequence can produce an unsafe transition.

State is read only at decisions (every ``delta_time_s``), and only what the observations and the
reward need (:mod:`trafficai.sim.partial_read`), never vehicles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from trafficai.control.loop import ControlLoop
from trafficai.control.rl import rewards
from trafficai.control.rl.config import EnvConfig
from trafficai.control.rl.observations import (
    PhaseState,
    SignalTopology,
    build_topology,
    feature_slices,
    observation_size,
    observe,
    read_spec,
)
from trafficai.control.run import SimulationRun, open_simulation
from trafficai.core.scenario import Scenario, resolve_scenario
from trafficai.core.signals import green_stages, steps_for
from trafficai.core.snapshot import Snapshot
from trafficai.errors import ScenarioError
from trafficai.sim.backend import SimBackend
from trafficai.sim.backlog import BacklogReader
from trafficai.sim.partial_read import PartialReader
from trafficai.sim.sumo_command import SumoOptions

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]
PREROLL_LIMIT_S = 300.0  # at most this long waiting for SUMO to show a green at every agent signal
SEED_MODULUS = 2**31 - 1


@dataclass(frozen=True, slots=True)
class StepResult:
    observations: F32  # (N, D)
    rewards: F64  # (N,)
    done: bool  # the episode's simulated time is over (a truncation, not a terminal state)
    time_s: float


def controllable_signals(backend: SimBackend) -> tuple[str, ...]:
    return tuple(s.id for s in backend.geometry.signals if len(green_stages(s.program)) > 1)


def select_signals(
    scenario: Scenario, backend: SimBackend, wanted: tuple[str, ...], first_only: bool = False
) -> tuple[str, ...]:
    """The signals an agent will drive; clear errors for none, unknown or uncontrollable ones."""
    controllable = controllable_signals(backend)
    all_ids = tuple(s.id for s in backend.geometry.signals)
    if not controllable:
        what = "no traffic lights" if not all_ids else "no signal with two or more green stages"
        raise ScenarioError(
            f"{scenario.source}: no controllable signals ({what}): nothing for an agent to control"
        )
    if wanted:
        unknown = [s for s in wanted if s not in all_ids]
        if unknown:
            raise ScenarioError(
                f"{scenario.name}: unknown signal(s) {', '.join(unknown)} (signals: {', '.join(all_ids[:12])}"
                f"{' ...' if len(all_ids) > 12 else ''})"
            )
        fixed = [s for s in wanted if s not in controllable]
        if fixed:
            raise ScenarioError(
                f"{scenario.name}: signal(s) {', '.join(fixed)} have fewer than two green stages"
            )
        chosen = tuple(dict.fromkeys(wanted))
    else:
        chosen = controllable
    return chosen[:1] if first_only else chosen


class ControlledEpisodes:
    """Episodes of one scenario with ``config.signals`` (default: all controllable) under agent control."""

    def __init__(
        self,
        config: EnvConfig,
        *,
        scenario: Scenario | None = None,
        first_only: bool = False,
        on_sim_step: Callable[[ControlledEpisodes], None] | None = None,
    ) -> None:
        self.config = config
        self.scenario = scenario or resolve_scenario(config.scenario)
        self.on_sim_step = on_sim_step
        self._sim: SimulationRun | None = None
        self._backend: SimBackend | None = None
        self._loop: ControlLoop | None = None  # the running simulation's loop, once reset
        self._reader: PartialReader | None = None
        self._backlog: BacklogReader | None = None
        self._measure: F64 | None = None
        self._fresh_seed: int | None = None  # seed of an opened, not yet used simulation
        self.next_seed = config.seed
        self.episode = 0
        self.decisions = 0
        self.last_observations: F32 | None = None
        backend = self._open(config.seed)
        try:
            self.signal_ids = select_signals(self.scenario, backend, config.signals, first_only)
            self.topology: SignalTopology = build_topology(
                backend.geometry,
                self.signal_ids,
                config.observation.vehicle_space_m,
                config.pad_lanes,
                config.pad_phases,
            )
        except BaseException:
            self.close()  # never leave a simulation open behind an error
            raise
        self.spec = read_spec(self.topology, config.observation, config.reward.kind)
        self.observation_size = observation_size(self.topology, config.observation)
        self.n_actions = self.topology.max_phases
        self._n_greens: list[int] = self.topology.n_greens.tolist()  # plain ints: compared per action
        self._delta_steps = max(1, steps_for(config.delta_time_s, backend.step_length_s))
        # approach edge -> the signal it leads to, for the insertion backlog of ``total-delay``
        lane_edges = backend.geometry.lanes.edges
        index_of = {lane: i for i, lane in enumerate(backend.geometry.lanes.ids)}
        self._approach_edge = {
            lane_edges[index_of[lane]]: s for s, lanes in enumerate(self.topology.lane_ids) for lane in lanes
        }

    # -- spaces -------------------------------------------------------------------------------

    def observation_bounds(self) -> tuple[F32, F32]:
        low = np.zeros(self.observation_size, np.float32)
        high = np.ones(self.observation_size, np.float32)
        slices = feature_slices(self.topology, self.config.observation)
        if "phase_pressure" in slices:
            low[slices["phase_pressure"]] = -1.0
        return low, high

    # -- simulation life cycle ----------------------------------------------------------------

    def _open(self, seed: int) -> SimBackend:
        self.close()
        scenario = self.scenario
        end = scenario.begin_s + self.config.episode_s if self.config.episode_s is not None else None
        if end is not None and end > scenario.end_s:
            end = scenario.end_s
        options = SumoOptions(
            seed=int(seed) % SEED_MODULUS,
            end_s=end,
            time_to_teleport=self.config.time_to_teleport,
            demand_scale=self.config.demand_scale,
            warnings=False,
        )
        self._sim = open_simulation(
            scenario, options, self.config.safety, self.config.delta_time_s, use_deadline=False
        )
        self._backend = self._sim.backend
        self._fresh_seed = int(seed)
        return self._backend

    @property
    def backend(self) -> SimBackend:
        if self._backend is None:
            raise ScenarioError("no simulation is running: call reset() first")
        return self._backend

    @property
    def loop(self) -> ControlLoop:
        if self._loop is None:
            raise ScenarioError("no simulation is running: call reset() first")
        return self._loop

    def close(self) -> None:
        if self._sim is not None:
            self._sim.close()
        self._sim = None
        self._backend = None
        self._loop = None
        self._reader = None
        self._backlog = None
        self._fresh_seed = None

    # -- episodes -----------------------------------------------------------------------------

    def reset(self, seed: int | None = None) -> F32:
        """Start an episode (SUMO seed ``seed``, or the next of the sequence) and observe it."""
        seed = self.next_seed if seed is None else int(seed)
        self.next_seed = seed + 1
        backend = (
            self._backend if self._fresh_seed == seed and self._backend is not None else self._open(seed)
        )
        assert self._sim is not None
        self._fresh_seed = None
        self.episode += 1
        self.decisions = 0
        loop = self._sim.loop  # never stepped yet: the simulation was just opened
        loop.safety.take_control(self.signal_ids)
        self._loop = loop
        limit = min(steps_for(PREROLL_LIMIT_S, backend.step_length_s), backend.end_step - 1)
        while backend.step < limit and not all(loop.safety.is_controlled(s) for s in self.signal_ids):
            self._advance()
        self._reader = PartialReader(backend, self.spec)
        if self.config.reward.kind == "total-delay":
            self._backlog = BacklogReader(backend, self._approach_edge, self.topology.n_signals)
        snapshot = self._reader.read()
        _, self._measure = rewards.compute(
            self.config.reward, self.topology, snapshot, None, self._read_backlog()
        )
        return self._observe(snapshot)

    def _read_backlog(self) -> NDArray[np.int32] | None:
        return self._backlog.read() if self._backlog is not None else None

    def _advance(self) -> None:
        self.loop.step()
        if self.on_sim_step is not None:
            self.on_sim_step(self)

    def phase_state(self) -> PhaseState:
        return PhaseState.from_rows(*self.loop.safety.phase_rows(self.signal_ids))

    def _observe(self, snapshot: Snapshot) -> F32:
        self.last_observations = observe(self.topology, self.config.observation, snapshot, self.phase_state())
        return self.last_observations

    def apply(self, actions: NDArray[np.integer] | list[int]) -> None:
        """Request a green stage per signal; an index past a signal's stages keeps its current green."""
        safety = self.loop.safety
        for i, (signal_id, n_greens) in enumerate(zip(self.signal_ids, self._n_greens, strict=True)):
            action = int(actions[i])
            if 0 <= action < n_greens:
                safety.request(signal_id, action)
            else:
                status = safety.status(signal_id)
                if status.controlled:
                    safety.request(signal_id, status.current_green)

    def step(self, actions: NDArray[np.integer] | list[int]) -> StepResult:
        backend = self.backend
        if self._reader is None:
            raise ScenarioError("the episode is over: call reset()")
        self.apply(actions)
        steps = min(self._delta_steps, backend.end_step - backend.step)
        if self.on_sim_step is None:
            self.loop.advance(steps)
        else:
            for _ in range(steps):
                self._advance()
        snapshot = self._reader.read()
        reward, self._measure = rewards.compute(
            self.config.reward, self.topology, snapshot, self._measure, self._read_backlog()
        )
        observations = self._observe(snapshot)
        self.decisions += 1
        return StepResult(observations, reward, backend.step >= backend.end_step, backend.time_s)

    def action_mask(self) -> NDArray[np.bool_]:
        return self.topology.action_mask() > 0
