from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from trafficai.storage.paths import DATA_DIR_ENV, default_data_dir, default_store_path


def test_env_var_overrides_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    assert default_data_dir() == tmp_path / "data"
    assert default_store_path() == tmp_path / "data" / "runs.sqlite"


def test_without_env_var_uses_platform_user_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    assert default_data_dir() == Path(platformdirs.user_data_dir("trafficai"))


def test_blank_env_var_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, "  ")
    assert default_data_dir() == Path(platformdirs.user_data_dir("trafficai"))
