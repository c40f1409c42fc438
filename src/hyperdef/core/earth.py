"""WGS-84 Earth: defining constants, J2 gravity, Earth rotation.

Everything here works on arrays shaped ``(..., 3)`` (batch axes first, Cartesian
components last) in SI units, and broadcasts over any leading shape. The gravity and
rotating-frame kernels are called four times per RK4 step for every vehicle, so they
unpack the components once and write the small vector algebra out by hand instead of
calling ``np.cross``.

Frames
------
ECEF
    Earth-centred, Earth-fixed, WGS-84: z along the rotation axis, x through the
    Greenwich meridian on the equator.
ECI (here)
    The ECEF axes frozen at the scenario epoch ``t_s = 0`` and turned back by the
    Earth's rotation angle ``theta0 + omega * t_s`` about z. It ignores precession,
    nutation, polar motion and variations of the rotation rate. Over the flight
    times of interest (minutes to an hour) precession and nutation turn the axes by
    less than 1e-7 rad, and polar motion (the rotation axis lies up to about 0.3
    arcsec, 1.5e-6 rad, from ECEF z) displaces an Earth-fixed point by at most a few
    metres in this frame after an hour: negligible next to sensor and model errors.
    It is not GCRF or J2000 and must not be used to point at stars or to read
    ephemerides.

References
----------
.. [TR8350] National Imagery and Mapping Agency, "Department of Defense World
   Geodetic System 1984: Its Definition and Relationships with Local Geodetic
   Systems", NIMA TR8350.2, 3rd ed., 2000. Defining parameters in
   Ch. 3; normal gravity (Somigliana) eq. (4-1).
.. [Vallado] D. A. Vallado, "Fundamentals of Astrodynamics and Applications", 4th ed.,
   Microcosm Press, 2013: Ch. 3 (frames, Earth rotation), Ch. 8 (zonal harmonics,
   J2 acceleration).
.. [Moritz] H. Moritz, "Geodetic Reference System 1980", Journal of Geodesy 74,
   128-133 (2000), doi:10.1007/s001900050278 (mean radius R1 = (2a + b)/3).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "WGS84_A_M",
    "WGS84_INV_F",
    "WGS84_F",
    "WGS84_B_M",
    "WGS84_E2",
    "WGS84_EP2",
    "GM_EARTH_M3_S2",
    "OMEGA_EARTH_RAD_S",
    "J2_EARTH",
    "G0_M_S2",
    "R_EARTH_MEAN_M",
    "gravity_point_mass_ecef",
    "gravity_j2_ecef",
    "rotating_frame_acceleration",
    "normal_gravity_surface",
    "ecef_to_eci_rotation",
    "ecef_to_eci",
    "eci_to_ecef",
    "ecef_to_eci_velocity",
    "eci_to_ecef_velocity",
]

# --- WGS-84 defining parameters [TR8350, Table 3.1] -------------------------------
WGS84_A_M: float = 6378137.0
"""Semi-major (equatorial) axis a, m."""
WGS84_INV_F: float = 298.257223563
"""Inverse flattening 1/f."""
GM_EARTH_M3_S2: float = 3.986004418e14
"""Earth's gravitational constant GM including the atmosphere, m^3/s^2."""
OMEGA_EARTH_RAD_S: float = 7.292115e-5
"""Earth's rotation rate omega, rad/s."""

# --- Derived geometric constants ----------------------------------------------------
WGS84_F: float = 1.0 / WGS84_INV_F
"""Flattening f = (a - b) / a."""
WGS84_B_M: float = WGS84_A_M * (1.0 - WGS84_F)
"""Semi-minor (polar) axis b = a (1 - f) = 6356752.3142 m."""
WGS84_E2: float = WGS84_F * (2.0 - WGS84_F)
"""First eccentricity squared e^2 = (a^2 - b^2) / a^2 = 6.69437999014e-3."""
WGS84_EP2: float = WGS84_E2 / (1.0 - WGS84_E2)
"""Second eccentricity squared e'^2 = (a^2 - b^2) / b^2 = 6.73949674228e-3."""

# --- Gravity field ------------------------------------------------------------------
# J2 is the unnormalised second-degree zonal coefficient, J2 = -sqrt(5) * C̄20, taken
# from the EGM96 fully normalised coefficient C̄20 = -0.484165371736e-3 that TR8350.2
# adopts for the Earth's gravity field (Ch. 5). Do not confuse it with the C̄20 the
# report derives for the level ellipsoid's *normal* field, -0.484166774985e-3
# (Ch. 3, derived constants), which gives J2 = 1.0826298e-3: the two differ by
# 3e-6 relative, a 1e-8 m/s^2 effect on gravity.
J2_EARTH: float = 1.08262668e-3
"""Earth's J2 (unnormalised, EGM96 value via TR8350.2); reference radius WGS84_A_M."""

G0_M_S2: float = 9.80665
"""Standard acceleration of gravity (CGPM 1901), m/s^2: for g-loads, not dynamics."""
R_EARTH_MEAN_M: float = 6371008.8
"""Mean Earth radius R1 = (2a + b)/3 = 6371008.7714 m (IUGG, [Moritz]), rounded.

Radius of the sphere used by the great-circle guidance helpers."""

# --- Somigliana normal gravity constants [TR8350, Ch. 3 derived physical constants] -
_GAMMA_E_M_S2 = 9.7803253359  # normal gravity at the equator
_SOMIGLIANA_K = 0.00193185265241  # k = (b gamma_p) / (a gamma_e) - 1, gamma_p = 9.8321849378

_J2_FACTOR_M2 = 1.5 * J2_EARTH * WGS84_A_M * WGS84_A_M  # (3/2) J2 a^2


def gravity_point_mass_ecef(r_ecef_m: ArrayLike, gm: float = GM_EARTH_M3_S2) -> NDArray[np.float64]:
    """Gravitational acceleration of a point mass, ``-gm r / |r|^3``.

    Parameters
    ----------
    r_ecef_m : array_like, shape (..., 3)
        Position, m, in any frame centred on the attracting body (ECEF or ECI).
    gm : float, optional
        Gravitational parameter, m^3/s^2. Default: WGS-84 GM.

    Returns
    -------
    ndarray, shape (..., 3)
        Acceleration, m/s^2, in the frame of ``r_ecef_m``.

    References
    ----------
    .. [1] NIMA TR8350.2, 3rd ed., 2000, Table 3.1 (GM).
    """
    r = np.asarray(r_ecef_m, dtype=np.float64)
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    r2 = x * x + y * y + z * z
    k = -gm / (r2 * np.sqrt(r2))
    return np.stack((k * x, k * y, k * z), axis=-1)


def gravity_j2_ecef(r_ecef_m: ArrayLike) -> NDArray[np.float64]:
    """Gravitational acceleration of the Earth with the J2 zonal term.

    Point mass plus the second zonal harmonic, no centrifugal term (that is in
    :func:`rotating_frame_acceleration`)::

        g_x = -GM x / r^3 [1 + (3/2) J2 (a/r)^2 (1 - 5 z^2 / r^2)]
        g_y = -GM y / r^3 [1 + (3/2) J2 (a/r)^2 (1 - 5 z^2 / r^2)]
        g_z = -GM z / r^3 [1 + (3/2) J2 (a/r)^2 (3 - 5 z^2 / r^2)]

    The kernel regroups these as ``c_xy = q (5 z^2 / r^2 - 1) - GM / r^3`` and
    ``c_z = c_xy - 2 q`` with ``q = (3/2) J2 a^2 GM / r^5``: about 20 element-wise
    operations. The field is symmetric about z, so the same expression holds in ECEF
    and in the Earth-rotation-only ECI frame of this module.

    Parameters
    ----------
    r_ecef_m : array_like, shape (..., 3)
        Position in ECEF (or in this module's ECI), m. Must be non-zero.

    Returns
    -------
    ndarray, shape (..., 3)
        Gravitational acceleration, m/s^2, in the frame of ``r_ecef_m``.

    Notes
    -----
    The J2 term is about 1e-3 of the central term; the neglected J3 and J4 are a
    further 1e-3 smaller (a few 1e-5 m/s^2 near the surface).

    References
    ----------
    .. [1] D. A. Vallado, Fundamentals of Astrodynamics and Applications, 4th ed.,
       2013, Ch. 8 (gravity field of a central body: zonal harmonics and the J2
       acceleration).
    .. [2] NIMA TR8350.2, 3rd ed., 2000 (GM, a, and the EGM96 C̄20 behind J2).
    """
    r = np.asarray(r_ecef_m, dtype=np.float64)
    flat = r.reshape(-1, 3)
    g = np.stack(gravity_j2_components(flat[:, 0], flat[:, 1], flat[:, 2]), axis=-1)
    return g.reshape(r.shape)


def gravity_j2_components(x: NDArray[np.float64], y: NDArray[np.float64],
                          z: NDArray[np.float64],
                          out: tuple[NDArray[np.float64], ...] | None = None
                          ) -> tuple[NDArray[np.float64], ...]:
    """:func:`gravity_j2_ecef` on unpacked coordinates (m), returning ``(g_x, g_y, g_z)``.

    The form used inside integration kernels that hold the state by component; the
    arithmetic is done in place (at 10,000 vehicles a fresh temporary per operation
    costs more than the operation) and, with ``out``, written into three given arrays.
    Coordinates are 1-D arrays of equal length.
    """
    z2 = z * z
    inv_r2 = x * x
    inv_r2 += y * y
    inv_r2 += z2
    np.reciprocal(inv_r2, out=inv_r2)
    gm_r3 = np.sqrt(inv_r2)
    gm_r3 *= inv_r2
    gm_r3 *= GM_EARTH_M3_S2
    q = inv_r2 * gm_r3
    q *= _J2_FACTOR_M2
    c_xy = z2
    c_xy *= inv_r2
    c_xy *= 5.0
    c_xy -= 1.0
    c_xy *= q
    c_xy -= gm_r3
    c_z = q
    c_z *= -2.0
    c_z += c_xy
    if out is None:
        return c_xy * x, c_xy * y, c_z * z
    np.multiply(c_xy, x, out=out[0])
    np.multiply(c_xy, y, out=out[1])
    np.multiply(c_z, z, out=out[2])
    return out


def rotating_frame_acceleration(
    r_ecef_m: ArrayLike,
    v_ecef_m_s: ArrayLike,
    omega: float = OMEGA_EARTH_RAD_S,
) -> NDArray[np.float64]:
    """Coriolis plus centrifugal acceleration in the Earth-fixed frame.

    ``-2 w x v - w x (w x r)`` with ``w = (0, 0, omega)``, written out::

        a_x =  omega^2 x + 2 omega v_y
        a_y =  omega^2 y - 2 omega v_x
        a_z =  0

    Parameters
    ----------
    r_ecef_m : array_like, shape (..., 3)
        Position in ECEF, m.
    v_ecef_m_s : array_like, shape (..., 3)
        Velocity relative to ECEF, expressed in ECEF, m/s. Broadcasts with
        ``r_ecef_m``.
    omega : float, optional
        Rotation rate of the frame about ECEF z, rad/s. Default: WGS-84 omega.

    Returns
    -------
    ndarray, shape (..., 3)
        Apparent acceleration in ECEF, m/s^2, to add to the gravitational and
        aerodynamic accelerations when integrating in ECEF.

    References
    ----------
    .. [1] D. A. Vallado, Fundamentals of Astrodynamics and Applications, 4th ed.,
       2013, Ch. 3 (coordinate systems; rotating frames and the transport theorem).
    """
    r = np.asarray(r_ecef_m, dtype=np.float64)
    v = np.asarray(v_ecef_m_s, dtype=np.float64)
    w2 = omega * omega
    two_w = 2.0 * omega
    ax = w2 * r[..., 0] + two_w * v[..., 1]
    ay = w2 * r[..., 1] - two_w * v[..., 0]
    az = np.zeros_like(ax)
    return np.stack((ax, ay, az), axis=-1)


def normal_gravity_surface(lat_rad: ArrayLike) -> NDArray[np.float64]:
    """Magnitude of WGS-84 normal gravity on the ellipsoid (Somigliana).

    ``gamma = gamma_e (1 + k sin^2 lat) / sqrt(1 - e^2 sin^2 lat)``, the gravity
    (gravitation plus centrifugal) of the level ellipsoid at height zero. Used to
    check :func:`gravity_j2_ecef`; the dynamics use the vector field instead.

    Parameters
    ----------
    lat_rad : array_like, shape (...)
        Geodetic latitude, rad.

    Returns
    -------
    ndarray, shape (...)
        Normal gravity, m/s^2 (9.7803 at the equator, 9.8322 at the poles).

    References
    ----------
    .. [1] NIMA TR8350.2, 3rd ed., 2000, eq. (4-1); gamma_e, k and e^2 from the
       tables of derived constants in Ch. 3.
    """
    s2 = np.sin(np.asarray(lat_rad, dtype=np.float64)) ** 2
    return _GAMMA_E_M_S2 * (1.0 + _SOMIGLIANA_K * s2) / np.sqrt(1.0 - WGS84_E2 * s2)


def _rotation_angle(t_s: ArrayLike, theta0_rad: float) -> NDArray[np.float64]:
    return theta0_rad + OMEGA_EARTH_RAD_S * np.asarray(t_s, dtype=np.float64)


def ecef_to_eci_rotation(t_s: ArrayLike, theta0_rad: float = 0.0) -> NDArray[np.float64]:
    """Rotation matrix taking ECEF components to this module's ECI frame.

    ``r_eci = R @ r_ecef`` with ``R = Rz(theta)``, ``theta = theta0 + omega t``::

        R = [[cos theta, -sin theta, 0],
             [sin theta,  cos theta, 0],
             [0,          0,         1]]

    Earth rotation only: no precession, nutation or polar motion (see the module
    notes); adequate for flight times of minutes to an hour.

    Parameters
    ----------
    t_s : array_like, shape (...)
        Time since the scenario epoch, s.
    theta0_rad : float, optional
        Angle from the ECI x axis to the ECEF x axis at ``t_s = 0``, rad. Default 0:
        ECI coincides with ECEF at the epoch.

    Returns
    -------
    ndarray, shape (..., 3, 3)
        Rotation matrix; its transpose takes ECI to ECEF.

    References
    ----------
    .. [1] D. A. Vallado, Fundamentals of Astrodynamics and Applications, 4th ed.,
       2013, Ch. 3 (rotation about the pole by the Earth rotation angle).
    """
    theta = _rotation_angle(t_s, theta0_rad)
    c, s = np.cos(theta), np.sin(theta)
    zero, one = np.zeros_like(c), np.ones_like(c)
    rows = (
        np.stack((c, -s, zero), axis=-1),
        np.stack((s, c, zero), axis=-1),
        np.stack((zero, zero, one), axis=-1),
    )
    return np.stack(rows, axis=-2)


def _rotate_z(v: NDArray[np.float64], c: NDArray[np.float64], s: NDArray[np.float64]):
    """Components of ``Rz(theta) v`` given ``cos theta``, ``sin theta`` (written out)."""
    vx, vy, vz = v[..., 0], v[..., 1], v[..., 2]
    return c * vx - s * vy, s * vx + c * vy, vz + 0.0 * c


def ecef_to_eci(
    r_ecef_m: ArrayLike, t_s: ArrayLike, theta0_rad: float = 0.0
) -> NDArray[np.float64]:
    """Position from ECEF to the Earth-rotation-only ECI frame.

    Parameters
    ----------
    r_ecef_m : array_like, shape (..., 3)
        Position in ECEF, m.
    t_s : array_like, shape (...)
        Time since the scenario epoch, s; broadcasts with the leading axes of
        ``r_ecef_m``.
    theta0_rad : float, optional
        ECI-to-ECEF angle at the epoch, rad (see :func:`ecef_to_eci_rotation`).

    Returns
    -------
    ndarray, shape (..., 3)
        Position in ECI, m.

    References
    ----------
    .. [1] D. A. Vallado, Fundamentals of Astrodynamics and Applications, 4th ed.,
       2013, Ch. 3.
    """
    r = np.asarray(r_ecef_m, dtype=np.float64)
    theta = _rotation_angle(t_s, theta0_rad)
    return np.stack(_rotate_z(r, np.cos(theta), np.sin(theta)), axis=-1)


def eci_to_ecef(r_eci_m: ArrayLike, t_s: ArrayLike, theta0_rad: float = 0.0) -> NDArray[np.float64]:
    """Position from the Earth-rotation-only ECI frame to ECEF.

    Inverse of :func:`ecef_to_eci`; same shapes and units.

    References
    ----------
    .. [1] D. A. Vallado, Fundamentals of Astrodynamics and Applications, 4th ed.,
       2013, Ch. 3.
    """
    r = np.asarray(r_eci_m, dtype=np.float64)
    theta = _rotation_angle(t_s, theta0_rad)
    return np.stack(_rotate_z(r, np.cos(theta), -np.sin(theta)), axis=-1)


def ecef_to_eci_velocity(
    r_ecef_m: ArrayLike,
    v_ecef_m_s: ArrayLike,
    t_s: ArrayLike,
    theta0_rad: float = 0.0,
) -> NDArray[np.float64]:
    """Velocity from ECEF to the Earth-rotation-only ECI frame.

    ``v_eci = R (v_ecef + w x r_ecef)`` with ``w = (0, 0, omega)``: the inertial
    velocity includes the transport velocity of the rotating Earth.

    Parameters
    ----------
    r_ecef_m : array_like, shape (..., 3)
        Position in ECEF, m.
    v_ecef_m_s : array_like, shape (..., 3)
        Velocity relative to ECEF, in ECEF, m/s.
    t_s : array_like, shape (...)
        Time since the scenario epoch, s.
    theta0_rad : float, optional
        ECI-to-ECEF angle at the epoch, rad.

    Returns
    -------
    ndarray, shape (..., 3)
        Inertial velocity in ECI, m/s.

    References
    ----------
    .. [1] D. A. Vallado, Fundamentals of Astrodynamics and Applications, 4th ed.,
       2013, Ch. 3 (transport theorem).
    """
    r = np.asarray(r_ecef_m, dtype=np.float64)
    v = np.asarray(v_ecef_m_s, dtype=np.float64)
    w = OMEGA_EARTH_RAD_S
    # v + w x r, with w x r = (-w y, w x, 0)
    vin = np.stack(
        (v[..., 0] - w * r[..., 1], v[..., 1] + w * r[..., 0], v[..., 2] + 0.0 * r[..., 2]),
        axis=-1,
    )
    theta = _rotation_angle(t_s, theta0_rad)
    return np.stack(_rotate_z(vin, np.cos(theta), np.sin(theta)), axis=-1)


def eci_to_ecef_velocity(
    r_eci_m: ArrayLike,
    v_eci_m_s: ArrayLike,
    t_s: ArrayLike,
    theta0_rad: float = 0.0,
) -> NDArray[np.float64]:
    """Velocity from the Earth-rotation-only ECI frame to ECEF.

    ``v_ecef = R^T v_eci - w x r_ecef`` with ``r_ecef = R^T r_eci``; inverse of
    :func:`ecef_to_eci_velocity`.

    Parameters
    ----------
    r_eci_m : array_like, shape (..., 3)
        Position in ECI, m.
    v_eci_m_s : array_like, shape (..., 3)
        Inertial velocity in ECI, m/s.
    t_s : array_like, shape (...)
        Time since the scenario epoch, s.
    theta0_rad : float, optional
        ECI-to-ECEF angle at the epoch, rad.

    Returns
    -------
    ndarray, shape (..., 3)
        Velocity relative to ECEF, in ECEF, m/s.

    References
    ----------
    .. [1] D. A. Vallado, Fundamentals of Astrodynamics and Applications, 4th ed.,
       2013, Ch. 3 (transport theorem).
    """
    r = np.asarray(r_eci_m, dtype=np.float64)
    v = np.asarray(v_eci_m_s, dtype=np.float64)
    theta = _rotation_angle(t_s, theta0_rad)
    c, s = np.cos(theta), -np.sin(theta)
    rx, ry, _ = _rotate_z(r, c, s)
    vx, vy, vz = _rotate_z(v, c, s)
    w = OMEGA_EARTH_RAD_S
    return np.stack((vx + w * ry, vy - w * rx, vz), axis=-1)
