"""The RL branch of the config tree: environment, observation, reward and training settings.

Frozen pydantic models (``extra="forbid"``) like the rest of :mod:`trafficai.config`; the resolved
:class:`TrainConfig` is saved beside every trained model and inside it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationError, model_validator

from trafficai.config import Frozen, SafetyConfig, format_validation_error
from trafficai.errors import ConfigError

LANE_FEATURES = ("queue", "density", "occupancy", "speed", "loop_occupancy")
PHASE_FEATURES = ("phase_queue", "phase_density", "phase_pressure")
SIGNAL_FEATURES = ("phase", "min_green", "time_in_green")
ObservationFeature = Literal[
    "phase",
    "min_green",
    "time_in_green",
    "queue",
    "density",
    "occupancy",
    "speed",
    "loop_occupancy",
    "phase_queue",
    "phase_density",
    "phase_pressure",
]
RewardKind = Literal["diff-waiting-time", "queue", "pressure", "delay", "total-delay"]
Algo = Literal["ppo", "dqn", "a2c"]

# sumo-rl's default observation: phase one-hot, min-green flag, per-lane density and queue
DEFAULT_FEATURES: tuple[ObservationFeature, ...] = ("phase", "min_green", "density", "queue")


class ObservationConfig(Frozen):
    """Which features, in this order, and where lane values come from.

    ``source = "lanes"`` reads SUMO's lane state (an oracle); ``"sensors"`` builds the same lane
    features from the E2 area detector on each approach lane (and ``loop_occupancy`` from its E1
    loop), as a field deployment would see them. The action mask is always appended last.
    """

    features: tuple[ObservationFeature, ...] = DEFAULT_FEATURES
    source: Literal["lanes", "sensors"] = "lanes"
    vehicle_space_m: float = Field(7.5, gt=0)  # length + gap per vehicle, for lane capacities
    max_green_norm_s: float = Field(60.0, gt=0)  # time_in_green is divided by this and clipped to 1

    @model_validator(mode="after")
    def _check(self) -> ObservationConfig:
        if len(set(self.features)) != len(self.features):
            raise ValueError("observation features must not repeat")
        if not self.features:
            raise ValueError("at least one observation feature is needed")
        if "loop_occupancy" in self.features and self.source != "sensors":
            raise ValueError("loop_occupancy needs source = 'sensors'")
        return self


class RewardConfig(Frozen):
    """Per-signal reward. ``scale`` multiplies it (keep returns near unit size for value learning)."""

    kind: RewardKind = "diff-waiting-time"
    scale: float = Field(1.0, gt=0)


class EnvConfig(Frozen):
    """One controlled simulation: which signals, how often the agent acts, what it sees and earns."""

    scenario: str
    signals: tuple[str, ...] = ()  # empty: every controllable signal
    delta_time_s: float = Field(5.0, gt=0)
    episode_s: float | None = Field(None, gt=0)  # simulated seconds per episode; None: whole scenario
    seed: int = 42  # SUMO seed of the first episode; later episodes count up from it
    time_to_teleport: float = 300.0
    demand_scale: float = Field(1.0, gt=0, le=20)
    pad_lanes: int | None = Field(None, ge=1)  # pad observations to this many lanes (None: the max)
    pad_phases: int | None = Field(None, ge=2)  # pad actions to this many stages (None: the max)
    observation: ObservationConfig = ObservationConfig()
    reward: RewardConfig = RewardConfig()
    safety: SafetyConfig = SafetyConfig()


class TrainConfig(Frozen):
    """A training run. ``timesteps`` counts agent decisions (one per controlled signal per step)."""

    env: EnvConfig
    algo: Algo = "ppo"
    timesteps: int = Field(200_000, ge=1)
    n_envs: int = Field(1, ge=1, le=64)  # simulation processes
    seed: int = 0
    out: str = "runs/train"
    checkpoint_every: int = Field(50_000, ge=1)  # timesteps
    keep_checkpoints: int = Field(3, ge=1)
    patience: int | None = Field(None, ge=1)  # early stop after this many episodes without a new best
    min_delta: float = 0.0  # improvement of the mean episode return that counts as better
    net_arch: tuple[int, ...] = (64, 64)
    policy: Literal["mlp", "phase"] = "mlp"  # phase: stage scorer shared by all stages (PPO / A2C)
    learning_rate: float = Field(3e-4, gt=0)
    gamma: float = Field(0.95, gt=0, le=1)
    hyper: dict[str, int | float | bool] = Field(default_factory=dict)  # extra algorithm kwargs
    torch_threads: int = Field(1, ge=1)
    tensorboard: bool = True


def parse_train_config(data: dict[str, object]) -> TrainConfig:
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, "training configuration")) from exc
