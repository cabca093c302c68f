"""Shared fixtures of the runtime tests: a worker process under test, the test networks."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from trafficai.runtime.messages import Message, SimFrame
from trafficai.runtime.worker_config import WorkerConfig
from trafficai.runtime.worker_process import WorkerHandle

DATA = Path(__file__).parent.parent / "data"
TINY = str(DATA / "tiny" / "scenario.toml")
BROKEN = str(DATA / "odd" / "broken" / "broken.sumocfg")


class Worker:
    """A worker process under test, with every message it sent kept in order."""

    def __init__(self, config: WorkerConfig) -> None:
        self.handle = WorkerHandle(config)
        self.messages: list[Message] = []
        self.handle.start()

    def pump(self) -> None:
        for message in self.handle.poll():
            self.messages.append(message)
            if isinstance(message, SimFrame):
                self.handle.ack(message.seq)

    def of(self, kind: type) -> list:  # type: ignore[type-arg]
        return [m for m in self.messages if isinstance(m, kind)]

    def wait(self, predicate: Callable[[], bool], timeout_s: float = 30.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or predicate}")
            self.pump()
            time.sleep(0.005)


@pytest.fixture
def worker_factory() -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(**kwargs: object) -> Worker:
        options: dict[str, object] = {"scenario": TINY, "speed": None, "playing": False}
        options.update(kwargs)
        worker = Worker(WorkerConfig.for_scenario(**options))  # type: ignore[arg-type]
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.handle.shutdown(3.0)
