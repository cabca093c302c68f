"""Faults injected into the live run from the GUI (``InjectFault``, ``ClearFault``).

A fault injected here is what a ``--fault`` is (a :class:`~trafficai.config.FaultSection`, its times
counted from the scenario's begin): it joins the run's fault list at the end, so every fault keeps
its position and with it its seed and onset; the loops' readings in every snapshot carry it
(``sensors/faults.LoopFaults``), the device messages too for a transport fault
(``iot/message_faults.MessageFaults``); the run store records the whole list in the run's config
before the fault acts (the ground truth, :meth:`RunStore.set_run_faults`); the handler audits it
and says it in an event. Clearing ends a fault now: its duration becomes the time it acted, so the
record says when the data was false. A fault that has not started yet cannot be cleared (its
position would go, and with it the seeds of the ones after it): it is refused with its start time.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pydantic import ValidationError

from trafficai.config import TRANSPORT_FAULT_KINDS, FaultSection, format_validation_error
from trafficai.errors import ConfigError, StoreError, TrafficAIError
from trafficai.iot.message_faults import MessageFaults
from trafficai.runtime.commands import ClearFault, InjectFault
from trafficai.runtime.messages import FaultView, InjectedFaults
from trafficai.runtime.resume import clock
from trafficai.sensors.camera_faults import FaultyCameraSource
from trafficai.sensors.faults import LoopFaults, check_devices, fault_plan

if TYPE_CHECKING:
    from trafficai.runtime.lifecycle import RunLifecycle


class LiveFaults:
    """The injected faults of one live simulation (the worker makes one per simulation)."""

    def __init__(self, life: RunLifecycle) -> None:
        self.life = life
        self.users: dict[int, str] = {}  # position -> who injected it from the GUI

    @property
    def plan(self) -> LoopFaults:
        plan = fault_plan(self.life.backend)
        if plan is None:
            raise TrafficAIError("this simulation was opened without fault injection")
        return plan

    def elapsed_s(self) -> float:
        """Simulated seconds since the scenario's begin: the clock fault times are counted on."""
        return self.life.backend.time_s - self.plan.begin_s

    def inject(self, command: InjectFault) -> FaultSection:
        """Add the fault the command describes (ConfigError/TrafficAIError: one line, nothing added)."""
        fault = self._fault_of(command)
        cameras = self.life.camera_ids()
        check_devices([fault], self.life.backend.geometry, self.life.scenario.name, cameras)
        if (fault.kind in TRANSPORT_FAULT_KINDS or fault.device in cameras) and self.life.devices is None:
            raise TrafficAIError(
                f"{fault.kind} acts on device messages, and this run has no device network "
                "(it is not recorded)"
            )
        faults = (*self.plan.faults, fault)
        self._set(faults)
        self.users[len(faults) - 1] = command.user
        return fault

    def clear(self, command: ClearFault) -> FaultSection:
        """End fault ``command.index`` now; the fault as recorded (its duration: the time it acted)."""
        faults = self.plan.faults
        if not 0 <= command.index < len(faults) or faults[command.index].device != command.device:
            raise TrafficAIError(f"there is no injected fault {command.index} on {command.device}")
        fault, now = faults[command.index], self.elapsed_s()
        start_s = self.plan.begin_s + fault.at
        if now <= fault.at:
            raise TrafficAIError(
                f"fault {fault.kind} on {fault.device} starts at {clock(start_s)}: "
                "it can be cleared once it acts"
            )
        if fault.duration is not None and now >= fault.at + fault.duration:
            raise TrafficAIError(f"fault {fault.kind} on {fault.device} has ended already")
        ended = fault.model_copy(update={"duration": now - fault.at})
        self._set((*faults[: command.index], ended, *faults[command.index + 1 :]))
        return ended

    def view(self, generation: int) -> InjectedFaults:
        """Every fault of the run so far, in simulation seconds (none once the simulation is closed)."""
        plan = fault_plan(self.life.backend) if self.life.sim is not None else None
        if plan is None:
            return InjectedFaults(generation, ())
        begin = plan.begin_s
        views = tuple(
            FaultView(
                n,
                f.device,
                f.kind,
                begin + f.at,
                begin + f.at + f.duration if f.duration is not None else None,
                f.param,
                self.users.get(n, ""),
            )
            for n, f in enumerate(plan.faults)
        )
        return InjectedFaults(generation, views)

    def _fault_of(self, command: InjectFault) -> FaultSection:
        what = f"fault {command.kind} on {command.device}"
        if not (math.isfinite(command.delay_s) and command.delay_s >= 0):
            raise ConfigError(f"{what}: the start must be now or later, got {command.delay_s:g} s from now")
        for name, value in (("duration", command.duration_s), ("parameter", command.param)):
            if value is not None and not math.isfinite(value):
                raise ConfigError(f"{what}: the {name} must be a number, got {value}")
        try:
            return FaultSection(
                device=command.device,
                kind=command.kind,
                at=round(self.elapsed_s() + command.delay_s, 6),
                duration=command.duration_s,
                param=command.param,
            )
        except ValidationError as exc:
            raise ConfigError(format_validation_error(exc, what)) from exc

    def _set(self, faults: tuple[FaultSection, ...]) -> None:
        """Record the run's faults, then make them act (unrecorded ground truth would be lost)."""
        life = self.life
        if life.store is not None and life.run_id:
            try:
                life.store.set_run_faults(life.run_id, [f.model_dump(mode="json") for f in faults])
            except StoreError as exc:
                raise TrafficAIError(f"not injected: the run store cannot record it: {exc}") from exc
        self.plan.update(faults)
        if life.health is not None:
            life.health.update_faults(faults)  # camera faults act on the count-bias test's camera counts
        devices = life.devices
        if devices is None:
            return
        if devices.cameras is not None and isinstance(devices.cameras.source, FaultyCameraSource):
            devices.cameras.source.update(faults)  # camera faults act on the camera's bins
        transport = tuple(f for f in faults if f.kind in TRANSPORT_FAULT_KINDS)
        if devices.faults is not None:
            devices.faults.faults = transport
        elif transport:
            devices.faults = MessageFaults(transport, life.config.sim.seed, life.scenario.begin_s)
