"""``trafficai iot init|broker|revoke|export``: the device network's certificates, broker and data."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from trafficai.cli.observe_options import (
    CameraDetectorOpt,
    CameraDropOpt,
    CameraFpsOpt,
    CameraLightOpt,
    CameraPlacementOpt,
    CamerasOpt,
    CameraWeightsOpt,
    observe_flags,
)
from trafficai.cli.output import err, out
from trafficai.errors import ConfigError
from trafficai.extras import require_extra
from trafficai.runtime.device_settings import check_choice

if TYPE_CHECKING:
    from trafficai.runtime.camera_fault_eval import CameraEvalResult


def _require() -> None:
    require_extra("iot", ("paho", "cryptography"))


def iot_init(
    folder: Annotated[Path, typer.Argument(help="Folder for the CA, certificates and broker config")],
    scenario: Annotated[
        str | None, typer.Option(help="Certify every detector and camera (manifest and auto-placed) of it")
    ] = None,
    device: Annotated[list[str] | None, typer.Option(help="A device id to issue a certificate to")] = None,
    port: Annotated[int, typer.Option(help="Port of the broker's TLS listener (loopback)")] = 8883,
) -> None:
    """Create a local CA, the broker's certificate, one client certificate per device (CN = device
    id), the control center's and a reader's, an empty CRL, mosquitto.conf and the ACL."""
    _require()
    from trafficai.iot.broker import write_broker_files
    from trafficai.iot.devices import CONTROL_CENTER, READER
    from trafficai.iot.pki import init_pki

    ids = list(device or [])
    if scenario is not None:
        ids += _scenario_devices(scenario)
    pki = init_pki(folder, [CONTROL_CENTER, READER, *ids])
    conf = write_broker_files(pki, port)
    out.print(f"{len(ids)} device certificates, CA and broker config in {folder} (broker: {conf})")


def _scenario_devices(scenario: str) -> list[str]:
    """Every detector of the scenario, its manifest cameras and the auto-placed ones (whichever
    ``--camera-placement`` a run uses, its camera devices have certificates)."""
    from trafficai.core.scenario import resolve_scenario
    from trafficai.iot.devices import camera_device_id, inventory
    from trafficai.runtime.camera_sources import placed_cameras
    from trafficai.sensors.cameras import CameraSpec
    from trafficai.sim.factory import open_backend
    from trafficai.sim.sumo_command import SumoOptions

    spec = resolve_scenario(scenario)
    backend = open_backend(spec, SumoOptions(), vehicles=False)
    try:
        cameras = [CameraSpec.from_section(c) for c in spec.cameras]
        with contextlib.suppress(ConfigError):  # a net without signalised approaches: none placed
            cameras += placed_cameras(spec, backend.geometry, "auto")
        ids = [d.id for d in inventory(backend.geometry)]
        return ids + list(dict.fromkeys(camera_device_id(c.id) for c in cameras))
    finally:
        backend.close()


def iot_broker(
    folder: Annotated[Path, typer.Argument(help="Folder written by `trafficai iot init`")],
) -> None:
    """Run Mosquitto with the folder's configuration in the foreground (Ctrl-C stops it)."""
    _require()
    from trafficai.iot.broker import mosquitto_binary

    conf = folder / "mosquitto.conf"
    if not conf.is_file():
        raise ConfigError(f"{conf}: not found (run `trafficai iot init {folder}` first)")
    code = subprocess.call([str(mosquitto_binary()), "-c", str(conf)])
    if code not in (0, -2, 130):
        raise ConfigError(f"{conf}: Mosquitto exited with status {code} (see its messages above)")


def iot_revoke(
    device: Annotated[str, typer.Argument(help="Device id (certificate CN) to revoke")],
    folder: Annotated[Path, typer.Option("--pki", help="Folder written by `trafficai iot init`")] = Path(
        "pki"
    ),
    as_user: Annotated[str | None, typer.Option("--as", help="Your user name once users exist")] = None,
) -> None:
    """Put a device's certificate on the revocation list (restart the broker to apply it)."""
    _require()
    from trafficai.cli.users import cli_actor
    from trafficai.iot.pki import Pki, revoke

    who, audit = cli_actor(as_user, "configure", "revoke devices")
    with audit:
        serial = revoke(Pki(folder), device)
        audit.record(who, "device.revoke", device, {"serial": f"{serial:x}", "pki": str(folder)})
    out.print(f"revoked {device} (serial {serial:x}); restart the broker to apply {folder / 'crl.pem'}")


def iot_export(
    run_id: Annotated[str, typer.Argument(help="Run id (or a unique prefix)")],
    fmt: Annotated[
        str, typer.Option("--format", help="sensorthings | ngsi-ld | parquet | csv")
    ] = "sensorthings",
    output: Annotated[Path | None, typer.Option("--out", help="File to write (default: stdout)")] = None,
) -> None:
    """Export a run's device data (detectors and cameras) as OGC SensorThings entities, NGSI-LD
    TrafficFlowObserved, Parquet (needs --out) or CSV."""
    from trafficai.iot.export import EXPORTERS, write_parquet
    from trafficai.storage import RunStore
    from trafficai.storage.devices import DeviceStore

    known = (*EXPORTERS, "parquet")
    if fmt not in known:
        raise ConfigError(f"--format: unknown format {fmt!r} (expected one of {', '.join(known)})")
    if fmt == "parquet" and output is None:
        raise ConfigError("--format parquet writes a binary file: give --out FILE.parquet")
    with RunStore() as runs:
        full_id = runs.get_run(run_id).id
    with DeviceStore() as store:
        devices, bins = store.devices(full_id), store.bins(full_id)
    if fmt == "parquet" and output is not None:
        rows = write_parquet(devices, bins, output)
        err.print(f"wrote {output} ({rows} rows)")
        return
    text = EXPORTERS[fmt](devices, bins)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text)
        err.print(f"wrote {output}")


def bench_iot(
    seconds: Annotated[float, typer.Option(help="Seconds of the sustained Mosquitto measurement")] = 120.0,
    rate: Annotated[
        float, typer.Option(help="Messages per second offered for the latency measurement")
    ] = 1000.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout")] = False,
) -> None:
    """In-process bus vs Mosquitto (TLS, QoS 1, outbox, ingest into the store), side by side."""
    _require()
    from trafficai.cli.output import print_json
    from trafficai.iot.bench import bench_iot as measure

    result = measure(seconds, rate, None if as_json else (lambda m: err.print(f"[dim]{m}[/]")))
    if as_json:
        print_json(result)
        return
    for key, target in (
        ("inproc_msgs_per_s", ">= 50000"),
        ("mqtt_msgs_per_s", ">= 5000"),
        ("p50_ms", "<= 3"),
        ("p99_ms", "<= 20"),
        ("validation_p99_ms", "<= 0.5"),
        ("fuzz_validation_p99_ms", "<= 0.5"),
        ("fuzz_validation_cpu_p99_ms", "<= 0.5"),
    ):
        out.print(f"{key:>20}  {result[key]:>12.3f}   target {target}")


def iot_run(
    scenario: Annotated[str, typer.Argument(help="Scenario name, scenario folder, or path to a .sumocfg")],
    iot_dir: Annotated[Path, typer.Option("--iot-dir", help="Folder written by `trafficai iot init`")] = Path(
        "pki"
    ),
    broker: Annotated[
        str | None, typer.Option(help="Broker HOST:PORT (default: the folder's listener)")
    ] = None,
    processes: Annotated[int, typer.Option(help="Separate publisher processes for the devices")] = 4,
    end: Annotated[float | None, typer.Option(help="Simulated seconds from the scenario's begin")] = None,
    controller: Annotated[str | None, typer.Option(help="Controller name (default: the scenario's)")] = None,
    cameras: CamerasOpt = None,
    camera_placement: CameraPlacementOpt = None,
    camera_detector: CameraDetectorOpt = None,
    camera_weights: CameraWeightsOpt = None,
    camera_fps: CameraFpsOpt = None,
    camera_drop: CameraDropOpt = None,
    camera_light: CameraLightOpt = None,
) -> None:
    """Scale mode: run a scenario headless with its devices (detectors, and cameras with --cameras)
    in separate publisher processes (each device its own TLS identity) against the broker, the
    ingest in this process, as in the field."""
    _require()
    from dataclasses import replace

    from trafficai.cli.launch import resolve_launch
    from trafficai.runtime.device_settings import network_settings
    from trafficai.runtime.session import run_headless
    from trafficai.storage import RunStore

    if processes < 1:
        raise ConfigError(f"--processes: at least 1, got {processes}")
    settings = replace(
        network_settings(broker, iot_dir, cameras, camera_placement), processes=processes, strict=True
    )
    observe = observe_flags(
        None, camera_detector, camera_fps, camera_drop, light=camera_light, weights=camera_weights
    )
    config = resolve_launch(scenario, {"controller": controller, "end_s": end, "observe": observe})
    with RunStore() as store:
        result = run_headless(config, store, devices=settings)
    for event in result.events:
        if event.kind.startswith("iot"):
            (out if event.severity == "info" else err).print(f"t={event.time_s:g}s {event.message}")
    out.print(f"run {result.run_id}: `trafficai iot export {result.run_id}` exports its device data")


def register(app: typer.Typer) -> None:
    group = typer.Typer(no_args_is_help=True, help="The connected-device network (MQTT).")
    group.command("init")(iot_init)
    group.command("broker")(iot_broker)
    group.command("revoke")(iot_revoke)
    group.command("export")(iot_export)
    group.command("run")(iot_run)
    register_faults(group)
    group.command("attack")(iot_attack)
    app.add_typer(group, name="iot")


def iot_faults_eval(
    scenario: Annotated[str, typer.Argument(help="Scenario name or folder")],
    seeds: Annotated[int, typer.Option(help="Seeds 0..N-1; each: a healthy run + one per fault class")] = 3,
    per_run: Annotated[int, typer.Option(help="Loops struck per faulty run")] = 3,
    end: Annotated[float | None, typer.Option(help="Simulated seconds per run (default: all)")] = None,
    workers: Annotated[int, typer.Option(help="Parallel runs (each at nice 10)")] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout")] = False,
    cameras: Annotated[
        str, typer.Option(help="Camera fault classes: auto (when the scenario has [[cameras]]), truth, off")
    ] = "auto",
    loops: Annotated[bool, typer.Option(help="The loop fault classes (--no-loops: cameras only)")] = True,
) -> None:
    """Detector health against injected faults: recall, time to detect, false alarms, substitution."""
    import json

    from trafficai.runtime.fault_eval import evaluate

    camera_result = _camera_eval(scenario, cameras, seeds, per_run, end, workers)
    result = (
        evaluate(scenario, tuple(range(seeds)), end_s=end, per_run=per_run, workers=workers)
        if loops
        else None
    )
    if as_json:
        data = result.as_json() if result is not None else {}
        if camera_result is not None:
            data["cameras"] = camera_result.as_json()
        typer.echo(json.dumps(data))
        return
    if camera_result is not None:
        _print_recalls(camera_result.recall_by_class, camera_result.median_ttd_s_by_class, "camera ", 14)
        out.print(
            f"camera false alarms {camera_result.false_alarms_per_100_camera_hours:.2f} per 100 healthy "
            f"camera-hours ({camera_result.healthy_camera_hours:.1f} h)"
        )
    if result is None:
        return
    _print_recalls(result.recall_by_class, result.median_ttd_s_by_class, "", 10)
    out.print(
        f"false alarms {result.false_alarms_per_100_detector_hours:.2f} per 100 healthy detector-hours "
        f"({result.healthy_detector_hours:.0f} h); substitution WAPE {result.substitution_wape:.1%}"
    )


def _print_recalls(
    recalls: Mapping[str, float], ttds: Mapping[str, float], prefix: str, width: int
) -> None:
    for kind, recall in recalls.items():
        out.print(f"{prefix}{kind:{width}s} recall {recall:6.1%}  median time to detect {ttds[kind]:6.0f} s")


def _camera_eval(
    scenario: str, cameras: str, seeds: int, per_run: int, end: float | None, workers: int
) -> CameraEvalResult | None:
    """The camera classes of the fault eval: ``auto`` runs them when the scenario has [[cameras]],
    ``truth`` always (auto-placed cameras on a scenario without any), ``off`` never."""
    check_choice("--cameras", cameras, ("auto", "truth", "off"))
    if cameras == "off":
        return None
    from trafficai.core.scenario import resolve_scenario
    from trafficai.runtime.camera_fault_eval import evaluate_cameras

    has = bool(resolve_scenario(scenario).cameras)
    if cameras == "auto" and not has:
        return None
    placement = "manifest" if has else "auto"
    return evaluate_cameras(
        scenario, tuple(range(seeds)), end_s=end, per_run=per_run, workers=workers, placement=placement
    )


def register_faults(group: typer.Typer) -> None:
    faults = typer.Typer(no_args_is_help=True, help="Injected device faults, measured.")
    faults.command("eval")(iot_faults_eval)
    group.add_typer(faults, name="faults")


def iot_attack(
    scenario: Annotated[str, typer.Argument(help="Scenario name or folder")],
    seeds: Annotated[int, typer.Option(help="Seeds 0..N-1 (4 runs per strategy each)")] = 3,
    loop: Annotated[list[str] | None, typer.Option(help="A compromised loop (default: 1st approach)")] = None,
    end: Annotated[float | None, typer.Option(help="Simulated seconds per run (default: all)")] = None,
    workers: Annotated[int, typer.Option(help="Parallel runs (each at nice 10)")] = 2,
    controller: Annotated[
        str, typer.Option(help="A controller deciding on the loops: max-pressure-loops or rl:MODEL (sensors)")
    ] = "max-pressure-loops",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout")] = False,
) -> None:
    """A compromised loop device spoofing a loop-based controller: the delay increase
    with no defence and with plausibility, cross-detector checks and fallback to the signal's plan."""
    import json

    from trafficai.control.registry import check_controller
    from trafficai.runtime.attack_eval import evaluate

    check_controller(controller)
    result = evaluate(
        scenario, tuple(range(seeds)), end_s=end, loops=loop or None, workers=workers, controller=controller
    )
    if as_json:
        typer.echo(json.dumps(result.as_json()))
        return
    out.print(f"compromised: {', '.join(result.loops)}; strongest strategy: {result.strongest}")
    for name, inc in result.increase_by_strategy.items():
        undefended, defended = inc["undefended"], inc["defended"]
        out.print(f"{name:8s} delay increase undefended {undefended:+7.1%}  defended {defended:+7.1%}")
