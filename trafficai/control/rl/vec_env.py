"""Parameter sharing for stable-baselines3: every controlled signal is one slot of one VecEnv.

:class:`SharedPolicyVecEnv` runs ``n_workers`` simulations (one SUMO each; with more than one,
each in its own process, stepping in parallel) and presents each controlled signal of each
simulation as one environment slot, so a single policy is trained on the experience of every
intersection (what supersuit's ``pettingzoo_env_to_vec_env`` + ``concat_vec_envs`` do, in one small
class). Slots of one simulation end their episodes together; the worker then starts the next one
itself (SB3's auto-reset convention: the last observation is in ``infos[i]["terminal_observation"]``,
episodes end by time so ``TimeLimit.truncated`` is set, and ``infos[i]["episode"]`` carries the slot's
return and length for SB3's logger).

Simulation 0 runs in the calling process (it steps while the worker processes do); simulations
1..K-1 run in worker processes. A worker that fails (SUMO error, crash) raises
:class:`~trafficai.errors.SimulationError` from :meth:`step_wait` / :meth:`reset` with the worker's
message; :meth:`close` then shuts the others down.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import time
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any, Protocol

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from trafficai.control.rl.config import EnvConfig
from trafficai.control.rl.episode import ControlledEpisodes, StepResult
from trafficai.control.rl.observations import feature_slices
from trafficai.errors import SimulationError, TrafficAIError

try:  # stable-baselines3 is a declared dependency; the base class keeps this module SB3-compatible
    from stable_baselines3.common.vec_env.base_vec_env import VecEnv as _VecEnvBase
except ImportError:  # pragma: no cover
    _VecEnvBase = object  # type: ignore[assignment,misc]

WORKER_SEED_STRIDE = 100_003  # episode seeds of worker k start at seed + k * stride


def worker_config(config: EnvConfig, index: int) -> EnvConfig:
    return config.model_copy(update={"seed": config.seed + index * WORKER_SEED_STRIDE})


class EnvWorker(Protocol):
    """One simulation behind the VecEnv's slots: in this process, a worker process or a Ray actor."""

    def describe(self) -> dict[str, Any]: ...
    def reset_async(self, seed: int | None) -> None: ...
    def reset_wait(self) -> NDArray[np.float32]: ...
    def step_async(self, actions: NDArray[np.int64]) -> None: ...
    def step_wait(self) -> tuple[StepResult, NDArray[np.float32] | None]: ...
    def close(self) -> None: ...


# (worker's env config, worker index) -> worker; given, every simulation is made by it
WorkerFactory = Callable[[EnvConfig, int], EnvWorker]


class _Local:
    """The worker in this process (simulation 0: no pipes, no pickling)."""

    def __init__(self, config: EnvConfig) -> None:
        self.episodes = ControlledEpisodes(config)
        self._actions: NDArray[np.int64] | None = None
        self._seed: int | None = None

    def describe(self) -> dict[str, Any]:
        return describe_episodes(self.episodes)

    def reset_async(self, seed: int | None) -> None:
        self._seed = seed

    def reset_wait(self) -> NDArray[np.float32]:
        return self.episodes.reset(self._seed)

    def step_async(self, actions: NDArray[np.int64]) -> None:
        self._actions = actions

    def step_wait(self) -> tuple[StepResult, NDArray[np.float32] | None]:
        assert self._actions is not None
        return step_and_reset(self.episodes, self._actions)

    def close(self) -> None:
        self.episodes.close()


def describe_episodes(episodes: ControlledEpisodes) -> dict[str, Any]:
    """What the VecEnv needs to know of a worker's simulation (spaces, signals, masks)."""
    from trafficai.control.rl.model import signatures

    low, high = episodes.observation_bounds()
    return {
        "signal_ids": episodes.signal_ids,
        "signatures": signatures(episodes.topology),
        "max_lanes": episodes.topology.max_lanes,
        "max_phases": episodes.topology.max_phases,
        "obs_size": episodes.observation_size,
        "slices": {
            k: (v.start, v.stop)
            for k, v in feature_slices(episodes.topology, episodes.config.observation).items()
        },
        "n_actions": episodes.n_actions,
        "low": low,
        "high": high,
        "mask": episodes.action_mask(),
    }


def step_and_reset(
    episodes: ControlledEpisodes, actions: NDArray[np.int64]
) -> tuple[StepResult, NDArray[np.float32] | None]:
    """Step; at the end of an episode start the next one. Returns (result, first obs of the next)."""
    result = episodes.step(actions)
    return result, (episodes.reset(None) if result.done else None)


def _worker_main(conn: Connection, config_json: str) -> None:
    episodes: ControlledEpisodes | None = None
    try:
        episodes = ControlledEpisodes(EnvConfig.model_validate_json(config_json))
        conn.send(("ok", describe_episodes(episodes)))
        while True:
            command, data = conn.recv()
            if command == "reset":
                conn.send(("ok", episodes.reset(data)))
            elif command == "step":
                conn.send(("ok", step_and_reset(episodes, data)))
            elif command == "close":
                break
            else:  # pragma: no cover - only this module sends commands
                conn.send(("error", f"unknown command {command!r}"))
    except (EOFError, KeyboardInterrupt):
        pass
    except TrafficAIError as exc:
        _send_error(conn, str(exc))
    except BaseException:
        _send_error(conn, traceback.format_exc(limit=4).strip().splitlines()[-1])
    finally:
        if episodes is not None:
            episodes.close()
        conn.close()


def _send_error(conn: Connection, message: str) -> None:
    with contextlib.suppress(BrokenPipeError, OSError):
        conn.send(("error", message))


class _Remote:
    """A worker process with its own SUMO (libsumo allows one simulation per process)."""

    def __init__(self, config: EnvConfig, index: int, context: Any) -> None:
        self.index = index
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_worker_main,
            args=(child, config.model_dump_json()),
            daemon=True,
            name=f"trafficai-env-{index}",
        )
        self.process.start()
        child.close()
        self._description: dict[str, Any] = self._receive()

    def _receive(self) -> Any:
        try:
            status, payload = self.conn.recv()
        except (EOFError, OSError):
            code = self.process.exitcode
            raise SimulationError(
                f"environment worker {self.index} died" + (f" (exit code {code})" if code is not None else "")
            ) from None
        if status != "ok":
            raise SimulationError(f"environment worker {self.index} failed: {payload}")
        return payload

    def _send(self, message: tuple[str, Any]) -> None:
        try:
            self.conn.send(message)
        except (BrokenPipeError, OSError):
            raise SimulationError(f"environment worker {self.index} is gone") from None

    def describe(self) -> dict[str, Any]:
        return self._description

    def reset_async(self, seed: int | None) -> None:
        self._send(("reset", seed))

    def reset_wait(self) -> NDArray[np.float32]:
        return self._receive()  # type: ignore[no-any-return]

    def step_async(self, actions: NDArray[np.int64]) -> None:
        self._send(("step", actions))

    def step_wait(self) -> tuple[StepResult, NDArray[np.float32] | None]:
        return self._receive()  # type: ignore[no-any-return]

    def close(self) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            self.conn.send(("close", None))
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=5)
        self.conn.close()


class SharedPolicyVecEnv(_VecEnvBase):  # type: ignore[misc,valid-type]
    """All controlled signals of ``n_workers`` simulations as the slots of one SB3 VecEnv."""

    def __init__(
        self,
        config: EnvConfig,
        n_workers: int = 1,
        start_method: str = "spawn",
        worker_factory: WorkerFactory | None = None,
        *,
        site_configs: Sequence[EnvConfig] | None = None,
    ) -> None:
        """``worker_factory``: makes every simulation (e.g. as Ray actors); default: simulation 0
        in this process, the others in spawned worker processes. The seeds are the same either way.
        ``site_configs``: one simulation per given config (federated sites) instead of ``n_workers``."""
        self.config = config
        configs = (
            list(site_configs) if site_configs else [worker_config(config, k) for k in range(n_workers)]
        )
        self.n_workers = n_workers = len(configs)
        workers: list[EnvWorker] = []
        try:
            if worker_factory is not None:
                for k in range(n_workers):
                    workers.append(worker_factory(configs[k], k))
            else:
                # simulation 0 runs in this process: it steps while the others do, instead of waiting
                context = mp.get_context(start_method)
                workers.extend(_Remote(configs[k], k, context) for k in range(1, n_workers))
                workers.insert(0, _Local(configs[0]))
        except BaseException:
            for worker in workers:
                worker.close()
            raise
        self.workers = workers
        first = workers[0].describe()
        self.signal_ids: tuple[str, ...] = tuple(first["signal_ids"])
        self.n_signals = len(self.signal_ids)
        widths = [len(w.describe()["signal_ids"]) for w in workers]
        self._offsets = [0, *np.cumsum(widths).tolist()]
        self._slot_signal = [s for w in workers for s in w.describe()["signal_ids"]]
        sizes = {int(w.describe()["obs_size"]) for w in workers}
        if len(sizes) > 1:
            self.close_workers(workers)
            raise TrafficAIError(f"the sites' observations differ in size ({sorted(sizes)}): pad them alike")
        self._mask = np.concatenate([np.asarray(w.describe()["mask"]) for w in workers], axis=0)
        observation_space = spaces.Box(low=first["low"], high=first["high"], dtype=np.float32)
        self.n_actions = int(first["n_actions"])
        action_space: spaces.Discrete[np.int64] = spaces.Discrete(self.n_actions)
        super().__init__(self._offsets[-1], observation_space, action_space)
        self._returns = np.zeros(self.num_envs, np.float64)
        self._lengths = np.zeros(self.num_envs, np.int64)
        self._episode_start = [time.perf_counter()] * n_workers
        self._actions: NDArray[np.int64] | None = None
        self.closed = False

    @classmethod
    def of_sites(cls, configs: Sequence[EnvConfig], start_method: str = "spawn") -> SharedPolicyVecEnv:
        """One simulation per config (sites with different networks, same observation size): the
        slots of every site in one VecEnv, so one learner trains on all of them at once."""
        if not configs:
            raise TrafficAIError("no sites to train on")
        return cls(configs[0], start_method=start_method, site_configs=configs)

    @staticmethod
    def close_workers(workers: Sequence[EnvWorker]) -> None:
        for worker in workers:
            worker.close()

    def _slots(self, k: int) -> slice:
        return slice(self._offsets[k], self._offsets[k + 1])

    # -- VecEnv API ---------------------------------------------------------------------------

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        """Seeds the action spaces only. SB3 calls this with the learner's seed, and its default
        would start slot k's first episode at SUMO seed ``seed + k``, after which the episodes count
        up from there: training on SUMO seeds 0, 1, 2, ..., the very seeds evaluation uses. SUMO
        seeds come from the env configs alone (``config.seed + worker * WORKER_SEED_STRIDE``)."""
        if seed is not None:
            self.action_space.seed(seed)
        return [None] * self.num_envs

    def reset(self) -> NDArray[np.float32]:
        seeds = getattr(self, "_seeds", [None] * self.num_envs)
        for k, worker in enumerate(self.workers):
            worker.reset_async(seeds[self._offsets[k]] if seeds else None)
        obs = [worker.reset_wait() for worker in self.workers]
        self._episode_start = [time.perf_counter()] * self.n_workers
        self._returns[:] = 0.0
        self._lengths[:] = 0
        if hasattr(self, "_reset_seeds"):
            self._reset_seeds()
        return np.concatenate(obs, axis=0)

    def step_async(self, actions: NDArray[Any]) -> None:
        self._actions = np.asarray(actions, dtype=np.int64).reshape(self.num_envs)
        for k, worker in enumerate(self.workers):  # the remote ones start now; the local one in step_wait
            worker.step_async(self._actions[self._slots(k)])

    def step_wait(
        self,
    ) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.bool_], list[dict[str, Any]]]:
        obs_parts, rewards, dones = [], np.zeros(self.num_envs, np.float32), np.zeros(self.num_envs, bool)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        for k, worker in enumerate(self.workers):
            result, next_obs = worker.step_wait()
            slots = self._slots(k)
            rewards[slots] = result.rewards
            self._returns[slots] += result.rewards
            self._lengths[slots] += 1
            if result.done:
                assert next_obs is not None
                dones[slots] = True
                elapsed = time.perf_counter() - self._episode_start[k]
                for j in range(slots.start, slots.stop):
                    infos[j] = {
                        "terminal_observation": result.observations[j - slots.start],
                        "TimeLimit.truncated": True,
                        "episode": {
                            "r": float(self._returns[j]),
                            "l": int(self._lengths[j]),
                            "t": round(elapsed, 3),
                        },
                    }
                self._returns[slots] = 0.0
                self._lengths[slots] = 0
                self._episode_start[k] = time.perf_counter()
                obs_parts.append(next_obs)
            else:
                obs_parts.append(result.observations)
        return np.concatenate(obs_parts, axis=0), rewards, dones, infos

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for worker in self.workers:
            worker.close()

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        n = len(self._indices(indices))
        if attr_name == "render_mode":
            return [None] * n
        if attr_name == "signal_ids":
            return [self._slot_signal[i] for i in self._indices(indices)]
        raise AttributeError(f"SharedPolicyVecEnv slots have no attribute {attr_name!r}")

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        raise AttributeError(f"SharedPolicyVecEnv slots do not support setting {attr_name!r}")

    def env_method(
        self, method_name: str, *method_args: Any, indices: Any = None, **method_kwargs: Any
    ) -> list[Any]:
        if method_name == "action_masks":  # sb3-contrib's MaskablePPO asks this
            return [self._mask[i] for i in self._indices(indices)]
        raise AttributeError(f"SharedPolicyVecEnv slots have no method {method_name!r}")

    def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
        return [False] * len(self._indices(indices))

    def action_masks(self) -> NDArray[np.bool_]:
        return self._mask

    def _indices(self, indices: Any) -> Sequence[int]:
        if indices is None:
            return range(self.num_envs)
        if isinstance(indices, int):
            return [indices]
        return list(indices)
