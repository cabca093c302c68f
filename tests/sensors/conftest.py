"""Fixtures of the sensors tests."""

from __future__ import annotations

import pytest

from trafficai.core.geometry import NetGeometry

from .fakes import cross_geometry


@pytest.fixture
def geometry() -> NetGeometry:
    return cross_geometry()
