"""The sweep summary as a PNG: mean delay per configuration with one-standard-deviation bars,
ranked best first (matplotlib, from the ``rl`` extra; without it the sweep skips the chart)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trafficai.extras import is_installed

MAX_LABEL_CHARS = 60


def can_draw() -> bool:
    return is_installed("matplotlib")


def write_summary_chart(rows: Sequence[dict[str, Any]], path: Path, title: str) -> Path:
    """Horizontal bars of ``rows`` (:func:`~trafficai.scale.results.summarize`' output, ranked), the
    best at the top; a configuration with failed runs is hatched and says how many failed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drawn = [r for r in rows if r["mean_delay_s"] is not None]
    labels = [_label(r) for r in drawn]
    means = [float(r["mean_delay_s"]) for r in drawn]
    stds = [float(r["mean_delay_s_std"]) for r in drawn]
    fig, ax = plt.subplots(figsize=(9.0, max(2.5, 0.32 * len(drawn) + 1.2)), dpi=110)
    bars = ax.barh(range(len(drawn)), means, xerr=stds, capsize=3, color="#7570b3")
    for bar, row in zip(bars, drawn, strict=True):
        if row["failed"]:
            bar.set_hatch("//")
            bar.set_color("#d95f02")
    ax.set_yticks(range(len(drawn)), labels, fontsize=7)
    ax.invert_yaxis()  # rank 1 on top
    ax.set_xlabel("mean delay (s/veh), mean ± std over seeds")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def _label(row: dict[str, Any]) -> str:
    text = f"{row['rank']}. {row['configuration']}"
    if len(text) > MAX_LABEL_CHARS:
        text = text[: MAX_LABEL_CHARS - 1] + "…"
    return text + (f" ({row['failed']} failed)" if row["failed"] else "")
