"""Satellite orbits for the space sensor layers: Keplerian constellations and TLEs.

Two ways to place satellites, both giving ECEF position and velocity of S satellites at
K times in one vectorised call, shaped ``(S, K, 3)``:

- :class:`KeplerConstellation`: classical elements (:class:`KeplerianElements`),
  propagated as two-body orbits, optionally with the secular drift of the node, the
  argument of perigee and the mean anomaly due to J2. :func:`walker_delta` builds the
  elements of a Walker delta pattern ``i: t/p/f``.
- :class:`TleConstellation`: two-line element sets propagated with the ``sgp4`` package
  (Vallado's SGP4, ``SatrecArray``), rotated from TEME to ECEF with the IAU-82 Greenwich
  mean sidereal time.

Frames and time
---------------
The Keplerian elements are given in the Earth-rotation-only inertial frame of
:mod:`hyperdef.core.earth` (z along the Earth's axis; x along the ECEF x axis at the
scenario epoch when ``theta0_rad`` is 0). With ``theta0_rad = 0`` the right ascension of
the ascending node is thus the longitude of the ascending node at the epoch. This is
the frame a constellation designer needs; TLEs carry their own frame (TEME) and
epoch, so a :class:`TleConstellation` needs the scenario epoch as a UTC datetime.

References
----------
.. [Walker] J. G. Walker, "Satellite constellations", Journal of the British
   Interplanetary Society 37, 559-572 (1984) (delta patterns i: t/p/f).
.. [Vallado] D. A. Vallado, *Fundamentals of Astrodynamics and Applications*, 4th ed.,
   Microcosm Press, 2013: ch. 2 (Kepler's equation, the two-body problem, elements to
   position and velocity), ch. 3 (TEME, Greenwich mean sidereal time IAU-82, Julian
   dates) and ch. 9 (secular J2 rates of the node, perigee and mean anomaly), ch. 11
   (the sun-synchronous orbit).
.. [Vallado2006] D. A. Vallado, P. Crawford, R. Hujsak, T. S. Kelso, "Revisiting
   Spacetrack Report #3", AIAA 2006-6753 (SGP4 as implemented by the ``sgp4`` package,
   its verification TLEs, and the TEME-to-PEF rotation by GMST).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hyperdef.core.earth import (
    GM_EARTH_M3_S2,
    J2_EARTH,
    OMEGA_EARTH_RAD_S,
    WGS84_A_M,
    eci_to_ecef,
    eci_to_ecef_velocity,
)
from hyperdef.errors import InputError

__all__ = [
    "MIN_SATELLITE_ALTITUDE_M",
    "KeplerianElements",
    "KeplerConstellation",
    "TleConstellation",
    "walker_delta",
    "orbital_period_s",
    "solve_kepler",
    "gmst_iau82_rad",
    "julian_date",
    "teme_to_ecef",
]

#: lowest perigee altitude accepted for a satellite, m: below about 150 km drag brings a
#: satellite down within days (Vallado 2013, atmospheric drag and orbit lifetime)
MIN_SATELLITE_ALTITUDE_M: float = 150e3

_KEPLER_ITERATIONS = 30
_KEPLER_TOLERANCE_RAD = 1e-14


def orbital_period_s(semi_major_axis_m: ArrayLike) -> NDArray[np.float64]:
    """Two-body orbital period from Kepler's third law, ``T = 2 pi sqrt(a^3 / GM)``.

    Parameters
    ----------
    semi_major_axis_m : array_like, shape (...)
        Semi-major axis, m.

    Returns
    -------
    ndarray, shape (...)
        Period, s.

    References
    ----------
    .. [1] Vallado 2013, ch. 2 (Kepler's third law).
    """
    a = np.asarray(semi_major_axis_m, dtype=np.float64)
    return 2.0 * np.pi * np.sqrt(a * a * a / GM_EARTH_M3_S2)


def solve_kepler(mean_anomaly_rad: ArrayLike, eccentricity: ArrayLike) -> NDArray[np.float64]:
    """Eccentric anomaly E from Kepler's equation ``M = E - e sin E`` (elliptic orbits).

    Newton iteration from ``E0 = M + e sin M`` (``E0 = pi`` for e > 0.8), on the whole
    batch at once until every element has converged to 1e-14 rad (a few iterations for
    e < 0.5).

    Parameters
    ----------
    mean_anomaly_rad : array_like, shape (...)
        Mean anomaly M, rad, any value.
    eccentricity : array_like, shape (...)
        Eccentricity in [0, 1); broadcasts with M.

    Returns
    -------
    ndarray, shape (...)
        Eccentric anomaly E, rad, in the same revolution as M reduced to [-pi, pi).

    References
    ----------
    .. [1] Vallado 2013, ch. 2 (Kepler's equation, Newton-Raphson solution KepEqtnE).
    """
    e = np.asarray(eccentricity, dtype=np.float64)
    m = (np.asarray(mean_anomaly_rad, dtype=np.float64) + np.pi) % (2.0 * np.pi) - np.pi
    m, e = np.broadcast_arrays(m, e)
    big_e = np.where(e > 0.8, np.pi * np.sign(m + (m == 0)), m + e * np.sin(m))
    for _ in range(_KEPLER_ITERATIONS):
        step = (big_e - e * np.sin(big_e) - m) / (1.0 - e * np.cos(big_e))
        big_e = big_e - step
        if np.all(np.abs(step) < _KEPLER_TOLERANCE_RAD):
            break
    return big_e


@dataclass(frozen=True, slots=True)
class KeplerianElements:
    """Classical orbital elements of S satellites at the scenario epoch.

    Angles in the Earth-rotation-only inertial frame of :mod:`hyperdef.core.earth`
    (see the module notes).

    Attributes
    ----------
    semi_major_axis_m : ndarray, shape (S,)
        Semi-major axis a, m.
    eccentricity : ndarray, shape (S,)
        Eccentricity e, in [0, 1).
    inclination_rad : ndarray, shape (S,)
        Inclination i, rad, in [0, pi].
    raan_rad : ndarray, shape (S,)
        Right ascension of the ascending node, rad.
    arg_perigee_rad : ndarray, shape (S,)
        Argument of perigee, rad (for circular orbits, 0 and the mean anomaly is the
        argument of latitude).
    mean_anomaly_rad : ndarray, shape (S,)
        Mean anomaly at the epoch, rad.

    Raises
    ------
    hyperdef.errors.InputError
        If the arrays differ in length, are not finite, an eccentricity lies outside
        [0, 1), an inclination outside [0, 180] deg, or a perigee lies below
        :data:`MIN_SATELLITE_ALTITUDE_M` above the equatorial radius.
    """

    semi_major_axis_m: NDArray[np.float64]
    eccentricity: NDArray[np.float64]
    inclination_rad: NDArray[np.float64]
    raan_rad: NDArray[np.float64]
    arg_perigee_rad: NDArray[np.float64]
    mean_anomaly_rad: NDArray[np.float64]

    def __post_init__(self) -> None:
        names = (
            "semi_major_axis_m",
            "eccentricity",
            "inclination_rad",
            "raan_rad",
            "arg_perigee_rad",
            "mean_anomaly_rad",
        )
        arrays = {name: np.atleast_1d(np.asarray(getattr(self, name), float)) for name in names}
        n = arrays["semi_major_axis_m"].shape
        for name, value in arrays.items():
            if value.ndim != 1 or value.shape != n:
                raise InputError(f"{name}: shape {value.shape} differs from semi_major_axis_m {n}")
            if not np.all(np.isfinite(value)):
                raise InputError(f"{name}: values must be finite")
            object.__setattr__(self, name, value)
        e = arrays["eccentricity"]
        if np.any((e < 0.0) | (e >= 1.0)):
            raise InputError(f"eccentricity: {e[(e < 0) | (e >= 1)][0]!r} outside [0, 1)")
        inc = arrays["inclination_rad"]
        if np.any((inc < 0.0) | (inc > np.pi)):
            bad = np.degrees(inc[(inc < 0.0) | (inc > np.pi)][0])
            raise InputError(f"inclination_rad: {bad:.6g} deg outside [0, 180] deg")
        perigee_alt = arrays["semi_major_axis_m"] * (1.0 - e) - WGS84_A_M
        low = perigee_alt < MIN_SATELLITE_ALTITUDE_M
        if np.any(low):
            raise InputError(
                f"semi_major_axis_m: perigee altitude {perigee_alt[low][0] / 1e3:.6g} km is "
                f"below the {MIN_SATELLITE_ALTITUDE_M / 1e3:.0f} km allowed for a satellite"
            )

    @property
    def n_satellites(self) -> int:
        """Number of satellites S."""
        return int(self.semi_major_axis_m.size)


def walker_delta(
    total: int,
    planes: int,
    phasing: int,
    inclination_rad: float,
    altitude_m: float,
    raan0_rad: float = 0.0,
) -> KeplerianElements:
    """Elements of a Walker delta constellation ``i: t/p/f`` in circular orbits.

    ``t`` satellites in ``p`` planes of ``t / p`` satellites each; the planes' nodes are
    spread evenly over 360 deg, the satellites evenly within each plane, and a
    satellite in plane k + 1 leads its neighbour in plane k by ``f * 360 / t`` deg of
    argument of latitude ([Walker]_)::

        RAAN(k, j) = raan0 + 2 pi k / p
        u(k, j)    = 2 pi j / (t / p) + 2 pi f k / t

    Satellite ``k * (t / p) + j`` is satellite j of plane k.

    Parameters
    ----------
    total : int
        Number of satellites t (> 0).
    planes : int
        Number of orbital planes p; must divide t.
    phasing : int
        Relative phasing f, in [0, p - 1].
    inclination_rad : float
        Inclination i, rad, in [0, pi].
    altitude_m : float
        Orbit altitude above the equatorial radius (semi-major axis minus a), m; at
        least :data:`MIN_SATELLITE_ALTITUDE_M`.
    raan0_rad : float, optional
        Node of plane 0, rad.

    Returns
    -------
    KeplerianElements
        S = t satellites, circular (e = 0, argument of perigee 0, mean anomaly = u).

    Raises
    ------
    hyperdef.errors.InputError
        For a pattern that is not a Walker delta pattern or an altitude below 150 km.

    References
    ----------
    .. [Walker] J. G. Walker, "Satellite constellations", J. British Interplanetary
       Society 37, 559-572 (1984).
    """
    for name, value in (("total", total), ("planes", planes), ("phasing", phasing)):
        if not isinstance(value, int | np.integer) or isinstance(value, bool):
            raise InputError(f"{name}: {value!r} must be an integer")
    if total < 1 or planes < 1 or total % planes:
        raise InputError(
            f"planes: {planes} must be a positive divisor of total ({total} satellites)"
        )
    if not 0 <= phasing < planes:
        raise InputError(f"phasing: {phasing} outside [0, {planes - 1}] (0 to planes - 1)")
    if not np.isfinite(altitude_m) or altitude_m < MIN_SATELLITE_ALTITUDE_M:
        raise InputError(
            f"altitude_m: {altitude_m!r} m is below the {MIN_SATELLITE_ALTITUDE_M:.0f} m "
            "allowed for a satellite"
        )
    per_plane = total // planes
    index = np.arange(total)
    plane, slot = np.divmod(index, per_plane)
    raan = (raan0_rad + 2.0 * np.pi * plane / planes) % (2.0 * np.pi)
    arg_lat = (2.0 * np.pi * slot / per_plane + 2.0 * np.pi * phasing * plane / total) % (
        2.0 * np.pi
    )
    return KeplerianElements(
        semi_major_axis_m=np.full(total, WGS84_A_M + float(altitude_m)),
        eccentricity=np.zeros(total),
        inclination_rad=np.full(total, float(inclination_rad)),
        raan_rad=raan,
        arg_perigee_rad=np.zeros(total),
        mean_anomaly_rad=arg_lat,
    )


@dataclass(frozen=True, slots=True)
class KeplerConstellation:
    """Satellites on two-body orbits, optionally with secular J2 drift.

    With ``j2=True`` the node, the argument of perigee and the mean anomaly drift at
    the first-order secular J2 rates ([Vallado]_, ch. 9), with ``n`` the two-body mean
    motion and ``p = a (1 - e^2)``::

        dRAAN/dt = -3/2 n J2 (R/p)^2 cos i
        domega/dt = 3/4 n J2 (R/p)^2 (4 - 5 sin^2 i)
        dM/dt     = n [1 + 3/4 J2 (R/p)^2 sqrt(1 - e^2) (2 - 3 sin^2 i)]

    The short-period J2 terms (a few km in position) are left out; for a sensor layer
    that only needs where the satellites look from, this is far below what matters.

    Attributes
    ----------
    elements : KeplerianElements
        S satellites' elements at the epoch.
    j2 : bool
        Apply the secular J2 drift.
    theta0_rad : float
        Angle from the inertial x axis to the ECEF x axis at t = 0, rad (see
        :func:`hyperdef.core.earth.ecef_to_eci`).

    References
    ----------
    .. [Vallado] D. A. Vallado, *Fundamentals of Astrodynamics and Applications*, 4th
       ed., 2013, ch. 2 (two-body motion), ch. 9 (secular J2 effects).
    """

    elements: KeplerianElements
    j2: bool = False
    theta0_rad: float = 0.0

    @property
    def n_satellites(self) -> int:
        """Number of satellites S."""
        return self.elements.n_satellites

    def _mean_elements(self, t: NDArray[np.float64]):
        el = self.elements
        a = el.semi_major_axis_m[:, None]
        e = el.eccentricity[:, None]
        inc = el.inclination_rad[:, None]
        n = np.sqrt(GM_EARTH_M3_S2 / (a * a * a))
        raan = el.raan_rad[:, None] + 0.0 * t
        argp = el.arg_perigee_rad[:, None] + 0.0 * t
        m_rate = n
        if self.j2:
            p = a * (1.0 - e * e)
            k = J2_EARTH * (WGS84_A_M / p) ** 2
            sin2 = np.sin(inc) ** 2
            raan = raan - 1.5 * n * k * np.cos(inc) * t
            argp = argp + 0.75 * n * k * (4.0 - 5.0 * sin2) * t
            m_rate = n * (1.0 + 0.75 * k * np.sqrt(1.0 - e * e) * (2.0 - 3.0 * sin2))
        m = el.mean_anomaly_rad[:, None] + m_rate * t
        return a, e, inc, raan, argp, m

    def position_velocity_eci(
        self, t_s: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Inertial position and velocity of every satellite at every time.

        Parameters
        ----------
        t_s : array_like, shape (K,)
            Time from the scenario epoch, s.

        Returns
        -------
        r_eci_m, v_eci_m_s : ndarray, shape (S, K, 3)
            Position (m) and inertial velocity (m/s) in the Earth-rotation-only
            inertial frame.

        References
        ----------
        .. [1] Vallado 2013, ch. 2 (classical elements to position and velocity, COE2RV).
        """
        t = np.atleast_1d(np.asarray(t_s, dtype=np.float64)).reshape(1, -1)
        a, e, inc, raan, argp, m = self._mean_elements(t)
        big_e = solve_kepler(m, e)
        cos_e, sin_e = np.cos(big_e), np.sin(big_e)
        root = np.sqrt(1.0 - e * e)
        # perifocal position and velocity (x towards perigee)
        xp = a * (cos_e - e)
        yp = a * root * sin_e
        edot = np.sqrt(GM_EARTH_M3_S2 / (a * a * a)) / (1.0 - e * cos_e)
        vxp = -a * sin_e * edot
        vyp = a * root * cos_e * edot
        co, so = np.cos(raan), np.sin(raan)
        cw, sw = np.cos(argp), np.sin(argp)
        ci, si = np.cos(inc), np.sin(inc)
        px, py, pz = co * cw - so * sw * ci, so * cw + co * sw * ci, sw * si
        qx, qy, qz = -co * sw - so * cw * ci, -so * sw + co * cw * ci, cw * si
        r = np.stack((xp * px + yp * qx, xp * py + yp * qy, xp * pz + yp * qz), axis=-1)
        v = np.stack((vxp * px + vyp * qx, vxp * py + vyp * qy, vxp * pz + vyp * qz), axis=-1)
        return r, v

    def position_velocity_ecef(
        self, t_s: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """ECEF position and Earth-relative velocity of every satellite.

        Parameters
        ----------
        t_s : array_like, shape (K,)
            Time from the scenario epoch, s.

        Returns
        -------
        r_ecef_m, v_ecef_m_s : ndarray, shape (S, K, 3)
            Position (m) and velocity relative to the rotating Earth (m/s), in ECEF.
        """
        t = np.atleast_1d(np.asarray(t_s, dtype=np.float64)).reshape(-1)
        r, v = self.position_velocity_eci(t)
        return (
            eci_to_ecef(r, t, self.theta0_rad),
            eci_to_ecef_velocity(r, v, t, self.theta0_rad),
        )


# ------------------------------------------------------------------ TLEs and SGP4


def julian_date(epoch_utc: datetime, t_s: ArrayLike = 0.0) -> tuple[float, NDArray[np.float64]]:
    """Julian date of ``epoch_utc + t_s`` split into a whole part and a fraction.

    Parameters
    ----------
    epoch_utc : datetime.datetime
        Scenario epoch. A naive datetime is taken as UTC; an aware one is converted.
    t_s : array_like, shape (K,)
        Seconds from the epoch.

    Returns
    -------
    jd : float
        Julian date of 0 h UTC of the epoch's day (ends in .5).
    fraction : ndarray, shape (K,)
        Days from ``jd``; ``jd + fraction`` is the Julian date (UTC). Kept apart so
        that the sum loses no precision (about 1 microsecond in the fraction).

    References
    ----------
    .. [1] Vallado 2013, ch. 3 (Julian date, JDay), as ``sgp4.api.jday``.
    """
    from sgp4.api import jday

    utc = _as_utc(epoch_utc, "epoch_utc")
    seconds = utc.second + utc.microsecond * 1e-6
    jd, fr = jday(utc.year, utc.month, utc.day, utc.hour, utc.minute, seconds)
    t = np.atleast_1d(np.asarray(t_s, dtype=np.float64)).reshape(-1)
    return float(jd), fr + t / 86400.0


def gmst_iau82_rad(jd_ut1: ArrayLike, fraction: ArrayLike = 0.0) -> NDArray[np.float64]:
    """Greenwich mean sidereal time (IAU-82), rad in [0, 2 pi).

    ``GMST = 67310.54841 s + (876600 h + 8640184.812866 s) T + 0.093104 s T^2
    - 6.2e-6 s T^3`` with T the Julian centuries of UT1 from J2000 ([1]),
    the angle SGP4's TEME frame is referred to ([2]; ``sgp4.propagation.gstime``).

    Parameters
    ----------
    jd_ut1, fraction : array_like, shape (...)
        Julian date (UT1) as a whole part plus a fraction of a day (add them for one
        number); they broadcast.

    Returns
    -------
    ndarray, shape (...)
        GMST, rad.

    References
    ----------
    .. [1] Vallado 2013, ch. 3 (Greenwich mean sidereal time, IAU-82).
    .. [2] Vallado et al. 2006, "Revisiting Spacetrack Report #3", AIAA 2006-6753.
    """
    days = (np.asarray(jd_ut1, dtype=np.float64) - 2451545.0) + np.asarray(fraction, float)
    t = days / 36525.0
    seconds = (
        (-6.2e-6 * t + 0.093104) * t + (876600.0 * 3600.0 + 8640184.812866)
    ) * t + 67310.54841
    return np.radians((seconds / 240.0) % 360.0)


def teme_to_ecef(
    r_teme_m: ArrayLike, v_teme_m_s: ArrayLike, gmst_rad: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """TEME position and velocity to ECEF (Earth-fixed, pseudo-Earth-fixed without polar motion).

    ``r_ecef = R3(GMST) r_teme`` and ``v_ecef = R3(GMST) v_teme - w x r_ecef`` with the
    WGS-84 rotation rate w. Polar motion (tenths of an arcsecond, about 10 m at a
    LEO satellite's distance) and the length-of-day correction of w are ignored: the
    result is Vallado's PEF frame, which differs from ITRF/WGS-84 by polar motion only.

    Parameters
    ----------
    r_teme_m : array_like, shape (..., 3)
        Position in TEME, m.
    v_teme_m_s : array_like, shape (..., 3)
        Velocity in TEME, m/s.
    gmst_rad : array_like, shape (...)
        Greenwich mean sidereal time (:func:`gmst_iau82_rad`) at each sample, rad.

    Returns
    -------
    r_ecef_m, v_ecef_m_s : ndarray, shape (..., 3)
        Position (m) and Earth-relative velocity (m/s) in ECEF.

    References
    ----------
    .. [1] Vallado et al. 2006, "Revisiting Spacetrack Report #3", AIAA 2006-6753,
       sec. on TEME (TEME to PEF by GMST; example of 2004-04-06 07:51:28.386 UTC).
    """
    r = np.asarray(r_teme_m, dtype=np.float64)
    v = np.asarray(v_teme_m_s, dtype=np.float64)
    theta = np.asarray(gmst_rad, dtype=np.float64)
    c, s = np.cos(theta), np.sin(theta)
    x = c * r[..., 0] + s * r[..., 1]
    y = -s * r[..., 0] + c * r[..., 1]
    vx = c * v[..., 0] + s * v[..., 1] + OMEGA_EARTH_RAD_S * y
    vy = -s * v[..., 0] + c * v[..., 1] - OMEGA_EARTH_RAD_S * x
    return (
        np.stack((x, y, r[..., 2] + 0.0 * c), axis=-1),
        np.stack((vx, vy, v[..., 2] + 0.0 * c), axis=-1),
    )


def _as_utc(value: datetime, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise InputError(f"{field}: {value!r} must be a datetime (UTC)")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _tle_checksum(line: str) -> int:
    return sum(int(c) if c.isdigit() else (1 if c == "-" else 0) for c in line[:68]) % 10


@dataclass(frozen=True, slots=True)
class TleConstellation:
    """Satellites from two-line element sets, propagated with the ``sgp4`` package.

    Propagation is ``sgp4.api.SatrecArray.sgp4`` (Vallado's SGP4/SDP4, compiled): all
    satellites and times in one call. Its TEME output goes to ECEF by
    :func:`teme_to_ecef` at the IAU-82 GMST of each time, polar motion ignored. The
    scenario's times are UTC; UT1 is taken as UTC + ``dut1_s`` (|UT1 - UTC| < 0.9 s;
    0.4 s of it moves a LEO satellite's ECEF position by about 250 m).

    Attributes
    ----------
    tles : tuple of (str, str)
        Line 1 and line 2 of each satellite's element set (characters past column 69
        are ignored).
    epoch_utc : datetime.datetime
        Scenario epoch: the instant of t = 0. Naive datetimes are taken as UTC.
    dut1_s : float
        UT1 - UTC, s (IERS Bulletin A), default 0.

    Notes
    -----
    A satellite that SGP4 reports as decayed or in error at a time gets NaN position
    and velocity there; the sensors treat NaN as "sees nothing".

    Raises
    ------
    hyperdef.errors.InputError
        For a malformed line, a wrong checksum, an element set SGP4 rejects, or a
        perigee below :data:`MIN_SATELLITE_ALTITUDE_M`.

    References
    ----------
    .. [1] Vallado et al. 2006, "Revisiting Spacetrack Report #3", AIAA 2006-6753.
    .. [2] B. Rhodes, ``sgp4`` Python package (https://pypi.org/project/sgp4/), the
       ``SatrecArray`` API.
    """

    tles: tuple[tuple[str, str], ...]
    epoch_utc: datetime
    dut1_s: float = 0.0

    def __post_init__(self) -> None:
        from sgp4.api import Satrec

        _as_utc(self.epoch_utc, "epoch_utc")
        if not np.isfinite(self.dut1_s) or abs(self.dut1_s) > 0.9:
            raise InputError(f"dut1_s: {self.dut1_s!r} s outside [-0.9, 0.9] s")
        tles = tuple(tuple(pair) for pair in self.tles)
        if not tles:
            raise InputError("tles: give at least one two-line element set")
        for i, pair in enumerate(tles):
            if len(pair) != 2 or not all(isinstance(line, str) for line in pair):
                raise InputError(f"tles[{i}]: expected a pair of strings (line 1, line 2)")
            for j, line in enumerate(pair):
                if len(line) < 69 or not line.startswith(f"{j + 1} "):
                    raise InputError(
                        f"tles[{i}] line {j + 1}: must start with '{j + 1} ' and have 69 "
                        f"columns, got {line[:20]!r}... ({len(line)} columns)"
                    )
                if line[68].isdigit() and int(line[68]) != _tle_checksum(line):
                    raise InputError(
                        f"tles[{i}] line {j + 1}: checksum {line[68]} should be "
                        f"{_tle_checksum(line)}"
                    )
            sat = Satrec.twoline2rv(pair[0][:69], pair[1][:69])
            if sat.error:
                raise InputError(f"tles[{i}]: SGP4 rejects the element set (error {sat.error})")
            perigee_m = (sat.altp * sat.radiusearthkm) * 1e3
            if perigee_m < MIN_SATELLITE_ALTITUDE_M:
                raise InputError(
                    f"tles[{i}]: perigee altitude {perigee_m / 1e3:.6g} km is below the "
                    f"{MIN_SATELLITE_ALTITUDE_M / 1e3:.0f} km allowed for a satellite"
                )
        object.__setattr__(self, "tles", tles)

    @property
    def n_satellites(self) -> int:
        """Number of satellites S."""
        return len(self.tles)

    def _satrecs(self):
        from sgp4.api import Satrec, SatrecArray

        return SatrecArray([Satrec.twoline2rv(a[:69], b[:69]) for a, b in self.tles])

    def position_velocity_teme(
        self, t_s: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """SGP4 position and velocity in TEME.

        Parameters
        ----------
        t_s : array_like, shape (K,)
            Time from the scenario epoch, s.

        Returns
        -------
        r_teme_m, v_teme_m_s : ndarray, shape (S, K, 3)
            TEME position (m) and velocity (m/s); NaN where SGP4 reports an error.
        """
        jd, fr = julian_date(self.epoch_utc, t_s)
        errors, r_km, v_km_s = self._satrecs().sgp4(np.full(fr.shape, jd), fr)
        bad = (errors != 0)[..., None]
        return np.where(bad, np.nan, r_km * 1e3), np.where(bad, np.nan, v_km_s * 1e3)

    def position_velocity_ecef(
        self, t_s: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """ECEF position and Earth-relative velocity of every satellite.

        Parameters
        ----------
        t_s : array_like, shape (K,)
            Time from the scenario epoch, s.

        Returns
        -------
        r_ecef_m, v_ecef_m_s : ndarray, shape (S, K, 3)
            Position (m) and velocity relative to the rotating Earth (m/s); NaN where
            SGP4 reports an error.
        """
        r, v = self.position_velocity_teme(t_s)
        jd, fr = julian_date(self.epoch_utc, t_s)
        gmst = gmst_iau82_rad(jd, fr + self.dut1_s / 86400.0)
        return teme_to_ecef(r, v, gmst[None, :])

    def epoch_offset_s(self) -> NDArray[np.float64]:
        """Seconds from the scenario epoch to each element set's own epoch, shape (S,)."""
        from sgp4.api import Satrec

        jd, fr = julian_date(self.epoch_utc)
        sats = [Satrec.twoline2rv(a[:69], b[:69]) for a, b in self.tles]
        return np.array([((s.jdsatepoch - jd) + (s.jdsatepochF - fr[0])) * 86400.0 for s in sats])
