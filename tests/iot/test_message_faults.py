"""Transport faults on device messages (seeded, one fate per message) and the heartbeat watch."""

from __future__ import annotations

from trafficai.config import parse_fault
from trafficai.iot.devices import Device, DeviceBin
from trafficai.iot.message_faults import HeartbeatWatch, MessageFaults

DEVICES = {
    "e1.d0": Device("e1.d0", "e1", "d0", "l0", "", 0.0, 0.0),
    "e1.d1": Device("e1.d1", "e1", "d1", "l1", "", 0.0, 0.0),
}


def _bins(seq: int) -> list[DeviceBin]:
    return [DeviceBin(d, seq, 0.0, 30.0, {"count": 1.0}) for d in DEVICES]


def test_each_fault_kind_acts_on_its_device_only() -> None:
    specs = ["d0:dropout@0", "d0:latency@0:60", "d0:clock-skew@0:120", "d0:heartbeat-loss@0"]
    outcomes = []
    for spec in specs:
        faults = MessageFaults([parse_fault(spec)], seed=1, begin_s=0.0)
        send, silent = faults.route(_bins(1), DEVICES, now_s=30.0)
        outcomes.append(([(b.device, b.t_end) for b in send], silent, len(faults.late)))
    assert outcomes == [
        ([("e1.d1", 30.0)], {"e1.d0"}, 0),
        ([("e1.d1", 30.0)], set(), 1),
        ([("e1.d0", 150.0), ("e1.d1", 30.0)], set(), 0),
        ([("e1.d0", 30.0), ("e1.d1", 30.0)], {"e1.d0"}, 0),
    ]
    late = MessageFaults([parse_fault("d0:latency@0:60")], seed=1, begin_s=0.0)
    late.route(_bins(1), DEVICES, now_s=30.0)
    assert late.due(60.0) == [] and [b.device for b in late.due(90.0)] == ["e1.d0"]


def test_packet_loss_is_seeded_and_drops_about_its_share() -> None:
    def lost(seed: int) -> list[int]:
        faults = MessageFaults([parse_fault("d0:packet-loss@0:0.3")], seed=seed, begin_s=0.0)
        return [
            s
            for s in range(1, 201)
            if all(b.device != "e1.d0" for b in faults.route(_bins(s), DEVICES, 30.0)[0])
        ]

    assert lost(4) == lost(4) and lost(4) != lost(5)
    assert 40 <= len(lost(4)) <= 80


def test_the_watch_reports_a_silent_device_once_and_its_return() -> None:
    watch = HeartbeatWatch(period_s=30.0)
    assert watch.check({"e1.d0": 0.0}, 90.0) == []  # three periods: not yet
    first = watch.check({"e1.d0": 0.0}, 91.0)
    assert [(e.severity, e.object_id) for e in first] == [("warning", "e1.d0")]
    assert watch.check({"e1.d0": 0.0}, 200.0) == []  # once per silence
    assert [e.severity for e in watch.check({"e1.d0": 210.0}, 210.0)] == ["info"]
