"""Truth trajectories of a batch of threats, kept flat and columnar.

A :class:`Trajectory` holds B objects in one set of arrays: rows are (object, time)
samples sorted by object then time, and ``offsets`` (B + 1,) gives each object's rows,
as an Arrow list column would. Flights of different lengths need no padding, and the
table written to ``truth.parquet`` is the arrays themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from hyperdef.core.atmosphere import ussa76
from hyperdef.core.frames import ecef_to_lla, geodesic_distance_m
from hyperdef.threats.aero import stagnation_heat_flux_w_m2

#: phase codes stored per sample
PHASES = ("boost", "coast", "pullout", "glide", "dive", "cruise", "reentry")
PHASE_CODE = {name: i for i, name in enumerate(PHASES)}

#: sorted search keys of recently interpolated trajectories (id -> (t array, key, span))
_KEY_CACHE: dict[int, tuple[np.ndarray, np.ndarray, float]] = {}


def segment_floor(times: np.ndarray, key: np.ndarray, span: float, group: np.ndarray,
                  start: np.ndarray, stop: np.ndarray, t_s: np.ndarray) -> np.ndarray:
    """Last row of each query's own segment at or before its time (its first row if none).

    Rows ``start[i]:stop[i]`` of ``times`` (increasing inside each segment) belong to
    query i. The sorted ``key = times + group * span`` finds the row in one search; its
    rounding (the group offset adds a large number to every time) can put a time an ulp
    away from a sample on the wrong side of it, so the row is then corrected against the
    segment's own times. The answer therefore depends only on the query's own segment,
    not on which other segments share the arrays (or how far down the key they sit).

    Returns
    -------
    ndarray of int, shape (n,)
        The largest ``j`` in ``[start, stop - 1]`` with ``times[j] <= t_s``, else ``start``.
    """
    t_s = np.broadcast_to(np.asarray(t_s, dtype=float), np.shape(group))
    last = np.maximum(stop - 1, start)
    j = np.searchsorted(key, t_s + group * span, side="right") - 1
    j = np.clip(j, start, last)
    while True:  # off by a row or two at most
        down = (j > start) & (times[j] > t_s)
        up = (j < last) & (times[np.minimum(j + 1, last)] <= t_s)
        if not (down.any() or up.any()):
            return j
        j = j - down + up



@dataclass(frozen=True, slots=True)
class Trajectory:
    """Sampled truth of B objects.

    Attributes
    ----------
    kind : ndarray of str, shape (B,)
        ``hgv``, ``hcm`` or ``ballistic``.
    offsets : ndarray, shape (B + 1,)
        Rows of object i are ``offsets[i]:offsets[i + 1]``.
    t : ndarray, shape (M,)
        Time from the scenario epoch, s.
    r_ecef_m, v_ecef_m_s, a_ecef_m_s2 : ndarray, shape (M, 3)
        ECEF position (m), velocity relative to the Earth (m/s), acceleration in the
        rotating frame (m/s^2).
    lla : ndarray, shape (M, 3)
        Geodetic latitude (rad), longitude (rad), altitude above WGS-84 (m).
    mass_kg, mach, dynamic_pressure_pa, heat_flux_w_m2 : ndarray, shape (M,)
        Mass, Mach number, dynamic pressure and Sutton-Graves stagnation heat flux.
    phase : ndarray, shape (M,)
        Index into :data:`PHASES`.
    launch_lla, aim_lla : ndarray, shape (B, 3)
        Launch and aim points (rad, rad, m).
    status : ndarray of str, shape (B,)
        ``impact`` when the object reached the ground, else ``time_limit``.
    """

    kind: np.ndarray
    offsets: np.ndarray
    t: np.ndarray
    r_ecef_m: np.ndarray
    v_ecef_m_s: np.ndarray
    a_ecef_m_s2: np.ndarray
    lla: np.ndarray
    mass_kg: np.ndarray
    mach: np.ndarray
    dynamic_pressure_pa: np.ndarray
    heat_flux_w_m2: np.ndarray
    phase: np.ndarray
    launch_lla: np.ndarray
    aim_lla: np.ndarray
    status: np.ndarray

    @property
    def n_objects(self) -> int:
        """Number of objects B."""
        return int(self.offsets.size - 1)

    @property
    def object_index(self) -> np.ndarray:
        """Object index of every row, shape (M,)."""
        return np.repeat(np.arange(self.n_objects), np.diff(self.offsets))

    def rows(self, i: int) -> slice:
        """Row slice of object ``i``."""
        return slice(int(self.offsets[i]), int(self.offsets[i + 1]))

    @property
    def last_row(self) -> np.ndarray:
        """Index of each object's final sample, shape (B,)."""
        return self.offsets[1:] - 1

    @property
    def impact_lla(self) -> np.ndarray:
        """Final geodetic position of each object (the impact point when ``status`` is impact)."""
        return self.lla[self.last_row]

    @property
    def flight_time_s(self) -> np.ndarray:
        """Time from first to last sample of each object, s."""
        return self.t[self.last_row] - self.t[self.offsets[:-1]]

    @property
    def miss_to_aim_m(self) -> np.ndarray:
        """Distance on the ellipsoid from the final point to the aim point, m."""
        return geodesic_distance_m(self.impact_lla, self.aim_lla)  # altitudes ignored

    @property
    def ground_range_m(self) -> np.ndarray:
        """Distance on the ellipsoid from the launch point to the final point, m."""
        return geodesic_distance_m(self.launch_lla, self.impact_lla)

    def downrange_m(self) -> np.ndarray:
        """Ellipsoidal distance of every sample from its object's launch point, m, shape (M,)."""
        return geodesic_distance_m(self.launch_lla[self.object_index], self.lla)

    def state_at(self, object_index: np.ndarray, t_s: np.ndarray | float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Position, velocity and acceleration of objects at given times, interpolated.

        Position is the cubic Hermite interpolant with the recorded velocities as its
        slopes, velocity its derivative (so the two are consistent, as a guidance loop
        needs), acceleration linear between the recorded values. Times outside an
        object's span are clamped to its first or last sample.

        Parameters
        ----------
        object_index : ndarray of int, shape (n,)
            Object of each query.
        t_s : float or ndarray, shape (n,)
            Query times, s from epoch.

        Returns
        -------
        r_ecef_m, v_ecef_m_s, a_ecef_m_s2 : ndarray, shape (n, 3)

        References
        ----------
        de Boor, *A Practical Guide to Splines*, rev. ed., 2001, ch. IV.
        """
        obj = np.asarray(object_index, dtype=np.int64)
        tq = np.broadcast_to(np.asarray(t_s, dtype=float), obj.shape)
        starts = self.offsets[obj]
        ends = self.offsets[obj + 1] - 1
        j = segment_floor(self.t, self._time_key(), self._key_span(), obj, starts, ends, tq)
        j1 = np.minimum(j + 1, ends)
        t0 = self.t[j]
        h = self.t[j1] - t0
        safe = np.where(h > 0.0, h, 1.0)
        s = np.clip(np.where(h > 0.0, (tq - t0) / safe, 0.0), 0.0, 1.0)[:, None]
        hh = h[:, None]
        r0, r1 = self.r_ecef_m[j], self.r_ecef_m[j1]
        v0, v1 = self.v_ecef_m_s[j], self.v_ecef_m_s[j1]
        s2 = s * s
        s3 = s2 * s
        r = ((2 * s3 - 3 * s2 + 1) * r0 + (s3 - 2 * s2 + s) * hh * v0
             + (-2 * s3 + 3 * s2) * r1 + (s3 - s2) * hh * v1)
        v = ((6 * s2 - 6 * s) * (r0 - r1) / safe[:, None]
             + (3 * s2 - 4 * s + 1) * v0 + (3 * s2 - 2 * s) * v1)
        v = np.where(hh > 0.0, v, v0)
        a = (1.0 - s) * self.a_ecef_m_s2[j] + s * self.a_ecef_m_s2[j1]
        return r, v, a

    def _key_span(self) -> float:
        """Span of the sample times plus 1 s: the object offset of the search key."""
        return self._key()[1]

    def _time_key(self) -> np.ndarray:
        """Times made globally sorted by adding object index times a span (cached)."""
        return self._key()[0]

    def _key(self) -> tuple[np.ndarray, float]:
        """(search key, span), made once per trajectory (a few are live at a time)."""
        cached = _KEY_CACHE.get(id(self))
        if cached is not None and cached[0] is self.t:
            return cached[1], cached[2]
        span = float(np.max(self.t) - np.min(self.t)) + 1.0 if self.t.size else 1.0
        key = self.t + self.object_index * span
        if len(_KEY_CACHE) >= 8:
            _KEY_CACHE.pop(next(iter(_KEY_CACHE)))
        _KEY_CACHE[id(self)] = (self.t, key, span)
        return key, span

    def to_table(self) -> pa.Table:
        """The truth table of DESIGN.md (``truth.parquet``), lat/lon in degrees.

        Columns: object_id, kind, t, x, y, z, vx, vy, vz, lat, lon, alt, mach, plus
        ax, ay, az, mass, dynamic_pressure, heat_flux and phase.
        """
        idx = self.object_index
        columns = {
            "object_id": pa.array(idx, pa.int32()),
            "kind": pa.array(self.kind[idx], pa.string()),
            "t": self.t,
            "x": self.r_ecef_m[:, 0],
            "y": self.r_ecef_m[:, 1],
            "z": self.r_ecef_m[:, 2],
            "vx": self.v_ecef_m_s[:, 0],
            "vy": self.v_ecef_m_s[:, 1],
            "vz": self.v_ecef_m_s[:, 2],
            "lat": np.degrees(self.lla[:, 0]),
            "lon": np.degrees(self.lla[:, 1]),
            "alt": self.lla[:, 2],
            "mach": self.mach,
            "ax": self.a_ecef_m_s2[:, 0],
            "ay": self.a_ecef_m_s2[:, 1],
            "az": self.a_ecef_m_s2[:, 2],
            "mass": self.mass_kg,
            "dynamic_pressure": self.dynamic_pressure_pa,
            "heat_flux": self.heat_flux_w_m2,
            "phase": pa.array(np.asarray(PHASES)[self.phase], pa.string()),
        }
        units = {
            "t": "s",
            "x": "m",
            "y": "m",
            "z": "m",
            "vx": "m/s",
            "vy": "m/s",
            "vz": "m/s",
            "lat": "deg",
            "lon": "deg",
            "alt": "m",
            "ax": "m/s^2",
            "ay": "m/s^2",
            "az": "m/s^2",
            "mass": "kg",
            "dynamic_pressure": "Pa",
            "heat_flux": "W/m^2",
        }
        fields = [
            pa.field(
                name,
                pa.array(col).type if not isinstance(col, pa.Array) else col.type,
                metadata={"unit": units[name]} if name in units else None,
            )
            for name, col in columns.items()
        ]
        schema = pa.schema(fields, metadata={"frame": "ECEF WGS-84", "time": "s from epoch"})
        return pa.table(list(columns.values()), schema=schema)


#: columns a truth table must have to be read back as a Trajectory
TRUTH_COLUMNS = ("object_id", "kind", "t", "x", "y", "z", "vx", "vy", "vz", "lat", "lon", "alt",
                 "mach")


def trajectory_from_table(table: pa.Table) -> Trajectory:
    """A :class:`Trajectory` from a truth table (``truth.parquet``, :meth:`Trajectory.to_table`).

    Rows may come in any order; they are sorted by object and time. Columns beyond
    :data:`TRUTH_COLUMNS` (acceleration, mass, dynamic pressure, heat flux, phase) are
    used when present; otherwise acceleration is differenced from the velocity and the
    others are NaN or ``glide``. Launch and aim points are taken as each object's first
    and last samples.

    Raises
    ------
    InputError
        Naming the missing columns, or object ids that are not 0..B-1.
    """
    from hyperdef.errors import InputError

    missing = [c for c in TRUTH_COLUMNS if c not in table.column_names]
    if missing:
        raise InputError(f"truth table: missing columns {', '.join(missing)}")
    obj = table.column("object_id").to_numpy().astype(np.int64)
    t = table.column("t").to_numpy().astype(float)
    order = np.lexsort((t, obj))
    obj, t = obj[order], t[order]
    ids = np.unique(obj)
    if ids.size == 0 or ids[0] != 0 or ids[-1] != ids.size - 1:
        raise InputError("truth table: object_id must number the objects 0, 1, ..., B-1")

    def col(name: str) -> np.ndarray:
        return np.asarray(table.column(name).to_numpy(zero_copy_only=False))[order]

    r = np.column_stack([col(c).astype(float) for c in ("x", "y", "z")])
    v = np.column_stack([col(c).astype(float) for c in ("vx", "vy", "vz")])
    counts = np.bincount(obj, minlength=ids.size)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    if all(c in table.column_names for c in ("ax", "ay", "az")):
        a = np.column_stack([col(c).astype(float) for c in ("ax", "ay", "az")])
    else:
        a = np.gradient(v, t, axis=0) if t.size > 1 else np.zeros_like(v)
    n = t.size

    def optional(name: str) -> np.ndarray:
        return col(name).astype(float) if name in table.column_names else np.full(n, np.nan)

    if "phase" in table.column_names:
        phase = np.array([PHASE_CODE.get(p, PHASE_CODE["glide"]) for p in col("phase")],
                         dtype=np.int8)
    else:
        phase = np.full(n, PHASE_CODE["glide"], dtype=np.int8)
    lla = np.column_stack([np.radians(col("lat").astype(float)),
                           np.radians(col("lon").astype(float)), col("alt").astype(float)])
    first, last = offsets[:-1], offsets[1:] - 1
    return Trajectory(
        kind=np.asarray(col("kind")[first], dtype=object),
        offsets=offsets,
        t=t,
        r_ecef_m=r,
        v_ecef_m_s=v,
        a_ecef_m_s2=a,
        lla=lla,
        mass_kg=optional("mass"),
        mach=col("mach").astype(float),
        dynamic_pressure_pa=optional("dynamic_pressure"),
        heat_flux_w_m2=optional("heat_flux"),
        phase=phase,
        launch_lla=lla[first],
        aim_lla=lla[last],
        status=np.full(ids.size, "unknown", dtype=object),
    )


def select_objects(trajectory: Trajectory, objects: np.ndarray | slice) -> Trajectory:
    """The objects ``objects`` of a trajectory (in the order given), numbered from 0.

    Parameters
    ----------
    trajectory : Trajectory
    objects : ndarray of int or slice
        Object indices of ``trajectory``.
    """
    index = np.arange(trajectory.n_objects)[objects]
    lengths = np.diff(trajectory.offsets)[index]
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(trajectory.offsets.dtype)
    if index.size and np.all(np.diff(index) == 1):  # a run of objects: one slice
        rows = slice(int(trajectory.offsets[index[0]]), int(trajectory.offsets[index[-1] + 1]))
    else:
        rows = np.concatenate([np.arange(trajectory.offsets[i], trajectory.offsets[i + 1])
                               for i in index.tolist()] or [np.zeros(0, np.int64)])
    per_row = ("t", "r_ecef_m", "v_ecef_m_s", "a_ecef_m_s2", "lla", "mass_kg", "mach",
               "dynamic_pressure_pa", "heat_flux_w_m2", "phase")
    per_object = ("kind", "launch_lla", "aim_lla", "status")
    return Trajectory(offsets=offsets,
                      **{name: getattr(trajectory, name)[rows].copy() for name in per_row},
                      **{name: getattr(trajectory, name)[index].copy() for name in per_object})


def concat_trajectories(parts: list[Trajectory]) -> Trajectory:
    """One :class:`Trajectory` holding the objects of several, in order.

    Object ``k`` of part ``j`` becomes object ``sum(parts[:j].n_objects) + k``.
    """
    if not parts:
        raise ValueError("concat_trajectories: no trajectories")
    if len(parts) == 1:
        return parts[0]
    sizes = np.cumsum([0] + [p.offsets[-1] for p in parts[:-1]])
    offsets = np.concatenate([parts[0].offsets[:1]] + [p.offsets[1:] + base for p, base in
                                                       zip(parts, sizes, strict=True)])

    def cat(name: str) -> np.ndarray:
        return np.concatenate([getattr(p, name) for p in parts])

    return Trajectory(
        kind=cat("kind"), offsets=offsets, t=cat("t"), r_ecef_m=cat("r_ecef_m"),
        v_ecef_m_s=cat("v_ecef_m_s"), a_ecef_m_s2=cat("a_ecef_m_s2"), lla=cat("lla"),
        mass_kg=cat("mass_kg"), mach=cat("mach"), dynamic_pressure_pa=cat("dynamic_pressure_pa"),
        heat_flux_w_m2=cat("heat_flux_w_m2"), phase=cat("phase"), launch_lla=cat("launch_lla"),
        aim_lla=cat("aim_lla"), status=cat("status"),
    )


def build_trajectory(
    kind: np.ndarray,
    index: np.ndarray,
    t: np.ndarray,
    y: np.ndarray,
    dydt: np.ndarray,
    phase: np.ndarray,
    nose_radius_m: np.ndarray,
    launch_lla: np.ndarray,
    aim_lla: np.ndarray,
    status: np.ndarray,
) -> Trajectory:
    """Assemble a :class:`Trajectory` from integrator samples of several phases.

    Parameters
    ----------
    kind : ndarray of str, shape (B,)
    index, t, phase : ndarray, shape (M,)
        Object index, time (s) and phase code of each sample, in any order.
    y, dydt : ndarray, shape (M, 7)
        Point-mass state and its derivative.
    nose_radius_m : ndarray, shape (B,)
        Nose radius per object for the Sutton-Graves heat flux, m.
    launch_lla, aim_lla : ndarray, shape (B, 3)
    status : ndarray of str, shape (B,)
    """
    order = np.lexsort((t, index))
    index, t, y, dydt, phase = index[order], t[order], y[order], dydt[order], phase[order]
    # phases meet at one instant: keep the later phase's sample of a repeated time
    dup = np.zeros(index.size, dtype=bool)
    dup[:-1] = (index[1:] == index[:-1]) & (np.abs(t[1:] - t[:-1]) < 1e-9)
    keep = ~dup
    index, t, y, dydt, phase = index[keep], t[keep], y[keep], dydt[keep], phase[keep]
    n_objects = len(kind)
    counts = np.bincount(index, minlength=n_objects)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    r = y[:, 0:3]
    v = y[:, 3:6]
    lla = ecef_to_lla(r)
    atm = ussa76(np.maximum(lla[:, 2], -5_000.0))
    speed = np.sqrt(np.einsum("ij,ij->i", v, v))
    density = np.asarray(atm.density)
    return Trajectory(
        kind=np.asarray(kind, dtype=object),
        offsets=offsets,
        t=t,
        r_ecef_m=r,
        v_ecef_m_s=v,
        a_ecef_m_s2=dydt[:, 3:6],
        lla=lla,
        mass_kg=y[:, 6],
        mach=speed / np.asarray(atm.speed_of_sound),
        dynamic_pressure_pa=0.5 * density * speed**2,
        heat_flux_w_m2=stagnation_heat_flux_w_m2(density, speed, nose_radius_m[index]),
        phase=phase.astype(np.int8),
        launch_lla=np.asarray(launch_lla, float),
        aim_lla=np.asarray(aim_lla, float),
        status=np.asarray(status, dtype=object),
    )


#: phases counted as the sustained-flight (glide or cruise) part of a trajectory
_SUSTAINED = (PHASE_CODE["glide"], PHASE_CODE["cruise"])
MACH5 = 5.0


def summarize(trajectory: Trajectory, i: int) -> dict:
    """Key figures of object ``i`` as plain Python numbers (the ``hyperdef fly --json`` object).

    Keys: kind, status, range_km (launch to final point on the ellipsoid),
    flight_time_s, max_mach, min_glide_alt_km and max_glide_alt_km (over the glide or
    cruise phase; None when the flight has none), max_alt_km, impact_lat, impact_lon
    (deg), miss_to_aim_km, burnout_time_s, burnout_alt_km, burnout_speed_m_s,
    fraction_above_mach5 (of the flight time after burnout), max_dynamic_pressure_kpa,
    max_heat_flux_mw_m2 (Sutton-Graves stagnation point) and the time spent in each phase.
    """
    rows = trajectory.rows(i)
    t = trajectory.t[rows]
    alt = trajectory.lla[rows, 2]
    phase = trajectory.phase[rows]
    mach = trajectory.mach[rows]
    speed = np.sqrt(np.einsum("ij,ij->i", trajectory.v_ecef_m_s[rows], trajectory.v_ecef_m_s[rows]))
    boost = np.flatnonzero(phase == PHASE_CODE["boost"])
    burnout = boost[-1] if boost.size else 0
    sustained = np.isin(phase, _SUSTAINED)
    after = np.arange(t.size) >= burnout
    dt = np.diff(t, append=t[-1])
    flight_after = dt[after].sum()
    impact = trajectory.impact_lla[i]
    per_phase = {
        name: round(float(dt[phase == code].sum()), 1)
        for code, name in enumerate(PHASES)
        if np.any(phase == code)
    }
    return {
        "kind": str(trajectory.kind[i]),
        "status": str(trajectory.status[i]),
        "range_km": round(float(trajectory.ground_range_m[i]) / 1e3, 3),
        "flight_time_s": round(float(t[-1] - t[0]), 2),
        "max_mach": round(float(mach.max()), 2),
        "min_glide_alt_km": round(float(alt[sustained].min()) / 1e3, 3)
        if sustained.any()
        else None,
        "max_glide_alt_km": round(float(alt[sustained].max()) / 1e3, 3)
        if sustained.any()
        else None,
        "max_alt_km": round(float(alt.max()) / 1e3, 3),
        "impact_lat": round(float(np.degrees(impact[0])), 6),
        "impact_lon": round(float(np.degrees(impact[1])), 6),
        "miss_to_aim_km": round(float(trajectory.miss_to_aim_m[i]) / 1e3, 4),
        "burnout_time_s": round(float(t[burnout] - t[0]), 2),
        "burnout_alt_km": round(float(alt[burnout]) / 1e3, 3),
        "burnout_speed_m_s": round(float(speed[burnout]), 1),
        "fraction_above_mach5": round(float(dt[after & (mach > MACH5)].sum() / flight_after), 4)
        if flight_after > 0
        else 0.0,
        "max_dynamic_pressure_kpa": round(
            float(trajectory.dynamic_pressure_pa[rows].max()) / 1e3, 2
        ),
        "max_heat_flux_mw_m2": round(float(trajectory.heat_flux_w_m2[rows].max()) / 1e6, 3),
        "phase_time_s": per_phase,
    }
