"""Scale-out on Ray: sweeps of headless runs as Ray tasks (the ``scale`` extra).

Ray is imported only here (import-linter forbids it elsewhere) and only inside the functions
that need it, so ``trafficai sweep --template`` and spec validation work without the extra.
"""
