"""IRIS's four operator levels, ordered: each level may do everything the levels below it may."""

from __future__ import annotations

from enum import IntEnum

from trafficai.errors import AccessError


class Role(IntEnum):
    VIEW = 1  # watch: the map, panels, KPIs; play, pause, step
    OPERATE = 2  # act on the street: signal overrides, incidents, acknowledgements, time jumps
    MANAGE = 3  # change how the network is run: controllers, demand, detector service marks
    CONFIGURE = 4  # change the system: users, roles, device revocation, settings

    @property
    def label(self) -> str:
        return self.name.lower()


ROLE_NAMES = tuple(r.label for r in Role)


def parse_role(name: str) -> Role:
    """``view`` | ``operate`` | ``manage`` | ``configure`` (any case); else one line naming them."""
    try:
        return Role[name.strip().upper()]
    except KeyError:
        raise AccessError(f"unknown role {name!r}: use one of {', '.join(ROLE_NAMES)}") from None
