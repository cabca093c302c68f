"""Where trafficai keeps its data on this machine."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

DATA_DIR_ENV = "TRAFFICAI_DATA_DIR"
STORE_FILE_NAME = "runs.sqlite"


def default_data_dir() -> Path:
    """``$TRAFFICAI_DATA_DIR`` if set (tests, portable installs), else the per-user data directory."""
    override = os.environ.get(DATA_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir("trafficai"))


def default_store_path() -> Path:
    """The run store every command uses unless told otherwise."""
    return default_data_dir() / STORE_FILE_NAME
