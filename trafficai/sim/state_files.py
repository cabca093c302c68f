"""SUMO's saved states (``--save-state.period``): finding the newest one that is complete.

SUMO writes ``<prefix>_<time>.xml.gz`` every period and keeps the last few; a state cut short (SUMO
died while writing it) fails to decompress and is skipped. A run resumes from one with
``--load-state`` and ``--begin <time>``, on the same input files (SUMO skips the vehicles of the
route files that the state already holds).
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path

SUFFIX = ".xml.gz"


@dataclass(frozen=True, slots=True)
class SavedState:
    path: Path
    time_s: float  # the simulation time the state was saved at


def saved_states(prefix: Path) -> list[SavedState]:
    """The states written under ``prefix``, newest first."""
    found: list[SavedState] = []
    if not prefix.parent.is_dir():
        return found
    for path in prefix.parent.glob(f"{prefix.name}_*{SUFFIX}"):
        stamp = path.name[len(prefix.name) + 1 : -len(SUFFIX)]
        try:
            found.append(SavedState(path, float(stamp)))
        except ValueError:
            continue
    return sorted(found, key=lambda s: s.time_s, reverse=True)


def is_complete(path: Path) -> bool:
    """Whether the gzip stream decompresses to its end and holds a closed XML document."""
    try:
        with gzip.open(path, "rb") as fh:
            tail = b""
            while chunk := fh.read(1 << 16):
                tail = (tail + chunk)[-64:]
    except (OSError, EOFError, zlib.error):
        return False
    return tail.rstrip().endswith(b">")


def latest_state(prefix: Path) -> SavedState | None:
    """The newest complete state under ``prefix``; None when there is none."""
    return next((s for s in saved_states(prefix) if is_complete(s.path)), None)
