"""Option values that Typer has no type for: comma-separated lists."""

from __future__ import annotations

from trafficai.errors import ConfigError


def csv_values(value: str | None) -> tuple[str, ...]:
    """``"a, b,,c"`` -> ``("a", "b", "c")``; ``None`` or empty -> ``()``."""
    return tuple(v.strip() for v in value.split(",") if v.strip()) if value else ()


def int_values(value: str | None, what: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in csv_values(value))
    except ValueError:
        raise ConfigError(f"{what}: expected comma-separated integers, got {value!r}") from None
