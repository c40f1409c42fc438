"""hyperdef's geodetic conversions against pymap3d: speed and accuracy on one batch.

The foundation issue asked to prefer a well-kept library (pymap3d) for frame conversions
where it is fast enough for batches. This script measures both on the same points, so the
choice in ``hyperdef.core.frames`` rests on figures: time per call for a batch of N points
(best of several runs) and the round-trip error lla -> ecef -> lla of each.

Usage::

    python benchmarks/bench_frames.py [--n 100000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import pymap3d

from hyperdef.core.frames import ecef_to_lla, lla_to_ecef


def best_time(fn, repeats: int) -> float:
    """Best wall time of ``fn()`` over ``repeats`` runs, s."""
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="points per batch")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    rng = np.random.default_rng(7)
    lat = rng.uniform(-90.0, 90.0, args.n)
    lon = rng.uniform(-180.0, 180.0, args.n)
    alt = rng.uniform(-1e3, 100e3, args.n)  # the atmosphere, where threats fly
    lla = np.column_stack([np.radians(lat), np.radians(lon), alt])
    ecef = lla_to_ecef(lla)
    x, y, z = ecef.T.copy()

    rows = [
        ("lla -> ecef", "hyperdef", best_time(lambda: lla_to_ecef(lla), args.repeats)),
        (
            "lla -> ecef",
            "pymap3d",
            best_time(lambda: pymap3d.geodetic2ecef(lat, lon, alt), args.repeats),
        ),
        ("ecef -> lla", "hyperdef", best_time(lambda: ecef_to_lla(ecef), args.repeats)),
        ("ecef -> lla", "pymap3d", best_time(lambda: pymap3d.ecef2geodetic(x, y, z), args.repeats)),
    ]
    back = ecef_to_lla(ecef)
    p_lat, p_lon, p_alt = pymap3d.ecef2geodetic(x, y, z)
    err_ours = np.abs(back[:, 2] - alt).max()
    err_pm = np.abs(np.asarray(p_alt) - alt).max()
    err_lat_ours = np.abs(np.degrees(back[:, 0]) - lat).max()
    err_lat_pm = np.abs(np.asarray(p_lat) - lat).max()

    print(
        f"frames benchmark: {args.n:,} random points, altitude -1 to 100 km; "
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"pymap3d {pymap3d.__version__}"
    )
    print(f"{'conversion':<12} {'library':<9} {'ms/batch':>9} {'ns/point':>9}")
    for what, lib, t in rows:
        print(f"{what:<12} {lib:<9} {1e3 * t:9.2f} {1e9 * t / args.n:9.1f}")
    for what in ("lla -> ecef", "ecef -> lla"):
        ours = next(t for w, lib, t in rows if w == what and lib == "hyperdef")
        theirs = next(t for w, lib, t in rows if w == what and lib == "pymap3d")
        print(f"{what}: pymap3d / hyperdef time = {theirs / ours:.1f}x")
    print(f"round-trip error, altitude: hyperdef {err_ours:.2e} m, pymap3d {err_pm:.2e} m")
    print(
        f"round-trip error, latitude: hyperdef {err_lat_ours:.2e} deg, pymap3d {err_lat_pm:.2e} deg"
    )


if __name__ == "__main__":
    main()
