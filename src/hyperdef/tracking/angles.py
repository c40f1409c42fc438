"""Angles-only position fixes: triangulation of lines of sight and track initiation.

A space infrared layer reports azimuth and elevation (``los``, DESIGN.md) of a target in
the local ENU frame at each satellite. Two or more simultaneous looks from known,
separated sensor positions fix the target's position; fixes at two or more times give a
velocity, hence a six-state prior for the tracker.

Triangulation
    Each look ``k`` defines the line ``r_k + s u_k``, ``u_k = C_k^T (cos el sin az,
    cos el cos az, sin el)`` with ``C_k`` the ECEF-to-ENU rotation at the sensor's
    geodetic position (:func:`hyperdef.core.frames.enu_rotation`, the convention of
    :class:`hyperdef.tracking.measurements.Los`). The estimate is found in two stages:

    1. **Linear intersection** ([HZ] section 12.5, the midpoint method generalised to
       K lines): minimise ``sum_k w_k |(I - u_k u_k^T)(r - r_k)|^2``, i.e. solve
       ``(sum_k w_k A_k) r = sum_k w_k A_k r_k`` with ``A_k = I - u_k u_k^T``. The first
       pass weights each line by ``1 / sigma_k^2`` (``sigma_k^2 = tr(R_k) / 2``); the
       second by ``1 / (sigma_k rho_k)^2`` with ``rho_k`` the range from the first pass,
       the cross-range standard deviation of the line at the target.
    2. **Gauss-Newton** on the angle residuals with the ``Los`` measurement model
       (``n_iterations`` steps, default 2): ``J = sum_k H_k^T R_k^-1 H_k``,
       ``r <- r + J^-1 sum_k H_k^T R_k^-1 (z_k - h_k(r))``. This is the maximum-likelihood
       fix for Gaussian angle noise, and ``P = J^-1`` its covariance (the Cramer-Rao
       bound, reached to first order in the angle noise).

    Without noise both stages return the intersection exactly (to rounding).

Ill-conditioned geometry
    Two nearly parallel lines fix the cross-range position well and the along-line
    position badly: the covariance grows as ``1 / sin^2(theta)`` along the bisector,
    ``theta`` the angle between the lines. Every fix reports ``separation_rad``, the
    largest angle between any two of its lines, and a ``status``:

    ``ok``
        ``separation_rad >= min_separation_rad``.
    ``ill_conditioned``
        Smaller separation: the position and its (large, but still first-order
        consistent) covariance are returned; use them with care.
    ``degenerate``
        Fewer than two usable looks, or a singular normal matrix: position NaN and
        covariance ``inf * I``.

    No exception is raised for geometry: one bad fix must not stop a campaign
    (STYLE.md, rule 8).

Initiation
    :func:`initiate_from_los` triangulates each time ``t_j`` and fits
    ``r(t) = r_ref + v tau + a tau^2 / 2``, ``tau = t - t_ref`` (``t_ref`` the last time)
    by weighted least squares with the fixes' covariances as weights, ``a`` the known
    gravitational plus rotating-frame acceleration at the fix (or zero). With two times
    this is two-point differencing: ``v = (r_1 - r_0) / dt + a dt / 2`` and::

        P = [[P_1,       P_1 / dt],
             [P_1 / dt,  (P_0 + P_1) / dt^2]]

    An unmodelled acceleration of standard deviation ``sigma_accel_m_s2`` per axis
    (thrust, drag, lift) adds ``(sigma_accel tau_span / 2)^2`` to the velocity variance
    (the bias of a chord velocity over a span ``tau_span``). The prior is for the
    ConstantVelocity, Ballistic or Glide states through
    :func:`hyperdef.tracking.models.embed`.

References
----------
.. [HZ] R. Hartley, A. Zisserman, *Multiple View Geometry in Computer Vision*, 2nd ed.,
   Cambridge University Press, 2004, section 12.5 (triangulation; the linear and the
   optimal methods).
.. [BLK] Y. Bar-Shalom, X. R. Li, T. Kirubarajan, *Estimation with Applications to
   Tracking and Navigation*, Wiley, 2001, section 3.4 (Gauss-Newton maximum-likelihood
   estimation; the covariance as the inverse Fisher information), section 3.5
   (two-point differencing initialisation of a track).
.. [Tor] D. J. Torrieri, "Statistical theory of passive location systems", IEEE Trans.
   Aerospace and Electronic Systems AES-20(2), 183-198 (1984),
   doi:10.1109/TAES.1984.310439 (least-squares bearing intersection and its
   geometric dilution of precision).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from hyperdef.core.earth import gravity_j2_ecef, rotating_frame_acceleration
from hyperdef.core.frames import ecef_to_lla, enu_rotation
from hyperdef.errors import InputError
from hyperdef.tracking.measurements import Los

__all__ = [
    "Triangulation",
    "LosInitiation",
    "los_to_ecef_unit",
    "triangulate",
    "initiate_from_los",
    "STATUS",
]

#: Status codes of a fix, in order of increasing trouble.
STATUS = ("ok", "ill_conditioned", "degenerate")

_LOS = Los()
_EYE3 = np.eye(3)


class Triangulation(NamedTuple):
    """Position fixes from lines of sight, batched over B targets (leading axes ``...``).

    Attributes
    ----------
    r_ecef_m : ndarray, shape (..., 3)
        ECEF position, m (NaN where ``status`` is ``degenerate``).
    P : ndarray, shape (..., 3, 3)
        Its covariance, m^2 (``inf * I`` where degenerate).
    status : ndarray of str, shape (...)
        ``ok``, ``ill_conditioned`` or ``degenerate`` (module notes).
    separation_rad : ndarray, shape (...)
        Largest angle between any two lines of sight of the fix, rad, in [0, pi/2].
    """

    r_ecef_m: np.ndarray
    P: np.ndarray
    status: np.ndarray
    separation_rad: np.ndarray


class LosInitiation(NamedTuple):
    """Six-state track priors from angles-only fixes, batched over targets.

    Attributes
    ----------
    x : ndarray, shape (..., 6)
        ECEF position (m) and velocity relative to the Earth (m/s) at ``t_ref_s``.
    P : ndarray, shape (..., 6, 6)
        Covariance (m^2, m^2/s, m^2/s^2).
    t_ref_s : float
        Time of the state, s (the last look time).
    status : ndarray of str, shape (...)
        Worst status of the fixes used.
    """

    x: np.ndarray
    P: np.ndarray
    t_ref_s: float
    status: np.ndarray


def los_to_ecef_unit(sensor_r_ecef_m: np.ndarray, los_az_el_rad: np.ndarray) -> np.ndarray:
    """ECEF unit vectors of lines of sight given as az/el in the sensor's ENU frame.

    Parameters
    ----------
    sensor_r_ecef_m : ndarray, shape (..., 3)
        Sensor ECEF positions, m.
    los_az_el_rad : ndarray, shape (..., 2)
        Azimuth (from north towards east) and elevation, rad, in the ENU frame at the
        sensor's geodetic position.

    Returns
    -------
    ndarray, shape (..., 3)
        Unit vectors in ECEF.
    """
    az, el = los_az_el_rad[..., 0], los_az_el_rad[..., 1]
    cos_el = np.cos(el)
    u_enu = np.stack((cos_el * np.sin(az), cos_el * np.cos(az), np.sin(el)), axis=-1)
    c = enu_rotation(ecef_to_lla(sensor_r_ecef_m), check=False)
    return np.einsum("...ji,...j->...i", c, u_enu)


def _linear_fix(r_s: np.ndarray, u: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least-squares intersection; r_s, u (B, K, 3), w (B, K) -> r (B, 3), A (B, 3, 3)."""
    proj = _EYE3 - u[..., :, None] * u[..., None, :]  # (B, K, 3, 3)
    a = np.einsum("bk,bkij->bij", w, proj)
    rhs = np.einsum("bk,bkij,bkj->bi", w, proj, r_s)
    ok = np.linalg.cond(a) < 1e14
    a_safe = np.where(ok[:, None, None], a, _EYE3)
    r = np.linalg.solve(a_safe, rhs[..., None])[..., 0]
    r[~ok] = np.nan
    return r, a


def _separation(u: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Largest pairwise angle between valid lines (as lines: in [0, pi/2]), (B,)."""
    cosines = np.abs(np.einsum("bki,bli->bkl", u, u))
    pair = valid[:, :, None] & valid[:, None, :]
    cosines = np.where(pair, np.clip(cosines, 0.0, 1.0), 1.0)
    return np.arccos(cosines.min(axis=(1, 2)))


def _triangulate(r_s, z, R, valid, n_iterations, min_sep):
    """Kernel on flat batches: r_s (B, K, 3), z (B, K, 2), R (B, K, 2, 2), valid (B, K)."""
    b, k = z.shape[:2]
    z_safe = np.where(valid[..., None], z, 0.0)
    u = los_to_ecef_unit(r_s, z_safe)
    var = 0.5 * np.trace(np.where(valid[..., None, None], R, _EYE3[:2, :2]), axis1=-2, axis2=-1)
    w = np.where(valid, 1.0 / var, 0.0)
    r, _ = _linear_fix(r_s, u, w)
    rho = np.linalg.norm(np.nan_to_num(r)[:, None, :] - r_s, axis=-1)
    w = np.where(valid, 1.0 / (var * np.maximum(rho, 1.0) ** 2), 0.0)
    r, _ = _linear_fix(r_s, u, w)
    r_inv = np.where(valid[..., None, None], R, _EYE3[:2, :2])
    r_inv = np.linalg.inv(r_inv) * valid[..., None, None]
    bad = ~np.all(np.isfinite(r), axis=-1)
    r_work = np.where(bad[:, None], 0.0, r)
    info = np.zeros((b, 3, 3))
    for it in range(n_iterations + 1):
        x = np.repeat(r_work, k, axis=0)
        z_pred, h = _LOS.predict(x, r_s.reshape(-1, 3), r_s.reshape(-1, 3))
        h = h[:, :, 0:3].reshape(b, k, 2, 3)
        nu = _LOS.residual(z_safe.reshape(-1, 2), z_pred).reshape(b, k, 2)
        ht_rinv = np.einsum("bkmi,bkmn->bkin", h, r_inv)
        info = ht_rinv @ h
        info = info.sum(axis=1)
        if it == n_iterations:
            break
        grad = np.einsum("bkin,bkn->bi", ht_rinv, nu)
        ok = np.linalg.cond(info) < 1e14
        step = np.linalg.solve(np.where(ok[:, None, None], info, _EYE3), grad[..., None])[..., 0]
        r_work = r_work + np.where(ok[:, None], step, 0.0)
        bad |= ~ok
    sep = _separation(u, valid)
    bad |= valid.sum(axis=1) < 2
    bad |= np.linalg.cond(info) >= 1e14
    info_safe = np.where(bad[:, None, None], _EYE3, info)
    P = np.linalg.inv(info_safe)
    P = 0.5 * (P + np.swapaxes(P, -1, -2))
    P[bad] = np.where(_EYE3 > 0, np.inf, 0.0)
    r_work[bad] = np.nan
    status = np.where(bad, STATUS[2], np.where(sep < min_sep, STATUS[1], STATUS[0]))
    return r_work, P, status, sep


def triangulate(
    sensor_r: np.ndarray,
    los_az_el: np.ndarray,
    R: np.ndarray,
    *,
    valid: np.ndarray | None = None,
    n_iterations: int = 2,
    min_separation_rad: float = np.radians(2.0),
) -> Triangulation:
    """Least-squares intersection of K >= 2 lines of sight from known sensor positions.

    Parameters
    ----------
    sensor_r : ndarray, shape (..., K, 3)
        ECEF positions of the sensors at the (common) look time, m. Leading axes batch
        over targets.
    los_az_el : ndarray, shape (..., K, 2)
        Measured azimuth and elevation, rad, in the ENU frame at each sensor (``los``).
    R : ndarray, shape (..., K, 2, 2) or (2, 2)
        Angle noise covariances, rad^2.
    valid : ndarray of bool, shape (..., K), optional
        Which looks to use (default all); lets targets seen by different numbers of
        sensors share one batch.
    n_iterations : int
        Gauss-Newton steps after the linear fix (module notes), >= 0.
    min_separation_rad : float
        Below this largest angle between lines the fix is flagged ``ill_conditioned``.

    Returns
    -------
    Triangulation
        ``(r_ecef_m (..., 3), P (..., 3, 3), status (...), separation_rad (...))``.

    Raises
    ------
    hyperdef.errors.InputError
        For mismatched shapes or non-finite inputs (not for bad geometry, which is a
        ``status``).
    """
    r_s = np.asarray(sensor_r, dtype=np.float64)
    z = np.asarray(los_az_el, dtype=np.float64)
    if r_s.ndim < 2 or r_s.shape[-1] != 3:
        raise InputError(f"sensor_r: expected shape (..., K, 3), got {r_s.shape}")
    batch, k = r_s.shape[:-2], r_s.shape[-2]
    if z.shape != batch + (k, 2):
        raise InputError(f"los_az_el: expected shape {batch + (k, 2)}, got {z.shape}")
    R = np.broadcast_to(np.asarray(R, dtype=np.float64), batch + (k, 2, 2))
    valid = np.ones(batch + (k,), bool) if valid is None else np.asarray(valid, bool)
    if valid.shape != batch + (k,):
        raise InputError(f"valid: expected shape {batch + (k,)}, got {valid.shape}")
    if not (
        np.all(np.isfinite(r_s)) and np.all(np.isfinite(z[valid])) and np.all(np.isfinite(R[valid]))
    ):
        raise InputError("sensor_r, los_az_el, R: must be finite")
    if int(n_iterations) < 0:
        raise InputError(f"n_iterations: {n_iterations} must be >= 0")
    nb = int(np.prod(batch)) if batch else 1
    r, P, status, sep = _triangulate(
        r_s.reshape(nb, k, 3),
        z.reshape(nb, k, 2),
        R.reshape(nb, k, 2, 2),
        valid.reshape(nb, k),
        int(n_iterations),
        float(min_separation_rad),
    )
    return Triangulation(
        r.reshape(batch + (3,)),
        P.reshape(batch + (3, 3)),
        status.reshape(batch),
        sep.reshape(batch),
    )


def _worst_usable(status: np.ndarray) -> np.ndarray:
    """Worst status over the last axis, ignoring degenerate fixes (not used in the fit)."""
    rank = np.zeros(status.shape, dtype=np.int64)
    rank[status == STATUS[1]] = 1
    return np.array(STATUS)[rank.max(axis=-1)]


def initiate_from_los(
    times_s: np.ndarray,
    sensor_r: np.ndarray,
    los_az_el: np.ndarray,
    R: np.ndarray,
    *,
    valid: np.ndarray | None = None,
    gravity: bool = True,
    sigma_accel_m_s2: float = 0.0,
    min_separation_rad: float = np.radians(2.0),
) -> LosInitiation:
    """Position and velocity prior from simultaneous looks at T >= 2 times.

    Parameters
    ----------
    times_s : ndarray, shape (T,)
        Look times, s, strictly increasing; the state refers to the last one.
    sensor_r : ndarray, shape (..., T, K, 3)
        Sensor ECEF positions at each time, m (the sensors may move between times).
    los_az_el : ndarray, shape (..., T, K, 2)
        Azimuth and elevation in each sensor's ENU frame, rad.
    R : ndarray, shape (..., T, K, 2, 2) or (2, 2)
        Angle noise covariances, rad^2.
    valid : ndarray of bool, shape (..., T, K), optional
        Which looks to use.
    gravity : bool
        Model the J2 gravity and the Coriolis and centrifugal accelerations between the
        looks (a coasting, exo-atmospheric target); with False the path is a straight
        line in ECEF.
    sigma_accel_m_s2 : float
        Standard deviation of the unmodelled acceleration per axis, m/s^2, >= 0; adds
        ``(sigma_accel_m_s2 * (t_last - t_first) / 2)^2`` to the velocity variances.
    min_separation_rad : float
        Passed to :func:`triangulate`.

    Returns
    -------
    LosInitiation
        ``(x (..., 6), P (..., 6, 6), t_ref_s, status (...))``; a target whose fixes
        are degenerate at fewer than two times gets NaN and ``inf`` covariance.

    Raises
    ------
    hyperdef.errors.InputError
        For bad shapes, fewer than two times, or times not strictly increasing.

    References
    ----------
    [BLK] section 3.5 (two-point differencing); module notes.
    """
    t = np.asarray(times_s, dtype=np.float64)
    if t.ndim != 1 or t.size < 2 or not np.all(np.diff(t) > 0.0):
        raise InputError(f"times_s: need T >= 2 strictly increasing times, got {t}")
    if not (np.isfinite(sigma_accel_m_s2) and sigma_accel_m_s2 >= 0.0):
        raise InputError(f"sigma_accel_m_s2: {sigma_accel_m_s2} must be finite and >= 0")
    r_s = np.asarray(sensor_r, dtype=np.float64)
    if r_s.ndim < 3 or r_s.shape[-3] != t.size:
        raise InputError(f"sensor_r: expected shape (..., {t.size}, K, 3), got {r_s.shape}")
    fix = triangulate(r_s, los_az_el, R, valid=valid, min_separation_rad=min_separation_rad)
    r_fix = np.moveaxis(fix.r_ecef_m, -2, 0)  # (T, ..., 3)
    p_fix = np.moveaxis(fix.P, -3, 0)  # (T, ..., 3, 3)
    ok = np.moveaxis(fix.status != STATUS[2], -1, 0)  # (T, ...)
    tau = t - t[-1]
    # Information weights; degenerate fixes get zero weight.
    w = np.linalg.inv(np.where(ok[..., None, None], p_fix, _EYE3)) * ok[..., None, None]
    r_use = np.where(ok[..., None], r_fix, 0.0)
    accel = np.zeros(r_use.shape[1:])
    x = p = None
    for _ in range(3 if gravity else 1):
        # design A_j = [I, tau_j I]; observation y_j = r_j - a tau_j^2 / 2
        y = r_use - 0.5 * tau[(slice(None),) + (None,) * accel.ndim] ** 2 * accel
        tt = tau[(slice(None),) + (None,) * (accel.ndim + 1)]
        info = np.zeros(accel.shape[:-1] + (6, 6))
        info[..., 0:3, 0:3] = w.sum(axis=0)
        info[..., 0:3, 3:6] = info[..., 3:6, 0:3] = (tt * w).sum(axis=0)
        info[..., 3:6, 3:6] = (tt * tt * w).sum(axis=0)
        wy = np.einsum("j...ik,j...k->j...i", w, y)
        rhs = np.concatenate(
            (wy.sum(axis=0), (tau[(slice(None),) + (None,) * accel.ndim] * wy).sum(axis=0)),
            axis=-1,
        )
        good = ok.sum(axis=0) >= 2
        info_safe = np.where(good[..., None, None], info, np.eye(6))
        p = np.linalg.inv(info_safe)
        x = np.einsum("...ij,...j->...i", p, rhs)
        if gravity:
            accel = gravity_j2_ecef(x[..., 0:3]) + rotating_frame_acceleration(
                x[..., 0:3], x[..., 3:6]
            )
    span = t[-1] - t[0]
    p = 0.5 * (p + np.swapaxes(p, -1, -2))
    p[..., [3, 4, 5], [3, 4, 5]] += (0.5 * sigma_accel_m_s2 * span) ** 2
    good = ok.sum(axis=0) >= 2
    x = np.where(good[..., None], x, np.nan)
    p = np.where(good[..., None, None], p, np.where(np.eye(6) > 0, np.inf, 0.0))
    status = np.where(good, _worst_usable(fix.status), STATUS[2])
    return LosInitiation(x, p, float(t[-1]), status)
