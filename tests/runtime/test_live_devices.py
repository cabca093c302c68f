"""A live run's detectors are connected devices: every bin the sensors layer closes is published by
its device and stored by the ingest in the run, exactly once, on the in-process bus and over a real
Mosquitto; a broker that cannot be used is one warning and the run goes on in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.iot.mqtt_support import needs_mosquitto
from trafficai.config import RunConfig
from trafficai.core.scenario import resolve_scenario
from trafficai.errors import ConfigError
from trafficai.runtime.device_settings import DeviceNetworkSettings, network_settings, parse_broker
from trafficai.runtime.session import RunResult, run_headless
from trafficai.storage import RunStore
from trafficai.storage.devices import DeviceStore

from .conftest import TINY

pytestmark = pytest.mark.sumo
DETECTOR_METRICS = {"count", "occupancy", "speed", "vehicles", "halting"}


def _run(settings: DeviceNetworkSettings, end_s: float = 300) -> tuple[RunResult, Path]:
    with RunStore() as store:
        result = run_headless(RunConfig(scenario=TINY, end_s=end_s, bin_s=30), store, devices=settings)
        return result, store.path


def _sensor_bins(path: Path, run_id: str) -> dict[tuple[str, float], dict[str, float]]:
    """The sensors layer's bins of every detector, as the run store recorded them."""
    out: dict[tuple[str, float], dict[str, float]] = {}
    with RunStore(path) as store:
        for row in store.scoped_series(run_id, "detector"):
            if "/" in row.object_id or row.t_end <= row.t_begin or row.metric not in DETECTOR_METRICS:
                continue  # approaches are not devices; the zero-length bin at t=0 is not published
            out.setdefault((row.object_id, row.t_end), {})[row.metric] = row.value
    return out


def _device_bins(path: Path, run_id: str, anchor: float) -> dict[tuple[str, float], dict[str, float]]:
    out: dict[tuple[str, float], dict[str, float]] = {}
    with DeviceStore(path) as store:
        rows = store.bins(run_id)
        seqs = store.seqs(run_id)
    for row in rows:
        detector = row.device_id.split(".", 1)[1]
        key = (detector, round(row.t_end - anchor, 6))
        assert key not in out, f"{key} stored twice"
        out[key] = dict(row.values)
    for device, numbers in seqs.items():
        assert numbers == list(range(1, len(numbers) + 1)), f"{device}: sequence gaps {numbers}"
    return out


def _anchor(path: Path, run_id: str) -> float:
    """Device time minus simulation time: the first bin ends at t=30 s."""
    with DeviceStore(path) as store:
        return min(b.t_end for b in store.bins(run_id)) - 30.0


def _assert_every_bin_once(result: RunResult, path: Path) -> None:
    sensors = _sensor_bins(path, result.run_id)
    devices = _device_bins(path, result.run_id, _anchor(path, result.run_id))
    assert len(sensors) == 8 * 10  # 8 detectors, 300 s in 30-s bins
    assert devices == sensors


def test_a_headless_run_stores_every_detector_bin_once_on_the_in_process_bus(isolated_data_dir) -> None:  # type: ignore[no-untyped-def]
    result, path = _run(DeviceNetworkSettings())
    _assert_every_bin_once(result, path)
    iot = [e for e in result.events if e.kind.startswith("iot")]
    assert [e.message for e in iot] == [
        "devices: 8 on the in-process bus",
        "devices: 80 bins stored, 0 message(s) dropped",
    ]
    assert iot[0].time_s == 0.0 and iot[-1].time_s == 300.0  # simulation time, not epoch seconds
    with DeviceStore(path) as store:
        assert {d.status for d in store.devices(result.run_id)} == {"offline"}  # the run ended
    with RunStore(path) as runs:
        assert [e.message for e in runs.events(result.run_id) if e.kind == "iot"] == [e.message for e in iot]


def test_a_run_without_device_settings_has_no_devices(isolated_data_dir) -> None:  # type: ignore[no-untyped-def]
    result, path = _run(None, end_s=60)  # type: ignore[arg-type]
    with DeviceStore(path) as store:
        assert store.bins(result.run_id) == [] and store.devices(result.run_id) == []


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        (DeviceNetworkSettings(True, "localhost", 1, Path("no/such/pki")), "no/such/pki: no such folder"),
        (DeviceNetworkSettings(problem="iot configuration: field 'port': bad"), "field 'port'"),
    ],
)
def test_an_unusable_broker_is_one_warning_and_the_run_goes_on_in_process(  # type: ignore[no-untyped-def]
    isolated_data_dir, settings: DeviceNetworkSettings, says: str
) -> None:
    result, path = _run(settings, end_s=120)
    warnings = [e for e in result.events if e.kind == "iot" and e.severity == "warning"]
    assert len(warnings) == 1 and says in warnings[0].message
    assert warnings[0].message.endswith("they use the in-process bus")
    with DeviceStore(path) as store:
        assert len(store.bins(result.run_id)) == 8 * 4


def test_broker_and_iot_dir_flags_select_mqtt(isolated_data_dir, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert network_settings() == DeviceNetworkSettings()  # the in-process bus by default
    assert network_settings("broker.lan:1883", tmp_path) == DeviceNetworkSettings(
        True, "broker.lan", 1883, tmp_path
    )
    assert network_settings(None, tmp_path).port is None  # the port of the folder's mosquitto.conf
    assert parse_broker("[::1]:8883") == ("::1", 8883)
    with pytest.raises(Exception, match="--broker: expected HOST:PORT"):
        parse_broker("localhost")
    config = tmp_path / "config.toml"
    config.write_text('[iot]\nenabled = true\nport = "many"\n')
    monkeypatch.setenv("TRAFFICAI_CONFIG", str(config))
    assert "port" in network_settings().problem  # a bad [iot] section: one line, in-process


@pytest.mark.mqtt
@needs_mosquitto
def test_a_headless_run_stores_every_detector_bin_once_over_mosquitto(
    isolated_data_dir, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from tests.iot.mqtt_support import run_broker
    from trafficai.iot.devices import CONTROL_CENTER, inventory
    from trafficai.iot.pki import init_pki
    from trafficai.sim.factory import open_backend
    from trafficai.sim.sumo_command import SumoOptions

    backend = open_backend(resolve_scenario(TINY), SumoOptions(), vehicles=False)
    try:
        ids = [d.id for d in inventory(backend.geometry)]
    finally:
        backend.close()
    pki = init_pki(tmp_path / "pki", [CONTROL_CENTER, *ids])
    for broker in run_broker(pki, tmp_path):
        result, path = _run(DeviceNetworkSettings(True, "localhost", broker.port, pki.root))
        _assert_every_bin_once(result, path)
        iot = [e for e in result.events if e.kind.startswith("iot")]
        assert iot[0].message == f"devices: 8 connected to the broker localhost:{broker.port} over TLS"
        assert iot[-1].message == "devices: 80 bins stored, 0 message(s) dropped"
        assert all(e.severity == "info" for e in iot), iot
        # scale mode: the same devices in two publisher processes, the ingest here
        field = DeviceNetworkSettings(True, "localhost", broker.port, pki.root, processes=2, strict=True)
        result, path = _run(field)
        _assert_every_bin_once(result, path)
        iot = [e.message for e in result.events if e.kind.startswith("iot")]
        assert iot == [
            f"devices: 8 in 2 publisher processes, broker localhost:{broker.port}",
            "devices: 80 bins stored, 0 message(s) dropped",
        ]
    # the broker is gone now: a run that starts without it is one warning, and in-process
    result, path = _run(DeviceNetworkSettings(True, "localhost", broker.port, pki.root), end_s=60)
    warnings = [e.message for e in result.events if e.severity == "warning" and e.kind == "iot"]
    assert len(warnings) == 1 and "did not accept the control center" in warnings[0]
    with pytest.raises(ConfigError, match="did not accept the control center"):  # scale mode: strict
        _run(DeviceNetworkSettings(True, "localhost", broker.port, pki.root, processes=2, strict=True))
