"""Who runs this process when no one logs in: ``$TRAFFICAI_USER``, else the OS user."""

from __future__ import annotations

import getpass
import os


def os_user() -> str:
    name = os.environ.get("TRAFFICAI_USER", "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"
