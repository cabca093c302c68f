"""Is the process that is writing a run still alive?"""

from __future__ import annotations

import os
import socket
import sys


def this_host() -> str:
    return socket.gethostname()


def writer_is_gone(host: str, pid: int) -> bool:
    """True only when we can tell for sure: same host, and no process with that pid.

    On another host (shared data dir) or on Windows we cannot tell, so the run counts as alive.
    A reused pid makes a dead run look alive; that errs on the safe side (never hides a live run).
    """
    if host != this_host() or pid <= 0:
        return False
    if sys.platform == "win32":
        # os.kill(pid, 0) on Windows sends CTRL_C_EVENT, it does not probe.
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, owned by another user
        return False
    return False
