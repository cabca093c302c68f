"""``python -m trafficai.cli``: the same as the ``trafficai`` command."""

from __future__ import annotations

from trafficai.cli.entry import main

if __name__ == "__main__":
    main()
