"""``trafficai iot init|broker|revoke|export``: the device network's certificates, broker and data."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Annotated

import typer

from trafficai.cli.output import err, out
from trafficai.errors import ConfigError
from trafficai.extras import require_extra


def _require() -> None:
    require_extra("iot", ("paho", "cryptography"))


def iot_init(
    folder: Annotated[Path, typer.Argument(help="Folder for the CA, certificates and broker config")],
    scenario: Annotated[str | None, typer.Option(help="Issue a certificate to every detector of it")] = None,
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
    from trafficai.core.scenario import resolve_scenario
    from trafficai.iot.devices import camera_devices, inventory
    from trafficai.sensors.cameras import CameraSpec
    from trafficai.sim.factory import open_backend
    from trafficai.sim.sumo_command import SumoOptions

    spec = resolve_scenario(scenario)
    backend = open_backend(spec, SumoOptions(), vehicles=False)
    try:
        cameras = camera_devices([CameraSpec.from_section(c) for c in spec.cameras], backend.geometry)
        return [d.id for d in inventory(backend.geometry) + cameras]
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
    fmt: Annotated[str, typer.Option("--format", help="sensorthings | ngsi-ld | csv")] = "sensorthings",
    output: Annotated[Path | None, typer.Option("--out", help="File to write (default: stdout)")] = None,
) -> None:
    """Export a run's device data as OGC SensorThings entities, NGSI-LD TrafficFlowObserved or CSV."""
    from trafficai.iot.export import EXPORTERS
    from trafficai.storage import RunStore
    from trafficai.storage.devices import DeviceStore

    if fmt not in EXPORTERS:
        raise ConfigError(f"--format: unknown format {fmt!r} (expected one of {', '.join(EXPORTERS)})")
    with RunStore() as runs:
        full_id = runs.get_run(run_id).id
    with DeviceStore() as store:
        text = EXPORTERS[fmt](store.devices(full_id), store.bins(full_id))
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
) -> None:
    """Scale mode: run a scenario headless with its devices in separate publisher processes (each
    device its own TLS identity) against the broker, the ingest in this process, as in the field."""
    _require()
    from dataclasses import replace

    from trafficai.cli.launch import resolve_launch
    from trafficai.runtime.device_settings import network_settings
    from trafficai.runtime.session import run_headless
    from trafficai.storage import RunStore

    if processes < 1:
        raise ConfigError(f"--processes: at least 1, got {processes}")
    settings = replace(network_settings(broker, iot_dir), processes=processes, strict=True)
    config = resolve_launch(scenario, {"controller": controller, "end_s": end})
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
) -> None:
    """Detector health against injected faults: recall, time to detect, false alarms, substitution."""
    import json

    from trafficai.runtime.fault_eval import evaluate

    result = evaluate(scenario, tuple(range(seeds)), end_s=end, per_run=per_run, workers=workers)
    if as_json:
        typer.echo(json.dumps(result.as_json()))
        return
    for kind, recall in result.recall_by_class.items():
        ttd = result.median_ttd_s_by_class[kind]
        out.print(f"{kind:10s} recall {recall:6.1%}  median time to detect {ttd:6.0f} s")
    out.print(f"false alarms {result.false_alarms_per_100_detector_hours:.2f} per 100 healthy detector-hours "
              f"({result.healthy_detector_hours:.0f} h); substitution WAPE {result.substitution_wape:.1%}")


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
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout")] = False,
) -> None:
    """A compromised loop device spoofing the loop-based max-pressure controller: the delay increase
    with no defence and with plausibility, cross-detector checks and fallback to the signal's plan."""
    import json

    from trafficai.runtime.attack_eval import evaluate

    result = evaluate(scenario, tuple(range(seeds)), end_s=end, loops=loop or None, workers=workers)
    if as_json:
        typer.echo(json.dumps(result.as_json()))
        return
    out.print(f"compromised: {', '.join(result.loops)}; strongest strategy: {result.strongest}")
    for name, inc in result.increase_by_strategy.items():
        undefended, defended = inc["undefended"], inc["defended"]
        out.print(f"{name:8s} delay increase undefended {undefended:+7.1%}  defended {defended:+7.1%}")
