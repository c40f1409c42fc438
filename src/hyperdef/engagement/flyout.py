"""Fly-out tables: where and when an interceptor class can be, from launch.

A fly-out fan is flown once per interceptor class, in one batch: straight powered ascents
at launch elevations from 2 to 88 deg (thrust along the velocity, gravity cancelled across
the path while the stages burn), each followed by an unguided coast. The paths are
gridded in ground range and altitude, keeping in each cell the earliest arrival,
interpolated between the paths of neighbouring launch elevations
(:func:`build_flyout_table`), so the fan has no gaps inside its envelope. Each cell also
keeps the speed on arrival and the launch elevation that gets there first. Fire control
reads the table to find a predicted intercept point the interceptor can reach in time
and the elevation to launch at; midcourse guidance then takes out the difference
between the fan's path and the path actually needed.

The fan is flown from a reference site (30 deg N, launched due east by default); the
Earth's rotation changes the fan by a few per cent with site and azimuth, which the
table ignores. Tables are cached in memory and on disk (``$HYPERDEF_CACHE_DIR`` or
``~/.cache/hyperdef``), keyed by the class parameters and the model version.

References
----------
.. [1] P. Zarchan, *Tactical and Strategic Missile Guidance*, 6th ed., AIAA, 2012,
   ch. 13-14 (gravity-turn boosters, fly-out and predicted intercept point).
.. [2] G. M. Siouris, *Missile Guidance and Control Systems*, Springer, 2004, ch. 4
   (launch envelopes and fly-out fans).
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hyperdef.core.frames import ecef_to_lla, enu_rotation, great_circle_distance_m, lla_to_ecef
from hyperdef.engagement.flight import (
    LAUNCH_SPEED_M_S,
    InterceptorFlight,
    environment_acceleration,
    norm,
    perpendicular,
)
from hyperdef.engagement.interceptor import InterceptorClass, check_interceptor
from hyperdef.errors import InputError

#: bump when the flight model changes, so cached tables are rebuilt
FLYOUT_MODEL_VERSION = 1

#: grid of the table: ground range and altitude cell sizes, m
RANGE_STEP_M = 2_000.0
ALT_STEP_M = 1_000.0


@dataclass(frozen=True, slots=True)
class FlyoutTable:
    """Earliest arrival of an interceptor class over a (altitude, ground range) grid.

    Attributes
    ----------
    name : str
        Interceptor class name.
    range_m : ndarray, shape (J,)
        Ground-range cell centres from the launch site, m.
    alt_m : ndarray, shape (I,)
        Altitude cell centres, m.
    time_s : ndarray, shape (I, J)
        Earliest time of flight to the cell, s; NaN outside the fan.
    speed_m_s : ndarray, shape (I, J)
        Speed on that earliest arrival, m/s.
    elevation_rad : ndarray, shape (I, J)
        Launch elevation of that earliest arrival, rad.
    """

    name: str
    range_m: np.ndarray
    alt_m: np.ndarray
    time_s: np.ndarray
    speed_m_s: np.ndarray
    elevation_rad: np.ndarray

    def _cells(self, ground_range_m, alt_m):
        r = np.asarray(ground_range_m, dtype=float)
        h = np.asarray(alt_m, dtype=float)
        j = np.floor(r / RANGE_STEP_M).astype(int)
        i = np.floor(h / ALT_STEP_M).astype(int)
        inside = (j >= 0) & (j < self.range_m.size) & (i >= 0) & (i < self.alt_m.size)
        inside &= np.isfinite(r) & np.isfinite(h)
        return np.where(inside, i, 0), np.where(inside, j, 0), inside

    def _lookup(self, grid: np.ndarray, ground_range_m, alt_m) -> np.ndarray:
        i, j, inside = self._cells(ground_range_m, alt_m)
        return np.where(inside, grid[i, j], np.nan)

    def time_to(self, ground_range_m, alt_m) -> np.ndarray:
        """Earliest time of flight to each point, s (NaN where out of reach)."""
        return self._lookup(self.time_s, ground_range_m, alt_m)

    def speed_at(self, ground_range_m, alt_m) -> np.ndarray:
        """Speed on the earliest arrival at each point, m/s (NaN where out of reach)."""
        return self._lookup(self.speed_m_s, ground_range_m, alt_m)

    def launch_elevation(self, ground_range_m, alt_m) -> np.ndarray:
        """Launch elevation of the earliest arrival at each point, rad (NaN: out of reach)."""
        return self._lookup(self.elevation_rad, ground_range_m, alt_m)

    def reachable(self, ground_range_m, alt_m) -> np.ndarray:
        """True where the point lies inside the fan."""
        return np.isfinite(self.time_to(ground_range_m, alt_m))

    @property
    def max_range_m(self) -> float:
        """Greatest ground range reached at any altitude, m."""
        cols = np.flatnonzero(np.isfinite(self.time_s).any(axis=0))
        return float(self.range_m[cols[-1]]) if cols.size else 0.0

    @property
    def max_alt_m(self) -> float:
        """Greatest altitude reached at any range, m."""
        rows = np.flatnonzero(np.isfinite(self.time_s).any(axis=1))
        return float(self.alt_m[rows[-1]]) if rows.size else 0.0

    def ceiling_m(self) -> np.ndarray:
        """Highest reachable altitude at each ground range, m, shape (J,) (NaN: none)."""
        ok = np.isfinite(self.time_s)
        top = np.where(ok.any(axis=0), ok.shape[0] - 1 - np.argmax(ok[::-1], axis=0), -1)
        return np.where(top >= 0, self.alt_m[np.maximum(top, 0)], np.nan)


def _launch_velocity(site_lla: np.ndarray, azimuth_rad: float,
                     elevation_rad: np.ndarray) -> np.ndarray:
    """ECEF launch velocity of speed LAUNCH_SPEED along each elevation, shape (E, 3)."""
    enu = np.stack((np.cos(elevation_rad) * np.sin(azimuth_rad),
                    np.cos(elevation_rad) * np.cos(azimuth_rad),
                    np.sin(elevation_rad)), axis=-1)
    return LAUNCH_SPEED_M_S * enu @ enu_rotation(site_lla)


def fly_fan(interceptor: InterceptorClass, elevations_rad: np.ndarray, *,
            site_lla: np.ndarray | None = None, azimuth_rad: float = 0.5 * math.pi,
            t_max_s: float = 600.0, dt_burn_s: float = 0.1, dt_coast_s: float = 0.5
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fly the fan's paths at the given launch elevations, all in one batch.

    Parameters
    ----------
    interceptor : InterceptorClass
    elevations_rad : ndarray, shape (E,)
        Launch elevations, rad.
    site_lla : ndarray, shape (3,), optional
        Launch site (lat rad, lon rad, alt m); default 30 deg N, 0 deg E, sea level.
    azimuth_rad : float
        Launch azimuth from north, rad.
    t_max_s, dt_burn_s, dt_coast_s : float
        Longest flight, and the steps while a stage burns and after burnout, s.

    Returns
    -------
    t_s : ndarray, shape (K,)
        Time from launch of each sample.
    ground_range_m, alt_m, speed_m_s : ndarray, shape (K, E)
        Great-circle ground range from the site, altitude and speed; NaN after a path
        has come back to the ground.
    """
    check_interceptor(interceptor)
    site = np.radians([30.0, 0.0, 0.0]) if site_lla is None else np.asarray(site_lla, float)
    el = np.asarray(elevations_rad, dtype=float)
    n = el.size
    r0 = np.broadcast_to(lla_to_ecef(site), (n, 3))
    flight = InterceptorFlight(interceptor, r0, _launch_velocity(site, azimuth_rad, el),
                               np.full(n, interceptor.launch_mass_kg), np.zeros(n))
    alive = np.ones(n, dtype=bool)
    times, ranges, alts, speeds = [], [], [], []
    t = 0.0
    zero_cmd = np.zeros((n, 3))

    def record() -> None:
        lla = ecef_to_lla(flight.r)
        gone = ~alive
        times.append(t)
        ranges.append(np.where(gone, np.nan, great_circle_distance_m(
            site[0], site[1], lla[:, 0], lla[:, 1])))
        alts.append(np.where(gone, np.nan, lla[:, 2]))
        speeds.append(np.where(gone, np.nan, np.sqrt(np.einsum("ij,ij->i", flight.v,
                                                               flight.v))))

    record()
    everyone = np.arange(n)
    burnout = float(flight.schedule.end_s[-1])
    while t < t_max_s - 1e-9 and alive.any():
        h = dt_burn_s if t < burnout - 1e-9 else dt_coast_s
        h = min(h, flight.next_event_s(t, everyone[:1]) - t, t_max_s - t)
        idx = np.flatnonzero(alive)
        command = zero_cmd[idx]
        if t < burnout - 1e-9:
            command = line_holding_command(flight, t, idx)
        flight.step(idx, h, flight.held(t, idx, command))
        t += h
        flight.drop_stages(t, idx)
        record()
        came_down = ecef_to_lla(flight.r[idx])[:, 2] < site[2] - 1.0
        alive[idx[came_down & (t > 1.0)]] = False
    return np.array(times), np.array(ranges), np.array(alts), np.array(speeds)


def line_holding_command(flight: InterceptorFlight, t_s: float, idx: np.ndarray) -> np.ndarray:
    """Lateral acceleration that cancels gravity across the path, within what is available.

    While the stages burn, the fan's paths hold their launch direction (a straight
    powered ascent, the commanded-flight-path-angle boost of Zarchan 2012 ch. 13) instead
    of sagging under gravity at low speed; after burnout they coast freely.
    """
    r, v = flight.r[idx], flight.v[idx]
    v_hat = v / np.maximum(norm(v), 1.0)[:, None]
    command = -perpendicular(environment_acceleration(r, v), v_hat)
    magnitude = norm(command)
    limit = flight.available_accel(t_s, idx)
    scale = np.minimum(1.0, limit / np.maximum(magnitude, 1e-12))
    return command * scale[:, None]


def _paths_by_range(t: np.ndarray, ranges: np.ndarray, alts: np.ndarray,
                    speeds: np.ndarray, range_grid: np.ndarray):
    """Each path's time, altitude and speed at the grid ranges, shape (E, J) (NaN: not there).

    Ground range grows monotonically along every path launched below the vertical, so
    each path is a function of range and can be interpolated in it.
    """
    n_paths = ranges.shape[1]
    out = np.full((3, n_paths, range_grid.size), np.nan)
    for e in range(n_paths):  # build time only: one interpolation per launch elevation
        ok = np.isfinite(ranges[:, e])
        r = np.maximum.accumulate(ranges[ok, e])
        keep = np.concatenate([[True], np.diff(r) > 0.0])
        r = r[keep]
        if r.size < 2:
            continue
        inside = range_grid <= r[-1]
        for k, values in enumerate((t[ok][keep], alts[ok, e][keep], speeds[ok, e][keep])):
            out[k, e, inside] = np.interp(range_grid[inside], r, values)
    return out


def build_flyout_table(interceptor: InterceptorClass, *, n_elevations: int = 173,
                       site_lat_rad: float = math.radians(30.0),
                       azimuth_rad: float = 0.5 * math.pi,
                       t_max_s: float = 600.0) -> FlyoutTable:
    """Fly the fan of ``interceptor`` and grid it (no cache; see :func:`flyout_table`).

    Every path is a curve h_e(R) in ground range and altitude. A grid point (R, h) lying
    between the curves of two neighbouring launch elevations at range R is reached, by
    linear interpolation between them, at a time interpolated in the same proportion;
    the table keeps the earliest such time over all neighbouring pairs. The fan is thus
    filled without gaps however far apart the paths spread at long range.
    """
    el = np.radians(np.linspace(2.0, 88.0, n_elevations))
    t, rng_m, alt_m, speed = fly_fan(interceptor, el, site_lla=np.array([site_lat_rad, 0, 0]),
                                     azimuth_rad=azimuth_rad, t_max_s=t_max_s)
    n_range = int(math.ceil(np.nanmax(rng_m) / RANGE_STEP_M)) + 1
    n_alt = int(math.ceil(np.nanmax(alt_m) / ALT_STEP_M)) + 1
    range_grid = (np.arange(n_range) + 0.5) * RANGE_STEP_M
    alt_grid = (np.arange(n_alt) + 0.5) * ALT_STEP_M
    t_er, h_er, v_er = _paths_by_range(t, rng_m, alt_m, speed, range_grid)
    time_grid = np.full((n_alt, n_range), np.inf)
    speed_grid = np.full((n_alt, n_range), np.nan)
    el_grid = np.full((n_alt, n_range), np.nan)
    for e in range(el.size - 1):  # build time only: one pass per neighbouring pair
        h0, h1 = h_er[e], h_er[e + 1]
        both = np.isfinite(h0) & np.isfinite(h1)
        lo = np.where(both, np.minimum(h0, h1), np.nan)
        hi = np.where(both, np.maximum(h0, h1), np.nan)
        inside = (alt_grid[:, None] >= lo[None, :]) & (alt_grid[:, None] <= hi[None, :])
        if not inside.any():
            continue
        ii, jj = np.nonzero(inside)
        span = h1[jj] - h0[jj]
        w = np.where(np.abs(span) > 0.0, (alt_grid[ii] - h0[jj]) / np.where(span == 0, 1, span),
                     0.0)
        tt = (1 - w) * t_er[e, jj] + w * t_er[e + 1, jj]
        better = tt < time_grid[ii, jj]
        ii, jj, w, tt = ii[better], jj[better], w[better], tt[better]
        time_grid[ii, jj] = tt
        speed_grid[ii, jj] = (1 - w) * v_er[e, jj] + w * v_er[e + 1, jj]
        el_grid[ii, jj] = (1 - w) * el[e] + w * el[e + 1]
    time_grid[~np.isfinite(time_grid)] = np.nan
    return FlyoutTable(
        name=interceptor.name,
        range_m=range_grid,
        alt_m=alt_grid,
        time_s=time_grid,
        speed_m_s=speed_grid,
        elevation_rad=el_grid,
    )


def cache_dir() -> Path:
    """Directory of the on-disk table cache (``$HYPERDEF_CACHE_DIR`` or ~/.cache/hyperdef)."""
    env = os.environ.get("HYPERDEF_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "hyperdef"


def _cache_key(interceptor: InterceptorClass) -> str:
    text = f"{FLYOUT_MODEL_VERSION}|{RANGE_STEP_M}|{ALT_STEP_M}|{interceptor!r}"
    return hashlib.sha256(text.encode()).hexdigest()[:20]


@functools.lru_cache(maxsize=16)
def flyout_table(interceptor: InterceptorClass) -> FlyoutTable:
    """The fly-out table of an interceptor class, computed once and cached.

    The first call for a class flies its fan (about a second) and saves it under
    :func:`cache_dir`; later calls in the same process, or in any process on the same
    machine, read it back. A cache that cannot be written is skipped silently.

    Raises
    ------
    InputError
        If the interceptor class is invalid (:func:`check_interceptor`).
    """
    check_interceptor(interceptor)
    path = cache_dir() / f"flyout-{_cache_key(interceptor)}.npz"
    if path.is_file():
        try:
            with np.load(path) as data:
                return FlyoutTable(name=interceptor.name, range_m=data["range_m"],
                                   alt_m=data["alt_m"], time_s=data["time_s"],
                                   speed_m_s=data["speed_m_s"],
                                   elevation_rad=data["elevation_rad"])
        except (OSError, KeyError, ValueError):
            pass
    table = build_flyout_table(interceptor)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, range_m=table.range_m, alt_m=table.alt_m,
                                time_s=table.time_s, speed_m_s=table.speed_m_s,
                                elevation_rad=table.elevation_rad)
        os.replace(tmp, path)
    except OSError:
        pass
    return table


def check_table_query(ground_range_m, alt_m) -> None:
    """Raise :class:`InputError` for a negative or non-finite range or altitude query."""
    for name, value in (("ground_range_m", ground_range_m), ("alt_m", alt_m)):
        arr = np.asarray(value, dtype=float)
        if not np.all(np.isfinite(arr)):
            raise InputError(f"{name}: must be finite")
        if np.any(arr < 0.0):
            raise InputError(f"{name}: {float(arr.min()):g} m must be >= 0")
