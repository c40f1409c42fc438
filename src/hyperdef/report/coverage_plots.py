"""Coverage timeline: one row per sensor, bars where it holds the threat in coverage.

Drawn with matplotlib's object API (no pyplot) and written atomically, as
:mod:`hyperdef.report.plots`. Bars are the looks with detection probability >= 0.5
(:data:`hyperdef.sensors.coverage.TRACK_PD`); a diamond marks the first detection of
the observe run; the dashed line is impact.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from hyperdef.report import atomic_output, check_output_path

#: output resolution, dots per inch
DPI = 120

#: file formats written, chosen by the path's suffix
PLOT_SUFFIXES = (".png", ".svg", ".pdf")

_COLORS = {"radar": "tab:blue", "space_ir": "tab:red", "airborne": "tab:green"}


def plot_coverage(
    path: str | os.PathLike[str], rows: list[dict[str, Any]], flight_time_s: float, title: str = ""
) -> Path:
    """Draw the coverage timeline of :func:`~hyperdef.sensors.coverage.coverage_report`.

    Parameters
    ----------
    path : str or path-like
        Output file, ``.png``, ``.svg`` or ``.pdf``; written atomically.
    rows : list of dict
        The report's entries (``sensor_id``, ``kind``, ``intervals_s``,
        ``first_detection_s``), times from launch, s.
    flight_time_s : float
        Launch to impact, s.
    title : str
        Figure title.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    target = check_output_path(path, PLOT_SUFFIXES, "path")
    fig = Figure(figsize=(9.0, 1.0 + 0.55 * max(len(rows), 1)), layout="constrained")
    ax = fig.add_subplot()
    for y, row in enumerate(rows):
        spans = [(a, b - a) for a, b in row.get("intervals_s", [])]
        color = _COLORS.get(row["kind"], "tab:gray")
        if spans:
            ax.broken_barh(spans, (y - 0.3, 0.6), facecolors=color, alpha=0.8)
        if row.get("first_detection_s") is not None:
            ax.plot(row["first_detection_s"], y, marker="D", color="black", markersize=5)
    ax.axvline(flight_time_s, color="black", linestyle="--", linewidth=1.0)
    ax.set_yticks(range(len(rows)), [f"{r['sensor_id']} ({r['kind']})" for r in rows])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.invert_yaxis()
    ax.set_xlim(0.0, flight_time_s * 1.02)
    ax.set_xlabel(
        "time from launch, s (bars: Pd >= 0.5 per look; diamond: first detection; dashed: impact)"
    )
    ax.grid(axis="x", alpha=0.3)
    if title:
        ax.set_title(title)
    with atomic_output(target) as tmp:
        fig.savefig(tmp, format=target.suffix[1:].lower(), dpi=DPI)
    return target
