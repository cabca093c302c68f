"""Draw the trafficai icon: a signal head showing green over a road, on the control center's dark ground.

One drawing, two files: ``icon.svg`` is written from the geometry below, and ``icon.png`` (256x256) is
that SVG painted with QPainter (Qt's SVG renderer), so the two always match. The PNG is also copied
to ``assets/icons/trafficai.png``, the window icon the control center loads (``trafficai/gui/app.py``).

    .venv/bin/python packaging/make_icon.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SIZE = 256

# Colours from the control center's theme (trafficai/gui/theme.py) and its signal-state colours.
GROUND_TOP = "#262b35"
GROUND_BOTTOM = "#15171b"
ROAD = "#3a3f4a"
ROAD_EDGE = "#8a919e"
LANE_MARK = "#e6e8ec"
HOUSING = "#0d0f12"
HOUSING_EDGE = "#3a404b"
RED_OFF = "#4d1c1f"
AMBER_OFF = "#4d3b14"
GREEN_ON = "#3ddc84"


def svg() -> str:
    """The icon as SVG (Tiny 1.2 features only, so Qt's renderer draws it exactly)."""
    lamp_x, lamps_y, radius = 128, (78, 128, 178), 25
    dashes = "".join(
        f'<rect x="{x}" y="163" width="14" height="6" rx="2" fill="{LANE_MARK}"/>' for x in range(16, 248, 26)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" version="1.2" baseProfile="tiny" width="{SIZE}" height="{SIZE}"
     viewBox="0 0 {SIZE} {SIZE}">
  <title>trafficai</title>
  <defs>
    <linearGradient id="ground" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="{GROUND_TOP}"/>
      <stop offset="1" stop-color="{GROUND_BOTTOM}"/>
    </linearGradient>
    <radialGradient id="glow" cx="0.5" cy="0.5" r="0.5">
      <stop offset="0" stop-color="{GREEN_ON}" stop-opacity="0.65"/>
      <stop offset="0.55" stop-color="{GREEN_ON}" stop-opacity="0.22"/>
      <stop offset="1" stop-color="{GREEN_ON}" stop-opacity="0"/>
    </radialGradient>
    <radialGradient id="lit" cx="0.42" cy="0.38" r="0.62">
      <stop offset="0" stop-color="#d9ffe9"/>
      <stop offset="0.35" stop-color="{GREEN_ON}"/>
      <stop offset="1" stop-color="#1f9e58"/>
    </radialGradient>
  </defs>
  <rect x="8" y="8" width="240" height="240" rx="48" fill="url(#ground)" stroke="#4ea1ff"
        stroke-opacity="0.55" stroke-width="3"/>
  <rect x="9" y="140" width="238" height="52" fill="{ROAD}"/>
  <rect x="9" y="140" width="238" height="3" fill="{ROAD_EDGE}"/>
  <rect x="9" y="189" width="238" height="3" fill="{ROAD_EDGE}"/>
  {dashes}
  <rect x="96" y="212" width="64" height="14" rx="5" fill="{HOUSING}" stroke="{HOUSING_EDGE}"
        stroke-width="3"/>
  <rect x="84" y="26" width="88" height="184" rx="30" fill="{HOUSING}" stroke="{HOUSING_EDGE}"
        stroke-width="4"/>
  <circle cx="{lamp_x}" cy="{lamps_y[0]}" r="{radius}" fill="{RED_OFF}"/>
  <circle cx="{lamp_x}" cy="{lamps_y[1]}" r="{radius}" fill="{AMBER_OFF}"/>
  <circle cx="{lamp_x}" cy="{lamps_y[2]}" r="{radius + 30}" fill="url(#glow)"/>
  <circle cx="{lamp_x}" cy="{lamps_y[2]}" r="{radius}" fill="url(#lit)"/>
  <ellipse cx="{lamp_x - 8}" cy="{lamps_y[2] - 10}" rx="9" ry="5" fill="#ffffff" fill-opacity="0.55"/>
</svg>
"""


def render_png(svg_text: str, target: Path) -> None:
    """Paint the SVG into a transparent 256x256 image with QPainter and save it as PNG."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QByteArray, QRectF
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(QByteArray(svg_text.encode()))
    if not renderer.isValid():
        raise SystemExit("make_icon: Qt could not parse the generated SVG")
    image = QImage(SIZE, SIZE, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, SIZE, SIZE))
    painter.end()
    if not image.save(str(target), "PNG", 9):
        raise SystemExit(f"make_icon: could not write {target}")
    del app


def main() -> int:
    text = svg()
    (HERE / "icon.svg").write_text(text, encoding="utf-8")
    png = HERE / "icon.png"
    render_png(text, png)
    window_icon = ROOT / "assets" / "icons" / "trafficai.png"
    window_icon.parent.mkdir(parents=True, exist_ok=True)
    window_icon.write_bytes(png.read_bytes())
    for path in (HERE / "icon.svg", png, window_icon):
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size / 1024:.1f} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
