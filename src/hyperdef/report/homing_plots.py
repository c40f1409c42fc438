"""Figures of the linear homing loop: miss against flight time, or one run's accelerations.

Drawn with matplotlib's object API (no pyplot) and written atomically, as
:mod:`hyperdef.report.plots`. Accelerations are shown in g here, at the edge.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from hyperdef.engagement.homing import G0_M_S2, HomingHistory
from hyperdef.errors import InputError
from hyperdef.report import atomic_output, check_output_path

#: output resolution, dots per inch
DPI = 120

#: file formats written, chosen by the path's suffix
PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def plot_homing(path: str | os.PathLike[str], *, flight_times_s: np.ndarray | None = None,
                miss_m: np.ndarray | None = None, history: HomingHistory | None = None,
                title: str = "") -> Path:
    """Draw the signed miss against flight time (a sweep) or one run's accelerations.

    Parameters
    ----------
    path : str or path-like
        Output file, ``.png``, ``.svg`` or ``.pdf``; written atomically.
    flight_times_s, miss_m : numpy.ndarray, optional
        A sweep: flight times, s, and signed misses y(t_F), m, both shape ``(B,)``.
    history : HomingHistory, optional
        One run: command, achieved and target accelerations against time (in g).
    title : str
        Figure title.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    hyperdef.errors.InputError
        For a bad suffix or directory, or unless exactly one of a sweep and a history
        is given.

    References
    ----------
    .. [1] P. Zarchan, *Tactical and Strategic Missile Guidance*, 6th ed., AIAA 2012,
       ch. 3-4 (miss against flight time from the adjoint).
    """
    target = check_output_path(path, PLOT_SUFFIXES, "path")
    sweep = flight_times_s is not None and miss_m is not None
    if sweep == (history is not None):
        raise InputError("plot_homing: give either flight_times_s and miss_m, or history")
    fig = Figure(figsize=(8.0, 4.8), layout="constrained")
    ax = fig.subplots()
    if sweep:
        ax.axhline(0.0, color="0.5", lw=0.8)
        ax.plot(flight_times_s, miss_m, color="tab:blue", lw=1.8, marker="." if
                np.size(flight_times_s) < 60 else None)
        ax.set_xlabel("Flight time (s)")
        ax.set_ylabel("Miss y(t_F) (m, signed)")
    else:
        t = history.t_s
        ax.plot(t, history.command_accel_m_s2 / G0_M_S2, color="tab:red", lw=1.2,
                label="command n_c")
        ax.plot(t, history.missile_accel_m_s2 / G0_M_S2, color="tab:blue", lw=1.8,
                label="achieved n_L")
        ax.plot(t, history.target_accel_m_s2 / G0_M_S2, color="black", lw=1.0, ls="--",
                label="target n_T")
        finite = np.concatenate([a[np.isfinite(a)] for a in (
            history.command_accel_m_s2, history.missile_accel_m_s2,
            history.target_accel_m_s2)]) / G0_M_S2
        # the command diverges at intercept when the miss is not zero; keep the axes sane
        lo, hi = np.percentile(finite, [0.5, 99.5]) if finite.size else (-1.0, 1.0)
        pad = 0.1 * max(hi - lo, 1e-3)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_xlabel("Time (s)")
        ax.set_ylabel("Acceleration (g)")
        ax.legend(frameon=False)
    ax.grid(True, lw=0.4, alpha=0.5)
    if title:
        ax.set_title(title)
    with atomic_output(target) as tmp:
        fig.savefig(tmp, format=target.suffix[1:].lower(), dpi=DPI)
    return target
