"""How the live worker takes its commands: from the inbox, through the role check, to the one
handler of each command type (:mod:`trafficai.runtime.handlers`); a refusal is an event and a
``Refused`` message, and every operator action lands in the audit trail."""

from __future__ import annotations

import logging
import queue
from typing import TYPE_CHECKING, Any

from trafficai.errors import TrafficAIError
from trafficai.runtime.authorization import authorize
from trafficai.runtime.commands import Command, describe
from trafficai.runtime.handlers import handler_for
from trafficai.runtime.messages import Refused

if TYPE_CHECKING:
    from trafficai.runtime.sim_worker import SimWorker

logger = logging.getLogger("trafficai.runtime.sim_worker")


def take_commands(worker: SimWorker, inbox: Any, wait: float) -> None:
    """Apply the commands waiting in ``inbox`` (blocking up to ``wait`` s for the first)."""
    try:
        command = inbox.get(timeout=wait) if wait > 0 else inbox.get_nowait()
    except queue.Empty:
        return
    except (EOFError, OSError):  # the client is gone
        worker.stopping = True
        return
    while True:
        apply_command(worker, command)
        if worker.stopping:
            return
        try:
            command = inbox.get_nowait()
        except queue.Empty:
            return
        except (EOFError, OSError):
            worker.stopping = True
            return


def apply_command(worker: SimWorker, command: Command) -> None:
    """Run the command's handler; a refusal (or a bug in one handler) is reported, never fatal."""
    try:
        authorize(command, worker.config.user)  # the role check that counts: here, not in the GUI
    except TrafficAIError as exc:
        refuse(worker, command, str(exc))
        worker.audit.command(command, worker.config.user, f"denied: {exc}", worker.time_s(), denied=True)
        worker.flush()
        return
    outcome = "applied"
    try:
        handler_for(command)(worker, command)
    except TrafficAIError as exc:
        outcome = f"refused: {exc}"
        refuse(worker, command, str(exc))
    except Exception as exc:  # a bug in handling one command must not end the simulation
        logger.exception("handling %s failed", describe(command))
        outcome = f"failed: {type(exc).__name__}: {exc}"
        refuse(worker, command, f"{type(exc).__name__}: {exc}")
    worker.audit.command(command, worker.config.user, outcome, worker.time_s())
    worker.flush()


def refuse(worker: SimWorker, command: Command, message: str) -> None:
    user = getattr(command, "user", "")
    worker.event(
        "warning",
        "refused",
        f"{describe(command)} refused: {message}",
        getattr(command, "signal_id", ""),
        user,
    )
    worker.flush()  # the refusal's event first, so a client that sees Refused has the event too
    worker.publish(Refused(describe(command), message))
