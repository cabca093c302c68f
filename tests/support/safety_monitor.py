"""A checker of signal state streams for unsafe transitions (property and integration tests)."""

from __future__ import annotations

from dataclasses import dataclass, field

from trafficai.core.signals import GREEN_CHARS, YELLOW_CHARS


@dataclass(slots=True)
class SafetyMonitor:
    """Checks a stream of state strings for unsafe transitions, link by link.

    Violations: green straight to red, yellow straight to green, yellow shorter than ``yellow_steps``.
    Used on the state machine (property tests) and on SUMO's own state (integration tests).
    """

    yellow_steps: int
    last: str = ""
    yellow_run: list[int] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    step: int = 0

    def observe(self, state: str) -> None:
        if not self.last:
            self.last = state
            self.yellow_run = [1 if c in YELLOW_CHARS else 0 for c in state]
            return
        self.step += 1
        for k, (c, n) in enumerate(zip(self.last, state, strict=True)):
            if c in GREEN_CHARS and n not in GREEN_CHARS and n not in YELLOW_CHARS:
                self.violations.append(f"step {self.step} link {k}: {c}->{n} without yellow")
            if c in YELLOW_CHARS and n in GREEN_CHARS:
                self.violations.append(f"step {self.step} link {k}: yellow->green")
            if c in YELLOW_CHARS and n not in YELLOW_CHARS and self.yellow_run[k] < self.yellow_steps:
                self.violations.append(
                    f"step {self.step} link {k}: yellow {self.yellow_run[k]} < {self.yellow_steps} steps"
                )
            self.yellow_run[k] = self.yellow_run[k] + 1 if n in YELLOW_CHARS else 0
        self.last = state
