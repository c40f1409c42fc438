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
