"""Fixtures of the vision tests: the sensors' one-junction network and a camera on its north arm."""

from __future__ import annotations

import pytest

from tests.sensors.fakes import cross_geometry
from trafficai.core.geometry import NetGeometry
from trafficai.sensors.cameras import CameraSpec
from trafficai.vision.counting import CountLine, count_line
from trafficai.vision.placement import approach_camera, approaches


@pytest.fixture
def geometry() -> NetGeometry:
    return cross_geometry()


@pytest.fixture
def north_camera(geometry: NetGeometry) -> CameraSpec:
    """The approach camera of arm N (traffic drives south, from y = 100 to the stop line at y = 8)."""
    north = next(a for a in approaches(geometry, geometry.signals[0]) if a.edge == "N_in")
    return approach_camera(north)


@pytest.fixture
def north_line(geometry: NetGeometry) -> CountLine:
    north = next(a for a in approaches(geometry, geometry.signals[0]) if a.edge == "N_in")
    return count_line(geometry, north)
