"""Shared fixtures. Qt tests set QT_QPA_PLATFORM themselves; default it here too, before any import."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own run store and no user config."""
    data = tmp_path / "trafficai-data"
    monkeypatch.setenv("TRAFFICAI_DATA_DIR", str(data))
    monkeypatch.setenv("TRAFFICAI_CONFIG", str(tmp_path / "no-config.toml"))
    return data


@pytest.fixture
def tiny() -> str:
    return str(DATA / "tiny" / "scenario.toml")


@pytest.fixture
def grid2x2() -> str:
    return str(DATA / "grid2x2" / "scenario.toml")
