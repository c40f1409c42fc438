"""Plots of the engagement stage: the fly-out fan of an interceptor class."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hyperdef.engagement.flyout import FlyoutTable
from hyperdef.report import atomic_output


def plot_flyout(table: FlyoutTable, path: str | Path) -> None:
    """Time of flight over ground range and altitude, with the fan's ceiling.

    Parameters
    ----------
    table : FlyoutTable
    path : str or Path
        PNG file, written atomically.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5), layout="constrained")
    mesh = ax.pcolormesh(table.range_m / 1e3, table.alt_m / 1e3, table.time_s,
                         shading="auto", cmap="viridis")
    fig.colorbar(mesh, ax=ax, label="earliest time of flight, s")
    ceiling = table.ceiling_m()
    ok = np.isfinite(ceiling)
    ax.plot(table.range_m[ok] / 1e3, ceiling[ok] / 1e3, color="k", lw=0.8, label="ceiling")
    ax.set_xlabel("ground range from the launcher, km")
    ax.set_ylabel("altitude, km")
    ax.set_ylim(0, min(table.max_alt_m / 1e3, 400.0))
    ax.set_title(f"{table.name} fly-out fan")
    ax.legend(loc="upper right")
    with atomic_output(Path(path)) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def plot_battlespace(table: FlyoutTable, site_lla: np.ndarray, path_t: np.ndarray,
                     path_ecef_m: np.ndarray, windows: dict[str, object],
                     path: str | Path, title: str = "") -> None:
    """Battle-space diagram: altitude against ground range from the battery.

    The interceptor's fan (earliest time of flight, colour), the threat's predicted path
    (line, time-marked every 60 s) and the intercept points of the launch windows.

    Parameters
    ----------
    table : FlyoutTable
    site_lla : ndarray, shape (3,)
        Battery site (lat rad, lon rad, alt m).
    path_t : ndarray, shape (K,)
        Times of the predicted threat path, s.
    path_ecef_m : ndarray, shape (K, 3)
        Predicted threat positions, ECEF m.
    windows : dict
        Label -> :class:`~hyperdef.engagement.fire_control.LaunchWindow`; engageable
        windows are drawn at their intercept point.
    path : str or Path
        PNG file, written atomically.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hyperdef.core.frames import ecef_to_lla, great_circle_distance_m

    lla = ecef_to_lla(path_ecef_m)
    ground = great_circle_distance_m(site_lla[0], site_lla[1], lla[:, 0], lla[:, 1])
    fig, ax = plt.subplots(figsize=(9, 5), layout="constrained")
    mesh = ax.pcolormesh(table.range_m / 1e3, table.alt_m / 1e3, table.time_s,
                         shading="auto", cmap="Greys_r", alpha=0.6)
    fig.colorbar(mesh, ax=ax, label="interceptor time of flight, s")
    ax.plot(ground / 1e3, lla[:, 2] / 1e3, color="tab:red", lw=1.5, label="threat (predicted)")
    minute = np.floor((path_t - path_t[0]) / 60.0)
    marks = np.flatnonzero(np.diff(minute, prepend=-1.0) > 0)  # first sample of each minute
    ax.plot(ground[marks] / 1e3, lla[marks, 2] / 1e3, "o", color="tab:red", ms=3)
    for label, window in windows.items():
        if getattr(window, "engageable", False):
            pip = ecef_to_lla(window.pip_ecef_m[None])[0]
            rng = great_circle_distance_m(site_lla[0], site_lla[1], pip[0], pip[1])
            ax.plot(rng / 1e3, pip[2] / 1e3, "*", ms=12,
                    label=f"{label}: launch {window.preferred_s:.0f} s, "
                          f"intercept {window.intercept_s:.0f} s")
    ax.set_xlim(0, max(float(np.max(ground)) / 1e3, 50.0) * 1.05)
    ax.set_ylim(0, max(float(np.max(lla[:, 2])) / 1e3, 10.0) * 1.3)
    ax.set_xlabel("ground range from the battery, km")
    ax.set_ylabel("altitude, km")
    ax.set_title(title or f"{table.name} battle space")
    ax.legend(loc="upper right", fontsize=8)
    with atomic_output(Path(path)) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
