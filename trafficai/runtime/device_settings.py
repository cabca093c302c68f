"""Which transport a run's connected devices use: the in-process bus, or MQTT from
``--broker``/``--iot-dir``, the ``[iot]`` config section and the environment (light: no device code
is loaded to read it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from trafficai.config import IotConfig, resolve_iot_config
from trafficai.errors import ConfigError

CameraKind = Literal["off", "truth", "vision"]
CameraPlacement = Literal["manifest", "auto"]


@dataclass(frozen=True, slots=True)
class DeviceNetworkSettings:
    """Which transport a run's devices use. ``problem``: why the configured one cannot be used (one
    line; the run uses the in-process bus and says so)."""

    mqtt: bool = False
    host: str = "localhost"
    port: int | None = None  # None: the listener of certs_dir/mosquitto.conf
    certs_dir: Path | None = None
    problem: str = ""
    processes: int = 0  # > 0: the devices run in this many separate publisher processes (scale mode)
    strict: bool = False  # True: a broker that cannot be used ends the run instead of falling back
    cameras: CameraKind = "off"  # camera devices: none, perfect cameras, the perception pipeline
    camera_placement: CameraPlacement = "manifest"  # the manifest's [[cameras]] or auto-placed ones

    @property
    def with_cameras(self) -> bool:
        return self.cameras != "off"


def parse_broker(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (IPv6 as ``[::1]:8883``); a ConfigError naming --broker otherwise."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--broker: expected HOST:PORT (e.g. localhost:8883), got {value!r}")
    return host, int(port)


def check_choice(option: str, value: str | None, choices: tuple[str, ...]) -> None:
    """A ConfigError naming ``option`` when ``value`` is set and not one of ``choices``."""
    if value is not None and value not in choices:
        raise ConfigError(f"{option}: expected one of {' | '.join(choices)}, got {value!r}")


def network_settings(
    broker: str | None = None,
    iot_dir: Path | None = None,
    cameras: str | None = None,
    camera_placement: str | None = None,
) -> DeviceNetworkSettings:
    """The run's device transport from ``--broker``/``--iot-dir``, then ``[iot]`` and the environment;
    the camera devices from ``--cameras``/``--camera-placement``, then ``[iot]``. A flag names MQTT;
    without one, ``[iot] enabled`` does. Raises ConfigError for a bad camera flag; never for the
    config file: a bad ``[iot]`` section becomes ``problem``."""
    check_choice("--cameras", cameras, ("off", "truth", "vision"))
    check_choice("--camera-placement", camera_placement, ("manifest", "auto"))
    host_port = parse_broker(broker) if broker else None
    flags: dict[str, object] = {"certs_dir": iot_dir, "cameras": cameras}
    flags["camera_placement"] = camera_placement
    if host_port is not None:
        flags.update(host=host_port[0], port=host_port[1])
    if host_port is not None or iot_dir is not None:
        flags["enabled"] = True
    try:
        config: IotConfig = resolve_iot_config({k: v for k, v in flags.items() if v is not None})
    except ConfigError as exc:
        return DeviceNetworkSettings(problem=str(exc))
    kind, placement = config.cameras, config.camera_placement
    if not config.enabled:
        return DeviceNetworkSettings(cameras=kind, camera_placement=placement)
    explicit_port = host_port is not None or "port" in config.model_fields_set
    return DeviceNetworkSettings(
        True, config.host, config.port if explicit_port else None, config.certs_dir or Path("pki"),
        cameras=kind, camera_placement=placement,
    )  # fmt: skip
