"""Line of sight over the Earth: the WGS-84 ellipsoid, the radar's 4/3 Earth, the limb.

Two points see each other unless the straight segment between them passes below the
Earth. A segment is blocked when its lowest point lies strictly between its ends and
below the limit surface; a low end point does not block its own line (a sensor looking
down at a target at 5 km altitude is not looking through the limb), so only the part of
the line beyond the tangent point counts. The limit surface is

- for space sensors (``k_factor=1``, the default), the WGS-84 ellipsoid raised by
  ``grazing_alt_m``: a line through the limb is blocked when its closest approach to the
  Earth is lower than ``grazing_alt_m`` (the dense lower atmosphere, clouds). The test is
  exact on the ellipsoid: scaling x, y by ``1/(a + g)`` and z by ``1/(b + g)`` maps the
  raised ellipsoid onto the unit sphere and the segment onto a segment, whose closest
  approach to the origin is closed-form. (The raised surface is the ellipsoid with both
  axes lengthened by g, which differs from the surface at constant altitude g by less
  than ``g e^2``, under 0.7 m for g = 100 km.)
- for radars (``k_factor=4/3``), the effective Earth of standard refraction: the
  rays, bent down by the decrease of the refractive index with height, become straight
  lines over an Earth whose radius is k times the true one, with heights above the
  surface and distances along it unchanged. Each pair is drawn in the plane of the two
  points' verticals, over a sphere of the ellipsoid's radius of curvature along the
  path at its middle (Euler's formula; along the equator that is exactly ``a``):
  the points keep their geodetic heights, the central angle between them shrinks by
  ``1/k``, and the straight segment is tested against the sphere of radius ``k R +
  grazing_alt_m``. With ``k_factor`` exactly 1 the exact ellipsoid test above is used.

:func:`horizon_range` gives the classic closed-form horizon over a sphere of radius k R.

References
----------
.. [Skolnik] M. I. Skolnik, *Introduction to Radar Systems*, 3rd ed., McGraw-Hill, 2001,
   ch. 8, "Propagation of Radar Waves": standard refraction, the 4/3 effective Earth
   radius and the radar horizon ``d = sqrt(2 k a h_1) + sqrt(2 k a h_2)``.
.. [Doerry] A. W. Doerry, "Earth Curvature and Atmospheric Refraction Effects on Radar
   Signal Propagation", Sandia National Laboratories, SAND2012-10690, January 2013
   (effective-Earth geometry, exact horizon ranges over a sphere of radius k R).
.. [Bowring] B. R. Bowring, "The accuracy of geodetic latitude and height equations",
   Survey Review 28(218), 202-206 (1985) (radii of curvature M, N; Euler's formula for
   the normal section at azimuth alpha, 1/R = cos^2(alpha)/M + sin^2(alpha)/N).
.. [TR8350] NIMA TR8350.2, 3rd ed., 2000, Table 3.1 (a, b of WGS-84).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hyperdef.core.earth import R_EARTH_MEAN_M, WGS84_A_M, WGS84_B_M, WGS84_E2
from hyperdef.core.frames import ecef_to_lla
from hyperdef.errors import InputError

__all__ = ["line_of_sight", "horizon_range", "STANDARD_K_FACTOR"]

#: effective Earth radius factor of standard refraction ([Skolnik] ch. 8)
STANDARD_K_FACTOR: float = 4.0 / 3.0


def _check_factor(k_factor: float, field: str = "k_factor") -> float:
    try:
        k = float(k_factor)
    except (TypeError, ValueError):
        k = math.nan
    if not math.isfinite(k) or k <= 0.0:
        raise InputError(f"{field}: {k_factor!r} must be a finite number > 0")
    return k


def _check_grazing(grazing_alt_m: float) -> float:
    try:
        g = float(grazing_alt_m)
    except (TypeError, ValueError):
        g = math.nan
    if not math.isfinite(g) or g < -WGS84_B_M / 2:
        raise InputError(f"grazing_alt_m: {grazing_alt_m!r} must be finite and above -3000 km")
    return g


def _segment_clearance(ax, ay, az, bx, by, bz, radius):
    """Closest approach of segments A-B to the origin against ``radius``.

    Returns ``blocked``: the closest point lies strictly inside the segment and
    nearer to the origin than ``radius``.
    """
    dx, dy, dz = bx - ax, by - ay, bz - az
    dd = dx * dx + dy * dy + dz * dz
    t = -(ax * dx + ay * dy + az * dz) / np.where(dd > 0.0, dd, 1.0)
    interior = (t > 0.0) & (t < 1.0) & (dd > 0.0)
    cx, cy, cz = ax + t * dx, ay + t * dy, az + t * dz
    return interior & (cx * cx + cy * cy + cz * cz < radius * radius)


def _blocked_by_ellipsoid(ra: NDArray, rb: NDArray, grazing_alt_m: float) -> NDArray:
    """Exact test against the WGS-84 ellipsoid with axes lengthened by ``grazing_alt_m``."""
    inv_a = 1.0 / (WGS84_A_M + grazing_alt_m)
    inv_b = 1.0 / (WGS84_B_M + grazing_alt_m)
    return _segment_clearance(
        ra[..., 0] * inv_a,
        ra[..., 1] * inv_a,
        ra[..., 2] * inv_b,
        rb[..., 0] * inv_a,
        rb[..., 1] * inv_a,
        rb[..., 2] * inv_b,
        1.0,
    )


def _unit_up(lat, lon):
    """Geodetic vertical (ellipsoid normal) from latitude and longitude, components."""
    cos_lat = np.cos(lat)
    return cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)


def _path_radius_m(ux, uy, uz, vx, vy, vz):
    """Radius of curvature of the ellipsoid along the path from u to v, at its middle.

    ``u``, ``v`` are the geodetic verticals of the end points. Euler's formula
    ``1/R = cos^2(alpha)/M + sin^2(alpha)/N`` at the mid-vertical's latitude, alpha the
    path azimuth there ([Bowring]).
    """
    mx, my, mz = ux + vx, uy + vy, uz + vz
    norm = np.sqrt(mx * mx + my * my + mz * mz)
    tiny = norm < 1e-12  # antipodal: any vertical will do
    norm = np.where(tiny, 1.0, norm)
    mx, my, mz = (
        np.where(tiny, ux, mx / norm),
        np.where(tiny, uy, my / norm),
        np.where(tiny, uz, mz / norm),
    )
    sin2_lat = mz * mz
    w = 1.0 - WGS84_E2 * sin2_lat
    prime_vertical = WGS84_A_M / np.sqrt(w)
    meridian = WGS84_A_M * (1.0 - WGS84_E2) / (w * np.sqrt(w))
    dx, dy, dz = vx - ux, vy - uy, vz - uz
    along_up = dx * mx + dy * my + dz * mz
    hx, hy, hz = dx - along_up * mx, dy - along_up * my, dz - along_up * mz
    horizontal2 = hx * hx + hy * hy + hz * hz
    cos2_lat = 1.0 - sin2_lat
    # north unit vector is (z_hat - sin(lat) m) / cos(lat): its component of h, squared
    north = hz  # h . z_hat; h . m = 0
    ok = (horizontal2 > 0.0) & (cos2_lat > 1e-12)
    cos2_alpha = np.where(ok, north * north / np.where(ok, horizontal2 * cos2_lat, 1.0), 0.5)
    cos2_alpha = np.clip(cos2_alpha, 0.0, 1.0)
    return 1.0 / (cos2_alpha / meridian + (1.0 - cos2_alpha) / prime_vertical)


def _blocked_effective_earth(
    ra: NDArray, rb: NDArray, k_factor: float, grazing_alt_m: float
) -> NDArray:
    """Test over the effective Earth of radius ``k R`` in the plane of the two verticals."""
    lla_a, lla_b = ecef_to_lla(ra), ecef_to_lla(rb)
    ux, uy, uz = _unit_up(lla_a[..., 0], lla_a[..., 1])
    vx, vy, vz = _unit_up(lla_b[..., 0], lla_b[..., 1])
    cx, cy, cz = uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx
    angle = np.arctan2(np.sqrt(cx * cx + cy * cy + cz * cz), ux * vx + uy * vy + uz * vz)
    radius = k_factor * _path_radius_m(ux, uy, uz, vx, vy, vz)
    rho_a = radius + lla_a[..., 2]
    rho_b = radius + lla_b[..., 2]
    reduced = angle / k_factor
    zero = np.zeros_like(rho_a)
    return _segment_clearance(
        zero,
        rho_a,
        zero,
        rho_b * np.sin(reduced),
        rho_b * np.cos(reduced),
        zero,
        radius + grazing_alt_m,
    )


def line_of_sight(
    r_a_ecef_m: ArrayLike,
    r_b_ecef_m: ArrayLike,
    *,
    k_factor: float = 1.0,
    grazing_alt_m: float = 0.0,
) -> NDArray[np.bool_]:
    """Whether each pair of points sees the other over the Earth.

    Parameters
    ----------
    r_a_ecef_m, r_b_ecef_m : array_like, shape (..., 3)
        ECEF positions, m; broadcast together (e.g. a sensor (K, 3) against targets
        (B, K, 3)).
    k_factor : float, optional
        Effective Earth radius factor: 1 for optical and space paths (exact WGS-84
        ellipsoid), 4/3 (:data:`STANDARD_K_FACTOR`) for radars in standard refraction.
    grazing_alt_m : float, optional
        Lowest altitude the line may pass at between its ends, m (default 0: the
        surface). For space infrared sensors, the limb-clearance altitude.

    Returns
    -------
    ndarray of bool, shape (...)
        True where the line is clear. False where the segment's closest approach to
        the Earth lies strictly between the points and below the limit, and where a
        coordinate is not finite.

    Raises
    ------
    InputError
        If ``k_factor`` is not a positive number or ``grazing_alt_m`` is not finite.

    References
    ----------
    .. [1] M. I. Skolnik, *Introduction to Radar Systems*, 3rd ed., McGraw-Hill, 2001,
       ch. 8 (4/3 effective Earth).
    .. [2] A. W. Doerry, SAND2012-10690, Sandia National Laboratories, 2013
       (effective-Earth geometry).
    """
    k = _check_factor(k_factor)
    g = _check_grazing(grazing_alt_m)
    ra, rb = np.broadcast_arrays(
        np.asarray(r_a_ecef_m, dtype=np.float64), np.asarray(r_b_ecef_m, dtype=np.float64)
    )
    if ra.shape[-1:] != (3,):
        raise InputError(f"r_a_ecef_m: last axis must be 3 (x, y, z), got shape {ra.shape}")
    finite = np.isfinite(ra).all(axis=-1) & np.isfinite(rb).all(axis=-1)
    if not finite.all():  # any finite stand-in; those pairs come back False
        stand_in = np.array([2.0 * WGS84_A_M, 0.0, 0.0])
        ra = np.where(finite[..., None], ra, stand_in)
        rb = np.where(finite[..., None], rb, -stand_in)
    with np.errstate(invalid="ignore", divide="ignore"):
        if k == 1.0:
            blocked = _blocked_by_ellipsoid(ra, rb, g)
        else:
            blocked = _blocked_effective_earth(ra, rb, k, g)
    return finite & ~blocked


def horizon_range(
    sensor_alt_m: ArrayLike,
    target_alt_m: ArrayLike,
    k: float = STANDARD_K_FACTOR,
    *,
    radius_m: float = R_EARTH_MEAN_M,
) -> NDArray[np.float64]:
    """Longest ground range at which two altitudes see each other over a sphere.

    Over a sphere of radius ``k R`` the line between the points grazes the surface
    when each point sits at the ground arc ``k R acos(k R / (k R + h))`` from the
    tangent point, so the range is the sum of the two arcs.

    Parameters
    ----------
    sensor_alt_m, target_alt_m : array_like, shape (...)
        Heights above the surface, m, >= 0; broadcast together.
    k : float, optional
        Effective Earth radius factor, > 0 (4/3: standard radar refraction; 1:
        geometric).
    radius_m : float, optional
        True Earth radius R, m. Default: the IUGG mean radius 6,371,008.8 m
        (:data:`~hyperdef.core.earth.R_EARTH_MEAN_M`); use ``WGS84_A_M`` to match
        the ellipsoid along the equator.

    Returns
    -------
    ndarray, shape (...)
        Ground range along the sphere of radius R, m (the arc on the true Earth
        equals the arc on the effective one: the effective-Earth model keeps distances
        along the surface).

    Raises
    ------
    InputError
        If an altitude is negative or not finite, or ``k`` or ``radius_m`` is not
        positive.

    References
    ----------
    .. [1] A. W. Doerry, SAND2012-10690, Sandia National Laboratories, 2013 (exact
       horizon over the effective sphere).
    .. [2] M. I. Skolnik, *Introduction to Radar Systems*, 3rd ed., McGraw-Hill, 2001,
       ch. 8 (approximation ``sqrt(2 k R h1) + sqrt(2 k R h2)`` for h << R).
    """
    kk = _check_factor(k, "k")
    if not np.isfinite(radius_m) or radius_m <= 0:
        raise InputError(f"radius_m: {radius_m!r} must be a finite number > 0")
    h1 = np.asarray(sensor_alt_m, dtype=np.float64)
    h2 = np.asarray(target_alt_m, dtype=np.float64)
    for name, h in (("sensor_alt_m", h1), ("target_alt_m", h2)):
        bad = ~(np.isfinite(h) & (h >= 0.0))
        if bad.any():
            raise InputError(f"{name}: {float(h[bad].flat[0])!r} must be finite and >= 0")
    rho = kk * radius_m
    return rho * (np.arccos(rho / (rho + h1)) + np.arccos(rho / (rho + h2)))
