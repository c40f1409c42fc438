"""Figures of threat trajectories.

Drawn with matplotlib's object API (:class:`matplotlib.figure.Figure`, no pyplot), so no
display, global state or backend selection is involved; files are rendered by Agg.
Degrees and kilometres appear here only, at the edge (DESIGN.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from hyperdef.errors import InputError
from hyperdef.report import atomic_output, check_output_path
from hyperdef.threats.trajectory import PHASES, Trajectory

#: colour of each flight phase, the same in every figure
PHASE_COLORS = {
    "boost": "tab:red",
    "coast": "tab:purple",
    "pullout": "tab:orange",
    "glide": "tab:blue",
    "dive": "tab:green",
    "cruise": "tab:cyan",
    "reentry": "tab:brown",
}

#: altitude band shaded in the profile, km: above most endo-atmospheric air defence and
#: below exo-atmospheric interceptors, where glide vehicles and cruise missiles spend
#: most of their flight
GLIDE_BAND_KM = (25.0, 60.0)

#: output resolution, dots per inch
DPI = 120

#: file formats plot_trajectory writes, chosen by the path's suffix
PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def plot_trajectory(trajectory: Trajectory, path: str | os.PathLike[str],
                    title: str | None = None) -> Path:
    """Draw the altitude profile and ground track of every object and save the figure.

    Left panel: altitude (km) against downrange from the object's own launch point
    (km, along the ellipsoid), coloured by flight phase, with the 25-60 km band shaded.
    Right panel: ground track, longitude and latitude (deg), coloured the same way,
    with launch, aim and final (impact) points marked. Longitudes are unwrapped, so a
    track across the date line (Kauai to Kwajalein) is one continuous line; tick labels
    read in degrees east or west. Each object is one line; a batch shares one legend,
    drawn outside the axes so it never covers data.

    Parameters
    ----------
    trajectory : hyperdef.threats.Trajectory
        One or more objects (B >= 1).
    path : str or path-like
        Output file; ``.png`` (written at :data:`DPI` dots per inch), ``.svg`` or ``.pdf``.
        Its directory must exist. The file is written atomically: a temporary file in
        the same directory, then renamed, so an error leaves nothing behind.
    title : str, optional
        Figure title; by default the kind, ground range and flight time of a single
        object, or the number and kinds of a batch.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    hyperdef.errors.InputError
        When the suffix is not one of :data:`PLOT_SUFFIXES`, the directory does not
        exist, or the trajectory holds no object.

    Examples
    --------
    >>> import numpy as np
    >>> from hyperdef.threats import fly
    >>> traj = fly("hgv", np.radians([22.0, -159.8]), np.radians([9.4, 167.5]))
    >>> plot_trajectory(traj, "ahw.png")                         # doctest: +SKIP
    PosixPath('ahw.png')
    """
    target = check_output_path(path, PLOT_SUFFIXES, "path")
    if trajectory.n_objects < 1:
        raise InputError("trajectory: holds no object to plot")
    fig = _figure(trajectory, title)
    with atomic_output(target) as tmp:
        fig.savefig(tmp, format=target.suffix[1:].lower(), dpi=DPI)
    return target


def _figure(trajectory: Trajectory, title: str | None) -> Figure:
    n = trajectory.n_objects
    width = 2.0 if n == 1 else (1.0 if n <= 20 else 0.6)
    alpha = 1.0 if n <= 20 else 0.5

    fig = Figure(figsize=(13.0, 5.4), layout="constrained")
    ax_alt, ax_map = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.35, 1.0]})

    # altitude profile
    downrange_km = trajectory.downrange_m() / 1e3
    alt_km = trajectory.lla[:, 2] / 1e3
    lo, hi = GLIDE_BAND_KM
    ax_alt.axhspan(lo, hi, color="gold", alpha=0.15, lw=0, zorder=0)
    present = _phase_lines(ax_alt, trajectory, downrange_km, alt_km, width, alpha)
    ax_alt.set_xlim(0.0, max(float(downrange_km.max()), 1.0) * 1.02)
    ax_alt.set_ylim(0.0, max(float(alt_km.max()), hi) * 1.06)
    ax_alt.set_xlabel("Downrange from launch (km)")
    ax_alt.set_ylabel("Altitude (km)")
    ax_alt.set_title("Altitude profile")
    ax_alt.grid(True, lw=0.4, alpha=0.5)

    # ground track
    lat_deg = np.degrees(trajectory.lla[:, 0])
    lon_deg, launch_lon, aim_lon = _unwrapped_longitudes(trajectory)
    _phase_lines(ax_map, trajectory, lon_deg, lat_deg, width, alpha)
    last = trajectory.last_row
    marker_size = 9 if n == 1 else 6
    ax_map.plot(launch_lon, np.degrees(trajectory.launch_lla[:, 0]), ls="none", marker="^",
                ms=marker_size, mfc="black", mec="white", zorder=4)
    ax_map.plot(aim_lon, np.degrees(trajectory.aim_lla[:, 0]), ls="none", marker="o",
                ms=marker_size + 4, mfc="none", mec="black", mew=1.5, zorder=4)
    ax_map.plot(lon_deg[last], lat_deg[last], ls="none", marker="x", ms=marker_size,
                mec="crimson", mew=2.0, zorder=5)
    mean_lat = np.radians(float(np.clip(lat_deg.mean(), -80.0, 80.0)))
    ax_map.set_aspect(1.0 / np.cos(mean_lat), adjustable="datalim")
    ax_map.margins(0.08)
    ax_map.xaxis.set_major_formatter(FuncFormatter(_lon_label))
    ax_map.yaxis.set_major_formatter(FuncFormatter(_lat_label))
    ax_map.set_xlabel("Longitude (deg)")
    ax_map.set_ylabel("Latitude (deg)")
    ax_map.set_title("Ground track")
    ax_map.grid(True, lw=0.4, alpha=0.5)

    handles = [Line2D([], [], color=PHASE_COLORS[PHASES[code]], lw=2.0,
                      label=PHASES[code]) for code in present]
    handles += [
        Patch(color="gold", alpha=0.3, label=f"{lo:g}-{hi:g} km band"),
        Line2D([], [], ls="none", marker="^", ms=8, mfc="black", mec="white", label="launch"),
        Line2D([], [], ls="none", marker="o", ms=10, mfc="none", mec="black", mew=1.5,
               label="aim point"),
        Line2D([], [], ls="none", marker="x", ms=8, mec="crimson", mew=2.0,
               label="impact" if np.all(trajectory.status == "impact") else "final point"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
    fig.suptitle(title if title is not None else _default_title(trajectory))
    return fig


def _phase_lines(ax, trajectory: Trajectory, x: np.ndarray, y: np.ndarray,
                 width: float, alpha: float) -> list[int]:
    """Draw every object as segments coloured by the phase of their first sample.

    One :class:`LineCollection` per phase, whatever the number of objects. Returns the
    phase codes drawn, in order of first appearance (flight order).
    """
    points = np.column_stack([x, y])
    segments = np.stack([points[:-1], points[1:]], axis=1)
    same_object = np.ones(max(len(points) - 1, 0), dtype=bool)
    same_object[trajectory.offsets[1:-1] - 1] = False
    phase = trajectory.phase[:-1]
    codes, first = np.unique(trajectory.phase, return_index=True)
    present = [int(c) for c in codes[np.argsort(first)]]
    for code in present:  # a handful of phases, never a loop over objects
        keep = same_object & (phase == code)
        ax.add_collection(LineCollection(segments[keep], colors=PHASE_COLORS[PHASES[code]],
                                         linewidths=width, alpha=alpha, capstyle="round"))
    ax.autoscale_view()
    return present


def _wrap_pi(angle_rad: np.ndarray) -> np.ndarray:
    return (angle_rad + np.pi) % (2.0 * np.pi) - np.pi


def _unwrapped_longitudes(trajectory: Trajectory) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Continuous longitudes (deg) of every sample, launch point and aim point.

    Every object starts on the branch nearest the first object's launch longitude and
    is unwrapped along its own samples; its aim longitude is put on the branch nearest
    its final sample.
    """
    lon = trajectory.lla[:, 1]
    idx = trajectory.object_index
    start = trajectory.offsets[:-1]
    reference = trajectory.launch_lla[0, 1]
    launch = reference + _wrap_pi(trajectory.launch_lla[:, 1] - reference)
    step = _wrap_pi(np.diff(lon))
    step[trajectory.offsets[1:-1] - 1] = 0.0  # no step across object boundaries
    travelled = np.concatenate([[0.0], np.cumsum(step)])
    travelled -= travelled[start][idx]
    first = launch + _wrap_pi(lon[start] - launch)
    unwrapped = first[idx] + travelled
    end = unwrapped[trajectory.last_row]
    aim = end + _wrap_pi(trajectory.aim_lla[:, 1] - end)
    return np.degrees(unwrapped), np.degrees(launch), np.degrees(aim)


def _lon_label(value_deg: float, _pos=None) -> str:
    wrapped = (value_deg + 180.0) % 360.0 - 180.0
    if np.isclose(abs(wrapped), 180.0) or np.isclose(wrapped, 0.0):
        return f"{abs(wrapped):g}°"
    return f"{abs(wrapped):g}°{'E' if wrapped > 0 else 'W'}"


def _lat_label(value_deg: float, _pos=None) -> str:
    if np.isclose(value_deg, 0.0):
        return "0°"
    return f"{abs(value_deg):g}°{'N' if value_deg > 0 else 'S'}"


def _default_title(trajectory: Trajectory) -> str:
    n = trajectory.n_objects
    if n == 1:
        return (f"{str(trajectory.kind[0]).upper()}: {trajectory.ground_range_m[0] / 1e3:,.0f} km "
                f"in {trajectory.flight_time_s[0]:,.0f} s")
    kinds = ", ".join(sorted({str(k) for k in trajectory.kind}))
    return f"{n} objects ({kinds})"
