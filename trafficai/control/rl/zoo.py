"""The policy zoo: one trained model per shipped scenario under ``assets/models/<scenario>/``.

Each folder holds ``policy.zip`` (with its metadata inside), ``policy.json`` (the same metadata,
readable) and ``MODEL_CARD.md``. ``$TRAFFICAI_MODELS`` points elsewhere. A network picks its zoo
policy by signature (same controlled signals, stages and approach lanes), not by name, so a
``.sumocfg`` over a shipped network with other demand finds it too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from trafficai.control.rl.model import ModelMeta, read_meta
from trafficai.errors import ModelError

POLICY_FILE = "policy.zip"
ZOO_DECISION_INTERVAL_S = 5.0  # every zoo policy decides every 5 s (the registry needs it up front)


def models_root() -> Path:
    env = os.environ.get("TRAFFICAI_MODELS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "assets" / "models"


@dataclass(frozen=True, slots=True)
class ZooEntry:
    name: str
    path: Path
    meta: ModelMeta


def zoo_entries() -> list[ZooEntry]:
    root = models_root()
    if not root.is_dir():
        return []
    entries = []
    for folder in sorted(p for p in root.iterdir() if (p / POLICY_FILE).is_file()):
        try:
            entries.append(ZooEntry(folder.name, folder / POLICY_FILE, read_meta(folder / POLICY_FILE)))
        except ModelError:
            continue  # a broken zoo entry must not hide the others; evaluate/run report it by path
    return entries


def find_for_signals(signatures: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]) -> ZooEntry:
    """The zoo entry trained on exactly these signals: id -> (green stages, approach lanes)."""
    entries = zoo_entries()
    for entry in entries:
        trained = {s.id: (s.greens, s.lanes) for s in entry.meta.signals}
        if all(trained.get(sid) == sig for sid, sig in signatures.items()):
            return entry
    known = ", ".join(e.name for e in entries) or "none"
    raise ModelError(
        f"no zoo policy was trained on this network's signals (zoo: {known}); "
        "train one with trafficai train, or give a model with --model"
    )
