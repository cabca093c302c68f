"""Trained models on disk: an SB3 zip with trafficai's metadata inside, and a JSON copy beside it.

The metadata (:class:`ModelMeta`) holds the resolved environment and training config, the
observation / action sizes and a signature of every signal the policy was trained on (id, green
stages, approach lanes). A model is used only on a network whose controlled signals match that
signature; otherwise it is refused with a message saying what differs.
"""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from trafficai.config import Frozen
from trafficai.control.rl.config import Algo, EnvConfig
from trafficai.control.rl.observations import SignalTopology
from trafficai.errors import ModelError

FORMAT = "trafficai-rl/1"
META_MEMBER = "trafficai.json"


class SignalSignature(Frozen):
    id: str
    greens: tuple[str, ...]
    lanes: tuple[str, ...]


class ModelMeta(Frozen):
    format: str = FORMAT
    algo: Algo
    scenario: str
    scenario_source: str = ""
    env: EnvConfig
    obs_size: int
    n_actions: int
    max_lanes: int
    max_phases: int
    signals: tuple[SignalSignature, ...]
    timesteps: int = 0
    train: dict[str, Any] = {}  # noqa: RUF012 - pydantic copies defaults
    wall_s: float = 0.0
    created: str = ""
    trafficai_version: str = ""


def signatures(topology: SignalTopology) -> tuple[SignalSignature, ...]:
    return tuple(
        SignalSignature(id=s, greens=g, lanes=lanes)
        for s, g, lanes in zip(topology.signal_ids, topology.greens, topology.lane_ids, strict=True)
    )


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def sidecar_path(path: Path) -> Path:
    return path.with_suffix(".json")


def write_meta(path: Path, meta: ModelMeta) -> None:
    """Add the metadata to a saved SB3 zip and write the JSON copy beside it."""
    text = meta.model_dump_json(indent=2)
    with zipfile.ZipFile(path, "a") as archive:
        if META_MEMBER in archive.namelist():  # pragma: no cover - SB3 never writes it
            raise ModelError(f"{path}: already holds trafficai metadata")
        archive.writestr(META_MEMBER, text)
    sidecar_path(path).write_text(text + "\n", encoding="utf-8")


def save_model(model: Any, path: Path, meta: ModelMeta) -> Path:
    """``model.save`` + metadata. ``path`` should end in ``.zip``."""
    path = path if path.suffix == ".zip" else path.with_name(path.name + ".zip")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".partial.zip")
    model.save(tmp)
    write_meta(tmp, meta)
    tmp.replace(path)
    sidecar_path(tmp).replace(sidecar_path(path))
    return path


def read_meta(path: Path) -> ModelMeta:
    path = Path(path).expanduser()
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    try:
        with zipfile.ZipFile(path) as archive:
            if META_MEMBER not in archive.namelist():
                raise ModelError(
                    f"{path}: not a trafficai model (no {META_MEMBER} inside; train it with trafficai train)"
                )
            data = json.loads(archive.read(META_MEMBER))
    except zipfile.BadZipFile as exc:
        raise ModelError(f"{path}: not a model file (not a zip archive)") from exc
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path}: metadata is not valid JSON: {exc}") from exc
    if data.get("format") != FORMAT:
        raise ModelError(f"{path}: model format {data.get('format')!r} is not {FORMAT!r}")
    try:
        return ModelMeta.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ModelError(f"{path}: invalid metadata: field '{where}': {first['msg']}") from exc


def algorithm_class(algo: str) -> Any:
    from stable_baselines3 import A2C, DQN, PPO

    classes: dict[str, Any] = {"ppo": PPO, "dqn": DQN, "a2c": A2C}
    try:
        return classes[algo]
    except KeyError:
        raise ModelError(f"unknown algorithm {algo!r} (ppo, dqn, a2c)") from None


def load_algorithm(path: Path, meta: ModelMeta, env: Any = None) -> Any:
    """The SB3 model, on the CPU (``env`` given: ready to continue training)."""
    cls = algorithm_class(meta.algo)
    try:
        return cls.load(str(path), env=env, device="cpu")
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"{path}: cannot load the {meta.algo.upper()} model: {exc}") from exc


def differences(meta: ModelMeta, topology: SignalTopology, obs_size: int) -> list[str]:
    """What keeps ``meta``'s policy from driving the signals of ``topology`` (empty: compatible)."""
    diffs: list[str] = []
    known = {s.id: s for s in meta.signals}
    missing = [s for s in topology.signal_ids if s not in known]
    if missing:
        shown = ", ".join(missing[:6]) + (" ..." if len(missing) > 6 else "")
        diffs.append(
            f"{len(missing)} of the {topology.n_signals} signal(s) to control are not in the model ({shown})"
        )
    for signature in signatures(topology):
        trained = known.get(signature.id)
        if trained is None:
            continue
        if trained.greens != signature.greens:
            same_count = len(trained.greens) == len(signature.greens)
            diffs.append(
                f"signal {signature.id}: {len(signature.greens)} green stage(s) here, "
                f"{len(trained.greens)} in the model{' (different states)' if same_count else ''}"
            )
        elif trained.lanes != signature.lanes:
            diffs.append(
                f"signal {signature.id}: approach lanes differ "
                f"({len(signature.lanes)} here, {len(trained.lanes)} in the model)"
            )
        if len(diffs) >= 8:
            break
    if obs_size != meta.obs_size or topology.max_phases != meta.n_actions:
        diffs.append(
            f"observation/action size {obs_size}/{topology.max_phases} here, "
            f"{meta.obs_size}/{meta.n_actions} in the model"
        )
    return diffs


def check_compatible(meta: ModelMeta, topology: SignalTopology, obs_size: int, where: str) -> None:
    diffs = differences(meta, topology, obs_size)
    if diffs:
        raise ModelError(
            f"model trained on scenario '{meta.scenario}' ({len(meta.signals)} signal(s), observation "
            f"{meta.obs_size}, {meta.n_actions} actions) does not fit {where}: " + "; ".join(diffs)
        )
