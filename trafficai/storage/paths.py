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


USERS_FILE_NAME = "users.sqlite"
AUDIT_FILE_NAME = "audit.sqlite"
AUDIT_KEY_FILE_NAME = "audit_signing_key.pem"


def default_users_path() -> Path:
    """The operator accounts (multi-user mode is on when it holds any user)."""
    return default_data_dir() / USERS_FILE_NAME


def default_audit_path() -> Path:
    """The hash-chained audit log of operator actions, logins and configuration changes."""
    return default_data_dir() / AUDIT_FILE_NAME


def default_audit_key_path() -> Path:
    """The Ed25519 key that signs the audit log's checkpoints (created on first use, mode 0600)."""
    return default_data_dir() / AUDIT_KEY_FILE_NAME
