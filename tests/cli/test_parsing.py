"""Comma-separated option values: names checked against their choices, integers parsed."""

from __future__ import annotations

import pytest

from trafficai.cli.parsing import choice_values, csv_values, int_values
from trafficai.errors import ConfigError


def test_csv_values_drops_blanks_and_spaces() -> None:
    assert csv_values(" a, b,,c ") == ("a", "b", "c")
    assert csv_values(None) == ()


def test_choice_values_keeps_order_of_known_names() -> None:
    assert choice_values("val, test", "--splits", ("train", "val", "test")) == ("val", "test")


@pytest.mark.parametrize(
    ("value", "named"), [("val,tset", "unknown tset"), ("", "unknown (none)"), (" , ", "unknown (none)")]
)
def test_choice_values_names_the_bad_value_and_the_choices(value: str, named: str) -> None:
    with pytest.raises(ConfigError) as raised:
        choice_values(value, "--splits", ("train", "val", "test"))
    message = str(raised.value)
    assert message.startswith("--splits:") and named in message
    assert "choose from train, val, test" in message


def test_int_values_rejects_a_non_integer() -> None:
    assert int_values("1, 2,3", "--seeds") == (1, 2, 3)
    with pytest.raises(ConfigError, match="--seeds: expected comma-separated integers"):
        int_values("1,x", "--seeds")
