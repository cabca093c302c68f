"""The ``trafficai`` command line: one module per command group, one place that turns errors into exits.

- :mod:`.runs`: ``run``, ``scenarios``, ``runs``, ``compare``, ``export`` (headless runs and the store)
- :mod:`.gui`: ``gui`` (the control center)
- :mod:`.rl`: ``train``, ``evaluate``
- :mod:`.bench`: ``bench sim``, ``bench rl``, ``bench gui``
- :mod:`.app`: the Typer tree and the global options; :mod:`.entry`: :func:`main`

Heavy libraries (Qt, torch, stable-baselines3, SUMO) are imported inside the commands, so importing
this package or asking for ``--help`` loads none of them.
"""

from __future__ import annotations

from trafficai.cli.entry import main

__all__ = ["main"]
