"""Entry point of the desktop bundle: the ``trafficai`` command line, opening the control center by default.

``trafficai gui city --screenshot out.png`` and every other command work as with the pip install;
started without arguments (from the desktop entry, a file manager) it runs ``trafficai gui`` on the
default scenario.

Inside the bundle (``sys.frozen``) everything points at the bundle's own copies: the scenario
library (``$TRAFFICAI_SCENARIOS``, unless the user set it) and SUMO (``$SUMO_HOME`` and the PROJ data
that belong to the bundled SUMO build, so a system SUMO on the machine is never mixed in).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from pathlib import Path


def bundle_root() -> Path | None:
    """The bundle's data folder (``sys._MEIPASS``: ``_internal/`` next to the executable), or None
    when running from source."""
    if not getattr(sys, "frozen", False):
        return None
    return Path(getattr(sys, "_MEIPASS", Path(sys.executable).resolve().parent))


def use_bundled_data(root: Path) -> None:
    os.environ.setdefault("TRAFFICAI_SCENARIOS", str(root / "scenarios"))
    sumo_home = root / "sumo"  # the `sumo` package's folder: sumo.SUMO_HOME resolves to it as well
    os.environ["SUMO_HOME"] = str(sumo_home)
    proj = str(sumo_home / "data" / "proj")
    os.environ["PROJ_LIB"] = proj
    os.environ["PROJ_DATA"] = proj


def main() -> None:
    # The simulation worker is a `spawn` process: in the bundle it is this executable started again,
    # and freeze_support() turns that start into the worker (and exits) before anything else runs.
    multiprocessing.freeze_support()
    root = bundle_root()
    if root is not None:
        use_bundled_data(root)
    if len(sys.argv) == 1:
        sys.argv.append("gui")
    from trafficai.cli import main as trafficai_main

    trafficai_main()


if __name__ == "__main__":
    main()
