"""Option values that Typer has no type for: comma-separated lists, incident specs."""

from __future__ import annotations

from typing import Any

from trafficai.errors import ConfigError


def csv_values(value: str | None) -> tuple[str, ...]:
    """``"a, b,,c"`` -> ``("a", "b", "c")``; ``None`` or empty -> ``()``."""
    return tuple(v.strip() for v in value.split(",") if v.strip()) if value else ()


def choice_values(value: str | None, what: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """Comma-separated names, each one of ``allowed`` and at least one; else one ConfigError line."""
    chosen = csv_values(value)
    unknown = [v for v in chosen if v not in allowed]
    if unknown or not chosen:
        raise ConfigError(
            f"{what}: unknown {', '.join(unknown) or '(none)'}; choose from {', '.join(allowed)}"
        )
    return chosen


def int_values(value: str | None, what: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in csv_values(value))
    except ValueError:
        raise ConfigError(f"{what}: expected comma-separated integers, got {value!r}") from None


INCIDENT_HELP = (
    "Scripted incident KIND:TARGET@T[+DURATION], KIND close-lane, close-edge or block-lane; T and "
    "DURATION in seconds from the scenario's begin (or M:SS, H:MM:SS), e.g. close-lane:177_0@600+900. "
    "Repeatable; added to the scenario's [[incidents]]"
)


def incident_values(values: list[str] | None) -> list[dict[str, Any]] | None:
    """``--incident`` values as config dicts (None when there are none); a bad one is a ConfigError."""
    from trafficai.config import parse_incident

    if not values:
        return None
    return [parse_incident(value).model_dump() for value in values]


FAULT_HELP = (
    "Injected device fault DEVICE:KIND@T[+DURATION][:PARAM] (seconds from the scenario's begin), KIND "
    "stuck-on, stuck-off, noise, bias, chatter, frozen, spoofing, dropout, latency, packet-loss, "
    "clock-skew or heartbeat-loss, e.g. e1_N_in_0:stuck-on@600+900. Repeatable; added to the "
    "scenario's [[faults]]; recorded with the run as ground truth"
)


def fault_values(values: list[str] | None) -> list[dict[str, Any]] | None:
    """``--fault`` values as config dicts (None when there are none); a bad one is a ConfigError."""
    from trafficai.config import parse_fault

    if not values:
        return None
    return [parse_fault(value).model_dump() for value in values]
