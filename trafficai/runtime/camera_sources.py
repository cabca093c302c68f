"""The camera devices' source of a run (``--cameras truth|vision``, ``[iot] cameras``) and where
its cameras stand (``--camera-placement manifest|auto``).

``manifest``: the scenario's ``[[cameras]]``; ``auto``: one approach camera per approach of every
signalised junction that sees the approach's whole stop line (``vision.placement``, a pure function
of the net: works on any ``.sumocfg``). ``truth``: perfect cameras (``sensors.camera_truth``);
``vision``: the perception pipeline of ``vision.loop_cameras`` (box projector or renderer ->
detector -> ground-plane tracker -> ``LineCounter`` -> turning movements and queues; a crossing's
movement is ``vision.turning.Movements.of_crossing`` on the track's last motion, so it is counted
when its track is lost or ``DECIDE_AFTER_S`` after it crossed, in that bin), configured by
the same ``observe.camera_*`` settings as the observation cameras of ``--observe cameras``. Built
here so that neither ``sensors`` nor ``iot`` imports ``vision``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from trafficai.config import ObserveSection
from trafficai.core.geometry import NetGeometry
from trafficai.core.scenario import Scenario
from trafficai.core.snapshot import Snapshot
from trafficai.errors import ConfigError
from trafficai.extras import require_extra
from trafficai.sensors.camera_source import (
    CameraCoverage,
    CameraReadingSource,
    CameraTally,
    close_all,
    coverage_of,
    junction_exits,
)
from trafficai.sensors.camera_truth import TruthCameraSource
from trafficai.sensors.cameras import CameraSpec

if TYPE_CHECKING:
    from trafficai.vision.pipeline import CameraReading

CAMERA_SOURCES = ("truth", "vision")
CAMERA_PLACEMENTS = ("manifest", "auto")
VISION_FIRMWARE = "trafficai-vision-camera-1"
MOVING_MPS = 1.0  # a track slower than this has no heading for the turning classification
DECIDE_AFTER_S = 10.0  # a crossing's movement is decided when its track is lost, or this long after


def placed_cameras(scenario: Scenario, geometry: NetGeometry, placement: str) -> tuple[CameraSpec, ...]:
    """The cameras of ``placement``; a ConfigError naming the fix when there are none."""
    if placement not in CAMERA_PLACEMENTS:
        raise ConfigError(
            f"--camera-placement: expected one of {', '.join(CAMERA_PLACEMENTS)}, got {placement!r}"
        )
    if placement == "manifest":
        cameras = tuple(CameraSpec.from_section(c) for c in scenario.cameras)
        if not cameras:
            raise ConfigError(
                f"scenario {scenario.name} has no [[cameras]]; use --camera-placement auto to place them"
            )
        return cameras
    from trafficai.vision.counting import camera_lines
    from trafficai.vision.placement import auto_cameras

    cameras = tuple(c for c in auto_cameras(geometry) if camera_lines(geometry, c))
    if not cameras:
        raise ConfigError(f"scenario {scenario.name}: no signalised approach to place a camera over")
    return cameras


def make_camera_source(
    kind: str,
    cameras: Sequence[CameraSpec],
    geometry: NetGeometry,
    observe: ObserveSection,
    step_length_s: float,
    seed: int,
) -> CameraReadingSource:
    """The ``kind`` source over ``cameras`` (``vision`` needs the vision extra)."""
    if kind == "truth":
        return TruthCameraSource(cameras, geometry)
    if kind != "vision":
        raise ConfigError(f"--cameras: expected one of {', '.join(CAMERA_SOURCES)}, got {kind!r}")
    require_extra("vision", ("cv2", "lap"))
    from trafficai.runtime.observe import loop_camera_settings

    return VisionCameraSource(cameras, geometry, step_length_s, loop_camera_settings(observe, seed))


class VisionCameraSource:
    """Camera devices fed by the perception pipeline, every simulation step (``every_step``)."""

    name = "vision"
    firmware = VISION_FIRMWARE
    every_step = True  # the tracker needs frames closer than the sampling cadence

    def __init__(
        self, cameras: Sequence[CameraSpec], geometry: NetGeometry, step_length_s: float, settings: Any
    ) -> None:
        from trafficai.vision.loop_cameras import VisionCameras
        from trafficai.vision.turning import Movements

        self.engine = VisionCameras(
            geometry, step_length_s, settings, cameras=cameras, on_reading=self._reading
        )
        self.cameras = self.engine.cameras_spec
        self.movements = Movements(geometry)
        self.lane_edge = dict(zip(geometry.lanes.ids, geometry.lanes.edges, strict=True))
        self._lines = {c.spec.id: {line.name: line for line in c.pipeline.lines} for c in self.engine.cameras}
        self._coverage: dict[str, CameraCoverage] = {}
        self._exit: dict[str, dict[tuple[str, str], str]] = {}
        for spec in self.cameras:
            cover = coverage_of(geometry, spec.junction, self._lines[spec.id])
            self._coverage[spec.id] = cover
            exits = junction_exits(geometry, spec.junction)
            by_move: dict[tuple[str, str], str] = {}
            for approach in cover.approaches:  # (approach, movement) -> exit edge, first by id
                for exit_edge in exits.get(approach, ()):
                    move = self.movements.of_exit(approach, exit_edge)
                    if move is not None:
                        by_move.setdefault((approach, move), exit_edge)
            self._exit[spec.id] = by_move
        self._tallies = {c.id: CameraTally(self._coverage[c.id]) for c in self.cameras}
        # per camera: crossings waiting for their movement (track -> line, lane, time), and each
        # track's last velocity and class
        self._pending: dict[str, dict[int, tuple[str, int, float]]] = {c.id: {} for c in self.cameras}
        self._motion: dict[str, dict[int, tuple[float, float, int]]] = {c.id: {} for c in self.cameras}

    def coverage(self, camera: str) -> CameraCoverage:
        return self._coverage[camera]

    def sample(self, snapshot: Snapshot) -> None:
        self.engine.frames(snapshot)

    def _reading(self, camera: str, reading: CameraReading) -> None:
        tally, lines = self._tallies[camera], self._lines[camera]
        pending, motion = self._pending[camera], self._motion[camera]
        for track in reading.tracks:
            motion[track.id] = (float(track.velocity[0]), float(track.velocity[1]), int(track.cls))
        for crossing in reading.crossings:
            pending[crossing.track_id] = (crossing.line, crossing.lane, crossing.time_s)
        seen = {t.id for t in reading.tracks}
        for track_id, (line_name, lane, at) in list(pending.items()):
            if track_id in seen and reading.time_s - at < DECIDE_AFTER_S:
                continue  # its turn shows in its motion past the line: wait until it is lost
            del pending[track_id]
            self._count(camera, lines[line_name], lane, motion.get(track_id, (0.0, 0.0, 0)))
        for track_id in [t for t in motion if t not in seen and t not in pending]:
            del motion[track_id]
        for (name, _lane), metres in reading.queues_m.items():
            tally.queue(name, metres)
        for lane_id, stats in reading.lanes.items():
            if stats.mean_speed_mps is not None and stats.vehicles:
                edge = self.lane_edge.get(lane_id, "")
                tally.speeds(edge, stats.mean_speed_mps * stats.vehicles, stats.vehicles)

    def _count(self, camera: str, line: Any, lane: int, motion: tuple[float, float, int]) -> None:
        """One crossing, its movement from the track's last motion (as ``vision evaluate`` does)."""
        from trafficai.vision.turning import signed_angle

        vx, vy, cls = motion
        moving = float(np.hypot(vx, vy)) >= MOVING_MPS
        heading = signed_angle(line.direction, (vx, vy)) if moving else None
        move = self.movements.of_crossing(line.lanes[lane], heading)
        exit_edge = self._exit[camera].get((line.name, move)) if move is not None else None
        self._tallies[camera].crossing(line.name, exit_edge, cls)

    def close(self) -> dict[str, dict[str, float]]:
        """The bins of the cameras that are up (an offline camera publishes none)."""
        out = close_all(self._tallies)
        return {c: v for c, v in out.items() if c not in self.engine.offline}
