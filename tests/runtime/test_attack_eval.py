"""``iot attack`` on the tiny network: the inflating lie costs delay undefended, little defended."""

from __future__ import annotations

from trafficai.runtime.attack_eval import SCALE_FACTOR, attack_faults, evaluate


def test_attack_on_tiny_is_bounded_by_the_defences(tiny: str) -> None:
    result = evaluate(tiny, (0,), end_s=600.0, strategies=("inflate", "hide"), workers=2)
    data = result.as_json()
    assert data["strongest_strategy"] == "inflate"
    assert data["undefended_delay_increase"] > 0.2  # the lie pulls green to an empty approach
    assert data["defended_delay_increase"] <= 0.1
    assert data["increase_by_strategy"]["healthy"]["defended"] == 0.0  # no false quarantine


def test_the_adaptive_attacker_scales_the_true_readings() -> None:
    faults = attack_faults(("a", "b"), "scale", 60.0)
    assert [(f.device, f.kind, f.param, f.at) for f in faults] == [
        ("a", "bias", SCALE_FACTOR, 60.0),
        ("b", "bias", SCALE_FACTOR, 60.0),
    ]
