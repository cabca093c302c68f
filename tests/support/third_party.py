"""A SUMO configuration nobody here wrote: built at test time by SUMO's own tools (netgenerate and
randomTrips.py from the eclipse-sumo wheel), the way a third party would make one.

A random town (33 signals, 1-3 lanes per edge, turn lanes, sidewalks, bike lanes), routed cars with
``departLane="best"``, and unrouted truck trips (SUMO routes them as they depart) on random lanes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from trafficai.sim.sumo_command import sumo_binary, sumo_home

SUMOCFG = """<?xml version="1.0" encoding="UTF-8"?>
<configuration>
    <input>
        <net-file value="town.net.xml"/>
        <route-files value="cars.rou.xml,trucks.trips.xml"/>
    </input>
    <time>
        <begin value="0"/>
        <end value="900"/>
    </time>
    <processing>
        <time-to-teleport value="200"/>
    </processing>
    <report>
        <no-step-log value="true"/>
    </report>
</configuration>
"""


def _run(*args: str, cwd: Path) -> None:
    env = {"SUMO_HOME": str(sumo_home()), "PATH": str(sumo_binary("sumo").parent)}
    subprocess.run(args, cwd=cwd, env=env, check=True, capture_output=True, timeout=120)


def build_third_party(folder: Path) -> Path:
    """Write the net, the demand and ``town.sumocfg`` into ``folder``; the config's path."""
    folder.mkdir(parents=True, exist_ok=True)
    random_trips = str(sumo_home() / "tools" / "randomTrips.py")
    _run(
        str(sumo_binary("netgenerate")),
        *("--rand", "--rand.iterations", "60", "--seed", "11", "--rand.random-lanenumber"),
        *("--default.lanenumber", "2", "--tls.guess", "--sidewalks.guess", "--bikelanes.guess"),
        *("--turn-lanes", "1", "-o", "town.net.xml"),
        cwd=folder,
    )
    _run(
        sys.executable,
        random_trips,
        *("-n", "town.net.xml", "-o", "cars.trips.xml", "-r", "cars.rou.xml", "-e", "900"),
        *("-p", "1.2", "--fringe-factor", "5", "--seed", "3", "--validate"),
        *("--trip-attributes", 'departLane="best" departSpeed="max"'),
        cwd=folder,
    )
    _run(
        sys.executable,
        random_trips,
        *("-n", "town.net.xml", "-o", "trucks.trips.xml", "-e", "900", "-p", "9", "--seed", "4"),
        *("--vehicle-class", "truck", "--prefix", "t", "--trip-attributes", 'departLane="random"'),
        cwd=folder,
    )
    config = folder / "town.sumocfg"
    config.write_text(SUMOCFG, encoding="utf-8")
    return config
