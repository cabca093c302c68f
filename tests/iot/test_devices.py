from __future__ import annotations

import re

from tests.iot.helpers import devices
from trafficai.iot.devices import DeviceBinner, device_id, escape_id
from trafficai.iot.topics import DEVICE_SUBSCRIPTION, device_topic, parse_device_topic, topic_matches


def test_ids_are_one_topic_level_and_injective() -> None:
    raw = ["a/b", "a-2fb", "a+b", "a#", "ü", "a b", "plain_1.x"]
    ids = [device_id("e1", r) for r in raw]
    assert len(set(ids)) == len(raw)
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-]+", i) for i in ids)
    assert escape_id("plain_1.x") == "plain_1.x"
    assert escape_id("a/b") == "a-2fb" and escape_id("a-2fb") == "a-2d2fb"


def test_topics_parse_and_match() -> None:
    topic = device_topic("e1.d0", "bins")
    assert parse_device_topic(topic) == ("e1.d0", "bins")
    assert parse_device_topic("trafficai/v1/devices/e1.d0/other") is None
    assert parse_device_topic("trafficai/v1/devices//bins") is None
    assert topic_matches(DEVICE_SUBSCRIPTION, topic)
    assert topic_matches("trafficai/#", topic) and not topic_matches("#", "$SYS/broker/uptime")
    assert not topic_matches("trafficai/v1/acks/+", topic)


def test_binner_numbers_each_device_from_one_and_resumes() -> None:
    binner = DeviceBinner(devices(2))
    first = binner.cut({"d0": {"count": 1.0}, "d1": {"count": 2.0}}, 0.0, 30.0)
    second = binner.cut({"d0": {"count": 3.0}}, 30.0, 60.0)
    assert [(b.device, b.seq) for b in first + second] == [("e1.d0", 1), ("e1.d1", 1), ("e1.d0", 2)]
    again = DeviceBinner(devices(2))
    again.resume({"e1.d0": 2})
    assert again.cut({"d0": {"count": 1.0}}, 60.0, 90.0)[0].seq == 3
