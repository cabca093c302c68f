"""Turning SUMO's console messages into one-line errors and warning lists."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SumoMessage:
    """One message SUMO logged mid-run."""

    severity: str  # "alarm" for SUMO errors, "warning" otherwise
    text: str  # without the "Warning: "/"Error: " prefix


def one_line(text: str) -> str:
    """SUMO messages span lines ("Error: ...\\n In file ...\\n At line ..."); users get one."""
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


@contextmanager
def captured_stderr() -> Iterator[list[str]]:
    """Capture what SUMO's C++ code prints to file descriptor 2 while loading.

    libsumo prints load errors itself before raising a bare "Process Error"; capturing them lets
    the user see one clear line (and lets warnings become events) instead of console noise.
    """
    lines: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield lines
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            lines.extend(tmp.read().decode("utf-8", "replace").splitlines())


def first_error(lines: list[str]) -> str:
    """The first SUMO error with its location lines folded in."""
    for i, line in enumerate(lines):
        if line.startswith("Error:"):
            detail = [line.removeprefix("Error:").strip()]
            detail += [ln.strip() for ln in lines[i + 1 : i + 3] if ln.startswith(" ")]
            return " ".join(detail)
    return ""


def warnings_of(lines: list[str]) -> list[str]:
    return [line.removeprefix("Warning:").strip() for line in lines if line.startswith("Warning:")]
