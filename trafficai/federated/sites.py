"""Sites of federated training: a shipped scenario, a ``.sumocfg`` or a district of a larger network.

A site is written ``SOURCE[@DEMAND][#K/N]``:

* ``SOURCE``: a shipped scenario name, a scenario folder or a ``.sumocfg`` path;
* ``@DEMAND``: a demand multiplier (e.g. ``grid4x4@1.2``: the same streets, 20 % more traffic);
* ``#K/N``: district K of N (``city#1/2``): the network's controllable signals are sorted west to
  east by junction x and cut into N equal strips; the site's agent drives strip K only, and every
  other signal keeps its own program (the operator of one district of a city).

:func:`inspect_site` opens the site's network once (SUMO, no steps) and returns what the
comparison needs: the signals to drive, their most green stages, the detectors (for the cost of
shipping raw bins instead), and a refusal naming the site when it has no controllable signal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from trafficai.control.rl.episode import controllable_signals
from trafficai.core.scenario import resolve_scenario
from trafficai.core.signals import green_stages
from trafficai.errors import ConfigError, ScenarioError
from trafficai.sim.factory import open_backend
from trafficai.sim.sumo_command import SumoOptions

_SITE = re.compile(r"^(?P<source>[^@#]+)(?:@(?P<demand>[^#]+))?(?:#(?P<k>\d+)/(?P<n>\d+))?$")


@dataclass(frozen=True, slots=True)
class Site:
    text: str  # as the user wrote it: the site's name in reports
    source: str  # scenario name or absolute path
    demand_scale: float = 1.0
    district: tuple[int, int] | None = None  # (k, n), 1-based k


@dataclass(frozen=True, slots=True)
class SiteInfo:
    site: Site
    signals: tuple[str, ...]  # the signals its agent drives
    max_stages: int
    detectors: tuple[str, ...]  # E1 loops and E2 areas: what raw 30-s bins would come from
    begin_s: float
    end_s: float


def parse_site(text: str) -> Site:
    match = _SITE.match(text.strip())
    if match is None:
        raise ConfigError(f"site {text!r}: expected SCENARIO[@DEMAND][#K/N], e.g. grid4x4@1.2 or city#1/2")
    source = match["source"]
    path = Path(source).expanduser()
    if path.exists():
        source = str(path.resolve())  # Ray workers need not share the driver's cwd
    demand = 1.0
    if match["demand"] is not None:
        try:
            demand = float(match["demand"])
        except ValueError:
            raise ConfigError(f"site {text!r}: demand {match['demand']!r} is not a number") from None
        if not 0 < demand <= 20:
            raise ConfigError(f"site {text!r}: demand {demand:g} must be in (0, 20]")
    district = None
    if match["k"] is not None:
        k, n = int(match["k"]), int(match["n"])
        if not 1 <= k <= n:
            raise ConfigError(f"site {text!r}: district {k}/{n} must have 1 <= K <= N")
        district = (k, n)
    return Site(text=text.strip(), source=source, demand_scale=demand, district=district)


def district_signals(positions: dict[str, tuple[float, float]], k: int, n: int) -> tuple[str, ...]:
    """Strip ``k`` of ``n`` (1-based) of the signals sorted by x (then y, then id)."""
    order = sorted(positions, key=lambda s: (positions[s][0], positions[s][1], s))
    if n > len(order):
        raise ConfigError(f"{n} districts asked of a network with {len(order)} controllable signal(s)")
    start, stop = (k - 1) * len(order) // n, k * len(order) // n
    return tuple(order[start:stop])


def inspect_site(site: Site) -> SiteInfo:
    """Open the site's network (no simulation steps) and describe it; refuse a site without signals."""
    scenario = resolve_scenario(site.source)
    backend = open_backend(scenario, SumoOptions(seed=1, warnings=False), vehicles=False)
    try:
        geometry = backend.geometry
        controllable = controllable_signals(backend)
        if not controllable:
            what = "no traffic lights" if not geometry.signals else "no signal with two or more green stages"
            raise ScenarioError(
                f"site {site.text}: no controllable signal ({what} in {scenario.source}): "
                "nothing to train there"
            )
        signals = controllable
        if site.district is not None:
            positions = {s: geometry.signal(s).xy for s in controllable}
            try:
                signals = district_signals(positions, *site.district)
            except ConfigError as exc:
                raise ConfigError(f"site {site.text}: {exc}") from None
        stages = max(len(green_stages(geometry.signal(s).program)) for s in signals)
        detectors = (*geometry.e1.ids, *geometry.e2.ids)
        return SiteInfo(site, signals, stages, tuple(detectors), scenario.begin_s, scenario.end_s)
    finally:
        backend.close()
