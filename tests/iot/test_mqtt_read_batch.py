"""The MQTT client reads every packet already received in one network-loop turn (paho alone reads
one per turn when nothing of its own is in flight: the control center's ingest)."""

from __future__ import annotations

import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from trafficai.iot.mqtt_client import READ_BATCH, _Client


def _client(monkeypatch: pytest.MonkeyPatch, results: list[MQTTErrorCode]) -> tuple[_Client, list[int]]:
    client = _Client(CallbackAPIVersion.VERSION2, client_id="t")
    calls: list[int] = []

    def read() -> MQTTErrorCode:
        calls.append(1)
        return results.pop(0) if results else MQTTErrorCode.MQTT_ERR_SUCCESS

    monkeypatch.setattr(client, "_packet_read", read)
    monkeypatch.setattr(client, "_sock", object())  # connected, as far as loop_read looks
    return client, calls


def test_one_turn_reads_until_the_socket_has_nothing_more(monkeypatch: pytest.MonkeyPatch) -> None:
    ok, again = MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_AGAIN
    client, calls = _client(monkeypatch, [ok] * 5 + [again])
    assert client.loop_read() == MQTTErrorCode.MQTT_ERR_SUCCESS
    assert len(calls) == 6


def test_one_turn_reads_at_most_a_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    client, calls = _client(monkeypatch, [])
    assert client.loop_read() == MQTTErrorCode.MQTT_ERR_SUCCESS
    assert len(calls) == READ_BATCH > 1


def test_a_read_error_ends_the_turn_through_paho(monkeypatch: pytest.MonkeyPatch) -> None:
    client, calls = _client(monkeypatch, [MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_CONN_LOST])
    handled: list[MQTTErrorCode] = []
    monkeypatch.setattr(client, "_loop_rc_handle", lambda rc: handled.append(rc) or rc)
    assert client.loop_read() == MQTTErrorCode.MQTT_ERR_CONN_LOST
    assert len(calls) == 2 and handled == [MQTTErrorCode.MQTT_ERR_CONN_LOST]


def test_no_socket_no_read(monkeypatch: pytest.MonkeyPatch) -> None:
    client, calls = _client(monkeypatch, [])
    monkeypatch.setattr(client, "_sock", None)
    assert client.loop_read() == MQTTErrorCode.MQTT_ERR_NO_CONN
    assert calls == []
