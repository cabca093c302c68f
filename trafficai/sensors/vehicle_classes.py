"""The five vehicle classes cameras tell apart (car, van, truck, bus, motorcycle) and which class a
simulated vehicle is: read from its type name when that says what it is (``bus``, ``truck`` ...),
otherwise drawn from a stable hash of its id with a fixed fleet mix, so the same vehicle is always
the same class — for the renderer (``vision.scene``) and the perfect cameras
(``sensors.camera_truth``) alike."""

from __future__ import annotations

import zlib

CLASS_NAMES: tuple[str, ...] = ("car", "van", "truck", "bus", "motorcycle")
CAR, VAN, TRUCK, BUS, MOTORCYCLE = range(5)

# fleet mix (percent) for vehicles whose type name says nothing: urban counts are ~85 % cars
FLEET_MIX: tuple[tuple[int, int], ...] = ((CAR, 78), (VAN, 9), (TRUCK, 5), (BUS, 4), (MOTORCYCLE, 4))
TYPE_WORDS: tuple[tuple[str, int], ...] = (
    ("moto", MOTORCYCLE),
    ("bike", MOTORCYCLE),
    ("bus", BUS),
    ("coach", BUS),
    ("truck", TRUCK),
    ("trailer", TRUCK),
    ("lorry", TRUCK),
    ("hgv", TRUCK),
    ("van", VAN),
    ("delivery", VAN),
)


def stable_hash(vehicle_id: str, salt: str) -> int:
    return zlib.crc32(f"{salt}:{vehicle_id}".encode())


def vehicle_class(vehicle_id: str, type_name: str = "") -> int:
    """The class (index into :data:`CLASS_NAMES`) of a vehicle."""
    lowered = type_name.lower()
    for word, cls in TYPE_WORDS:
        if word in lowered:
            return cls
    roll = stable_hash(vehicle_id, "class") % 100
    for cls, percent in FLEET_MIX:
        if roll < percent:
            return cls
        roll -= percent
    return CAR
