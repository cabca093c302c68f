"""The one validated config tree: frozen pydantic models with ``extra="forbid"``.

Sources, lowest priority first: scenario.toml, the user config file (``$TRAFFICAI_CONFIG`` or
``<user config dir>/config.toml``), ``TRAFFICAI_*`` environment variables, then CLI flags; one
resolver (:func:`resolve_config`) layers them for any section (``run``, ``train``, ...).
The resolved tree is saved with every run and every trained model.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

from platformdirs import user_config_dir
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from trafficai.errors import ConfigError

ModelT = TypeVar("ModelT", bound=BaseModel)


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CameraSection(Frozen):
    """A ``[[cameras]]`` entry; ``trafficai.sensors.cameras.CameraSpec`` explains the pose."""

    id: str
    junction: str = ""
    x: float
    y: float
    height: float = Field(8.0, gt=0)
    heading: float = 0.0
    tilt: float = Field(20.0, gt=-90, lt=90)
    fov: float = Field(70.0, gt=0, lt=180)
    image_width: int = Field(1280, gt=0)
    image_height: int = Field(720, gt=0)
    frame_rate: float = Field(25.0, gt=0)
    range_m: float = Field(60.0, gt=0)


INCIDENT_KINDS = ("close-lane", "close-edge", "block-lane")


class IncidentSection(Frozen):
    """A scripted incident (``[[incidents]]`` in a manifest, ``--incident`` on the command line):
    ``kind`` on ``target`` (a lane, or an edge for ``close-edge``) from ``at`` simulated seconds
    after the scenario's begin, for ``duration`` seconds (none: to the end of the run).
    ``position`` (block-lane): metres from the lane's start (none: its middle)."""

    kind: Literal["close-lane", "close-edge", "block-lane"]
    target: str = Field(min_length=1)
    at: float = Field(0.0, ge=0)
    duration: float | None = Field(None, gt=0)
    position: float | None = Field(None, ge=0)
    reason: str = ""

    def describe(self) -> str:
        """The command-line form, ``close-lane:LANE@T[+DURATION]``."""
        until = f"+{self.duration:g}" if self.duration is not None else ""
        return f"{self.kind}:{self.target}@{self.at:g}{until}"


def _clock_seconds(text: str, what: str) -> float:
    """``90``, ``90.5``, ``1:30`` (m:s) or ``1:00:00`` (h:m:s) -> seconds."""
    try:
        total = 0.0
        for part in text.split(":"):
            total = total * 60 + float(part)
    except ValueError:
        raise ConfigError(f"{what}: not a time: {text!r} (seconds, M:SS or H:MM:SS)") from None
    if not math.isfinite(total) or total < 0:
        raise ConfigError(f"{what}: not a time: {text!r}")
    return total


def parse_incident(spec: str) -> IncidentSection:
    """``KIND:TARGET@T[+DURATION]`` (T and DURATION in seconds, M:SS or H:MM:SS), e.g.
    ``close-lane:177_0@600+900``, ``close-edge:A2B2@0:10:00``, ``block-lane:E_in_0@120+300``."""
    what = f"--incident {spec!r}"
    kind, sep, rest = spec.strip().partition(":")
    if not sep or kind not in INCIDENT_KINDS:
        raise ConfigError(
            f"{what}: expected KIND:TARGET@T[+DURATION], KIND one of {', '.join(INCIDENT_KINDS)}"
        )
    target, sep, when = rest.rpartition("@")
    if not sep or not target or not when:
        raise ConfigError(f"{what}: expected KIND:TARGET@T[+DURATION] (the time is missing)")
    at_text, plus, duration_text = when.partition("+")
    at = _clock_seconds(at_text, what)
    duration = _clock_seconds(duration_text, what) if plus else None
    try:
        return IncidentSection(kind=kind, target=target, at=at, duration=duration)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, what)) from exc


class ScenarioSection(Frozen):
    name: str
    description: str = ""
    net: str
    routes: tuple[str, ...] = ()
    additional: tuple[str, ...] = ()
    begin: float = 0.0
    duration: float = Field(3600.0, gt=0)
    step_length: float = Field(1.0, gt=0, le=10)
    default_controller: str = "fixed"


class ScenarioManifest(Frozen):
    scenario: ScenarioSection
    cameras: tuple[CameraSection, ...] = ()
    incidents: tuple[IncidentSection, ...] = ()
    faults: tuple[FaultSection, ...] = ()
    health: HealthSection | None = None


class SafetyConfig(Frozen):
    min_green_s: float = Field(5.0, ge=0)
    max_green_s: float | None = Field(90.0, gt=0)
    yellow_s: float | None = Field(None, gt=0)
    all_red_s: float | None = Field(None, ge=0)
    controller_deadline_s: float = Field(2.0, gt=0)

    @model_validator(mode="after")
    def _max_above_min(self) -> SafetyConfig:
        if self.max_green_s is not None and self.max_green_s < self.min_green_s:
            raise ValueError("max_green_s must be >= min_green_s")
        return self


class SimConfig(Frozen):
    backend: Literal["libsumo", "traci"] = "libsumo"
    seed: int = 42
    step_length: float | None = Field(None, gt=0, le=10)  # None: the scenario's own
    time_to_teleport: float = 300.0
    sumo_gui: bool = False  # traci backend only: attach sumo-gui
    demand_scale: float = Field(1.0, gt=0, le=20)


class ObserveSection(Frozen):
    """What controllers observe (``--observe``): the simulator's lane state (``oracle``), the
    scenario's detectors (``loops``) or cameras through the perception pipeline (``cameras``,
    ``trafficai.sensors.observation``); the ``camera_*`` keys are the camera pipeline's settings, for
    these cameras and the ``vision`` camera devices (``[iot] cameras``) alike."""

    source: Literal["oracle", "loops", "cameras"] = "oracle"
    camera_runtime: Literal["truth", "openvino", "onnx", "torch"] = "truth"
    camera_fps: float = Field(5.0, gt=0, le=30)
    camera_drop_rate: float = Field(0.0, ge=0, lt=1)  # share of frames lost, seeded per camera
    camera_offline: tuple[str, ...] = ()  # camera ids down from the start
    camera_offline_first: int = Field(0, ge=0)  # also the first N control cameras (id order) down
    camera_light: Literal["day", "dusk", "night"] = "day"
    camera_fallback: Literal["loops", "none"] = "loops"  # lanes no online camera sees: loops or empty
    camera_weights: str = ""  # detector weights; empty: the shipped model


class RunConfig(Frozen):
    scenario: str
    controller: str = ""  # empty: the scenario's default
    end_s: float | None = Field(None, gt=0)  # simulated seconds from the scenario's begin
    signals: tuple[str, ...] = ()  # subset the controller drives; empty: all
    decision_interval_s: float = Field(5.0, gt=0)
    bin_s: float = Field(60.0, gt=0)
    sim: SimConfig = SimConfig()
    safety: SafetyConfig = SafetyConfig()
    incidents: tuple[IncidentSection, ...] = ()  # scripted: the manifest's, then --incident ones
    faults: tuple[FaultSection, ...] = ()  # injected: the manifest's, then --fault ones
    health: HealthSection | None = None  # detector-health thresholds; None: the scenario's [health]
    observe: ObserveSection = ObserveSection()  # what controllers observe (oracle | loops | cameras)


def user_config_path() -> Path:
    env = os.environ.get("TRAFFICAI_CONFIG")
    return Path(env) if env else Path(user_config_dir("trafficai")) / "config.toml"


def _env_overrides() -> dict[str, Any]:
    """``TRAFFICAI_SIM__SEED=7`` style variables map onto nested keys."""
    out: dict[str, Any] = {}
    for key, value in os.environ.items():
        if not key.startswith("TRAFFICAI_") or "__" not in key:
            continue
        parts = key[len("TRAFFICAI_") :].lower().split("__")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        elif isinstance(value, Mapping):
            merged[key] = _merge({}, value)
        else:
            merged[key] = value
    return merged


def drop_none(data: Mapping[str, Any]) -> dict[str, Any]:
    """A flag left unset is ``None``: it must not hide a lower layer's value."""
    clean: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            value = drop_none(value)
            if value:
                clean[key] = value
        elif value is not None:
            clean[key] = value
    return clean


def format_validation_error(error: ValidationError, source: str) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(root)"
    return f"{source}: field '{where}': {first['msg']}"


def load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc


def env_layer(model: type[BaseModel], section: str) -> dict[str, Any]:
    """The ``TRAFFICAI_*`` variables for ``section``: ``TRAFFICAI_X__Y`` where ``x`` is a field of
    ``model`` (shared names such as ``TRAFFICAI_SIM__SEED``), then ``TRAFFICAI_<SECTION>__X__Y``
    (this section only, wins)."""
    tree = _env_overrides()
    shared = {k: v for k, v in tree.items() if k in model.model_fields}
    scoped = tree.get(section, {})
    return _merge(shared, scoped if isinstance(scoped, dict) else {})


# the user config's tables: each is read by the commands of one section
USER_CONFIG_TABLES = ("run", "train", "iot", "storage")


def check_user_tables(path: Path, user: Mapping[str, Any]) -> None:
    """A table nobody reads would be ignored in silence: one line naming it (and, for a run
    setting such as ``[health]``, where it belongs)."""
    for name in user:
        if name in USER_CONFIG_TABLES:
            continue
        hint = f"; run settings go in [run.{name}]" if name in RunConfig.model_fields else ""
        known = ", ".join(f"[{t}]" for t in USER_CONFIG_TABLES)
        raise ConfigError(f"{path}: unknown table [{name}] (known: {known}){hint}")


def resolve_config(
    model: type[ModelT],
    section: str,
    flags: Mapping[str, Any],
    *,
    manifest: Mapping[str, Any] | None = None,
    resumed: Mapping[str, Any] | None = None,
    what: str | None = None,
) -> ModelT:
    """One validated config of any ``model`` from its layers, lowest priority first: what the
    scenario manifest implies (``manifest``), the user config's ``[section]`` table, the
    ``TRAFFICAI_`` environment (:func:`env_layer`), a saved config being resumed (``resumed``), then
    the command-line ``flags`` (``None`` values are flags left unset and ignored)."""
    layers = _merge({}, drop_none(manifest or {}))
    path = user_config_path()
    if path.exists():
        user = load_toml(path)
        check_user_tables(path, user)
        table = user.get(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
        layers = _merge(layers, table)
    layers = _merge(layers, env_layer(model, section))
    layers = _merge(layers, resumed or {})
    layers = _merge(layers, drop_none(flags))
    try:
        return model.model_validate(layers)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, what or f"{section} configuration")) from exc


def resolve_run_config(cli: Mapping[str, Any], manifest: Mapping[str, Any] | None = None) -> RunConfig:
    """Merge manifest defaults, user config, environment and CLI values (highest last) into a
    validated RunConfig."""
    return resolve_config(RunConfig, "run", cli, manifest=manifest)


class IotConfig(Frozen):
    """The ``[iot]`` section: the device network. Off by default (the in-process bus needs nothing);
    when enabled, devices and the ingest use the broker at ``host``:``port`` with the certificates of
    ``certs_dir`` (written by ``trafficai iot init``) and connect nowhere else."""

    enabled: bool = False
    host: str = "localhost"
    port: int = Field(8883, gt=0, lt=65536)
    certs_dir: Path | None = None
    # camera devices (``--cameras``): none, perfect cameras or the perception pipeline (its settings:
    # the ``observe.camera_*`` keys, shared with ``--observe cameras``); where they stand
    cameras: Literal["off", "truth", "vision"] = "off"
    camera_placement: Literal["manifest", "auto"] = "manifest"


def resolve_iot_config(cli: Mapping[str, Any]) -> IotConfig:
    return resolve_config(IotConfig, "iot", cli)


class StorageConfig(Frozen):
    """The ``[storage]`` section: what the run store keeps for how long. ``retention_days``: the raw
    detector bins of runs started more than this many days ago (their 30 s detector series and the
    bins their devices published) are deleted when a run or the control center starts, and by
    ``trafficai prune``; the runs, their KPIs, events and health records stay. None: kept."""

    retention_days: float | None = Field(None, ge=0, allow_inf_nan=False)


def resolve_storage_config(cli: Mapping[str, Any] | None = None) -> StorageConfig:
    return resolve_config(StorageConfig, "storage", cli or {})


LOOP_FAULT_KINDS = ("stuck-on", "stuck-off", "noise", "bias", "chatter", "frozen", "spoofing")
TRANSPORT_FAULT_KINDS = ("dropout", "latency", "packet-loss", "clock-skew", "heartbeat-loss")
# a camera's own faults (sensors/camera_faults.py); "frozen" is a loop fault too
CAMERA_FAULT_KINDS = ("frozen", "blackout")
FAULT_KINDS = LOOP_FAULT_KINDS + TRANSPORT_FAULT_KINDS + ("blackout",)


class FaultSection(Frozen):
    """An injected device fault (``[[faults]]`` in a manifest, ``--fault`` on the command line):
    ``kind`` on ``device`` (a loop detector, area detector or camera id) from ``at`` simulated
    seconds after the scenario's begin for ``duration`` seconds (none: to the end); ``param``: the
    kind's strength (see ``sensors/faults.py``; none: its default). Recorded with the run: the
    ground truth."""

    device: str = Field(min_length=1)
    kind: str
    at: float = Field(0.0, ge=0)
    duration: float | None = Field(None, gt=0)
    param: float | None = None

    @model_validator(mode="after")
    def _known_kind(self) -> FaultSection:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r} (expected one of {', '.join(FAULT_KINDS)})")
        return self

    def describe(self) -> str:
        """The command-line form, ``DEVICE:KIND@T[+DURATION][:PARAM]``."""
        until = f"+{self.duration:g}" if self.duration is not None else ""
        param = f":{self.param:g}" if self.param is not None else ""
        return f"{self.device}:{self.kind}@{self.at:g}{until}{param}"

    def active(self, elapsed_s: float) -> bool:
        """Whether it acts ``elapsed_s`` seconds after the scenario's begin."""
        return self.at <= elapsed_s and (self.duration is None or elapsed_s < self.at + self.duration)


def parse_fault(spec: str) -> FaultSection:
    """``DEVICE:KIND@T[+DURATION][:PARAM]`` (seconds), e.g. ``e1_N_in_0:stuck-on@600+900``,
    ``e1_N_in_0:bias@0:0.3``; a bad one is one ConfigError line naming what is wrong."""
    what = f"--fault {spec!r}"
    head, sep, tail = spec.strip().rpartition("@")
    device, colon, kind = head.rpartition(":")
    if not sep or not colon or not device or not kind:
        raise ConfigError(f"{what}: expected DEVICE:KIND@T[+DURATION][:PARAM]")
    if kind not in FAULT_KINDS:
        raise ConfigError(f"{what}: unknown fault kind {kind!r} (expected one of {', '.join(FAULT_KINDS)})")
    when, colon, param_text = tail.partition(":")
    at_text, plus, duration_text = when.partition("+")
    try:
        at = float(at_text)
        duration = float(duration_text) if plus else None
        param = float(param_text) if colon else None
    except ValueError:
        raise ConfigError(f"{what}: T, DURATION and PARAM are numbers (seconds for the times)") from None
    try:
        return FaultSection(device=device, kind=kind, at=at, duration=duration, param=param)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, what)) from exc


class CameraHealthSection(Frozen):
    """Camera-device health thresholds (``[health.cameras]``), in 30-s bins the camera publishes
    (``sensors/camera_health.py``; docs/health.md)."""

    frozen_bins: int = Field(4, ge=2)  # identical bins in a row, with traffic moving: frozen
    blackout_bins: int = Field(4, ge=1)  # bins in a row with nothing seen ...
    blackout_loop_vehicles: float = Field(6.0, gt=0)  # ... while its approaches' loops counted this many
    blackout_expected: float = Field(12.0, gt=0)  # ... or (no loops) its own recent rate expected this many
    rate_tau_bins: float = Field(30.0, gt=0)  # time constant of its own learned count rate
    gap_clear_bins: int = Field(4, ge=1)  # a sequence gap is suspect until this many bins arrive in order
    # timing, against the control center's clock (the end of the loops' latest bin): bins arriving
    # this long after their end (latency, or a clock behind), or stamped this far ahead of it or off
    # the loops' bin boundaries (clock skew), in this many bins in a row: suspect
    late_s: float = Field(45.0, gt=0)
    skew_s: float = Field(10.0, gt=0)
    timing_bins: int = Field(2, ge=1)


class HealthSection(Frozen):
    """Detector-health thresholds (``[health]`` in a scenario manifest or the run config), in
    simulated seconds; docs/health.md says what each rule does and where its default comes from."""

    cameras: CameraHealthSection = CameraHealthSection()  # camera devices' rules

    locked_on_s: float = Field(120.0, gt=0)  # IRIS locked on: full occupancy over this much green
    chatter_per_30s: float = Field(38.0, gt=0)  # IRIS chatter
    no_hits_s: float = Field(900.0, gt=0)  # IRIS no hits (hours, scaled to hour-long scenarios)
    witness_s: float = Field(10.0, gt=0)  # a loop contradicting its area detector this long: stuck
    # vehicles leaving the area uncounted: card off. A lane change leaves the area without crossing
    # the loop, so 5 gives city 1 false alarm per hour (0.2 per 100 detector-hours; target <= 1);
    # 10 gives none but 2-3x slower detection (stuck-off median 372 s against 162 s)
    witness_departures: float = Field(5.0, gt=0)
    # a stop-line loop reading empty this long at red while its area holds a standing vehicle (the
    # queue's front stands over it), then silent while that queue leaves at green: card off
    witness_red_s: float = Field(20.0, gt=0)
    # ... and "that queue left" needs this many vehicles out of the area in one green, with none
    # standing in it: a blocked lane's stopped vehicle that drives off at green is still in the area
    # (not gone) until it crosses the loop, and one vehicle out may be a lane change or a removal
    witness_red_departures: float = Field(2.0, gt=0)
    witness_idle_s: float = Field(600.0, gt=0)  # an area detector is a witness this long after a vehicle
    expected_alpha: float = Field(1e-4, gt=0, lt=1)  # Poisson: so few counts this improbable
    rate_tau_s: float = Field(900.0, gt=0)  # time constant of a loop's learned count rate
    rate_history_s: float = Field(120.0, ge=0)  # green seconds of history before the count test
    erratic_samples: int = Field(5, ge=1)  # occupied readings over an empty area, in ...
    erratic_bins: int = Field(4, ge=1)  # ... this many consecutive 30 s bins
    no_change_bins: int = Field(6, ge=2)  # IRIS no change (24 h scaled): identical 30 s bins
    spike_step: float = Field(0.25, gt=0, le=1)  # IRIS occupancy spike: +spike_add_s per step
    spike_add_s: float = Field(30.0, gt=0)
    spike_trip_s: float = Field(60.0, gt=0)
    pems_window_bins: int = Field(40, ge=2)  # PeMS categories over this many 30 s bins
    insufficient_share: float = Field(0.6, gt=0, le=1)
    card_off_share: float = Field(0.59, gt=0, le=1)
    card_off_min_expected: float = Field(40.0, ge=0)
    high_flow_per_30s: float = Field(33.0, gt=0)  # PeMS: 20; 33 = a 0.9 s headway, past any lane
    high_value_share: float = Field(0.2, gt=0, le=1)
    intermittent_share: float = Field(0.2, gt=0, le=1)
    conservation_slack: float = Field(5.0, ge=0)  # vehicles, beyond the storage between two loops
    conservation_share: float = Field(0.2, ge=0)  # of the larger count
    # count bias (health_bias.py): CUSUM of a loop's count against its area detector's flow
    bias_block_vehicles: float = Field(15.0, gt=0)  # a block closes when the witness saw this many
    bias_drift: float = Field(0.15, ge=0)  # CUSUM allowance k (log ratio per block)
    bias_threshold: float = Field(0.4, gt=0)  # CUSUM decision interval h (log ratio)
    # witness vehicles learned before the test. 40 takes a 100-veh/h lane 25 min, so a fault that
    # strikes earlier is learned as the loop's ratio; 20 found more of them but raised city's false
    # count-bias failures from 1 to 4 in an hour (docs/benchmarks.md): 40 stays
    bias_history_vehicles: float = Field(40.0, ge=0)
    bias_tau_vehicles: float = Field(300.0, gt=0)  # memory of the learned ratio, in witness vehicles
    bias_max_ratio: float = Field(2.0, gt=1)  # a learned count per witness vehicle past this (or 1/it)
    # count bias against a camera's count of the loop's lane (camera_witness.py), for the stop-line
    # loops of the approaches a scenario camera covers, while that camera is healthy
    bias_camera: bool = True  # off: every loop is judged against its area detector only
    bias_camera_block_vehicles: float = Field(8.0, gt=0)  # camera crossings per block
    bias_camera_drift: float = Field(0.08, ge=0)  # CUSUM allowance k
    bias_camera_threshold: float = Field(0.3, gt=0)  # CUSUM decision interval h
    # the learned ratio starts at 1 with this many camera vehicles of history (both count the same
    # vehicles), so the test judges from the first block
    bias_camera_prior_vehicles: float = Field(20.0, gt=0)
    bias_camera_max_ratio: float = Field(1.15, gt=1)  # a learned count per camera vehicle past this
    # a camera's counts are used only once it has stayed healthy this long after them (camera
    # health needs 4 bins, 2-2.5 min, to fail a frozen or blacked-out camera; its counts before are void)
    bias_camera_guard_s: float = Field(150.0, ge=0)
    # a camera that saw no crossing while its loops counted this many is no witness until it sees one
    bias_camera_dark_vehicles: float = Field(6.0, gt=0)
    # blocks close only on the loops' counting intervals (SUMO's E1 period, 60 s in every shipped
    # scenario; 0: at any sample): a vehicle standing on a stop-line loop at an interval's end is
    # counted when it leaves, so inside an interval the loop's total runs a vehicle or two behind
    # the camera, and at its end it has caught up
    bias_camera_close_every_s: float = Field(60.0, ge=0)
    substitute: bool = False  # controllers read substitutes for loops flagged failed (substitution.py)

    def pems_limits(self) -> dict[str, float]:
        return {
            "insufficient_share": self.insufficient_share,
            "card_off_share": self.card_off_share,
            "card_off_min_expected": self.card_off_min_expected,
            "high_flow_per_30s": self.high_flow_per_30s,
            "high_value_share": self.high_value_share,
            "intermittent_share": self.intermittent_share,
        }


class WatchPose(Frozen):
    """``vision watch``: where the camera is (metres, degrees), for ground-plane tracking and
    speeds; the image size comes from the video."""

    x: float = 0.0
    y: float = 0.0
    height: float = Field(8.0, gt=0)
    heading: float = 0.0
    tilt: float = Field(20.0, gt=0, lt=90)
    fov: float = Field(70.0, gt=0, lt=180)
    range_m: float = Field(150.0, gt=0)


class WatchLine(Frozen):
    """An image-space counting line: two pixel points; crossing it left to right of a->b counts
    ``forward``, the other way ``backward``."""

    name: str = Field(min_length=1)
    points: tuple[tuple[float, float], tuple[float, float]]


class WatchSection(Frozen):
    """``vision watch --config FILE.yaml``: the camera pose (optional), counting lines, interval."""

    camera: WatchPose | None = None
    lines: tuple[WatchLine, ...] = Field(min_length=1)
    interval_s: float = Field(60.0, gt=0)
