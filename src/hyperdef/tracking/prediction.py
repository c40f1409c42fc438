"""Impact-point prediction and launch-point estimation from a ballistic track state.

A track of a coasting (ballistic) target is propagated to the ground with the tracker's own
:class:`hyperdef.tracking.models.Ballistic` model (J2 gravity, rotating frame, USSA76 drag
with the estimated ballistic coefficient), forward for the impact point and backward for
the launch point. The state uncertainty is carried by the unscented transform: the
2n + 1 sigma points of every track ([JU04]; :class:`hyperdef.tracking.filters.SigmaPoints`,
default ``alpha = 1, beta = 2, kappa = 0``) are propagated in one batch, each until its
ellipsoidal height crosses zero, and the ground points and times are averaged with the
sigma-point weights. With ``n_samples`` given, random samples of ``N(x, P)`` replace the
sigma points (Monte Carlo, equal weights).

Ground crossing
    Every point steps by ``step_s`` with ``model.propagate``; when the height
    (:func:`hyperdef.core.dynamics.approx_altitude_m`, exact on the ellipsoid) changes
    sign within a step, the crossing time is found by regula falsi on that step, each
    trial a fresh propagation from the start of the step (``n_refine`` trials, default 4:
    at a 10 s step and km/s descent rates the height residual is below a millimetre).
    A point that has not reached the ground within ``t_max_s`` marks its track
    ``time_limit`` (NaN results).

Uncertainty ellipse
    Ground points are expressed in the local ENU tangent plane at the impact of the mean
    state; their weighted mean gives the predicted point (projected back to the
    ellipsoid, height 0) and their weighted covariance ``C`` (2 x 2, east/north, m^2)
    the ellipse ``d^T C^-1 d = n_sigma^2``: semi-axes ``n_sigma sqrt(lambda)`` of the
    eigenvalues of ``C``, orientation the azimuth of the major axis (from north towards
    east, in ``[0, pi)``). For a Gaussian ground error a ``k``-sigma ellipse contains
    the true point with probability ``1 - exp(-k^2 / 2)``: 39.3% at 1 sigma, **86.5% at
    2 sigma** (the default), 98.9% at 3 sigma; :func:`n_sigma_for_probability` gives k
    for a containment probability (2.448 for 95%).

Launch point (:func:`estimate_launch_point`)
    The same propagation run backwards in time. **Assumptions:** the state is on the
    unpowered (post-burnout) part of the trajectory; no thrust is modelled, so the result
    is where the coasting trajectory, extrapolated backwards with gravity and the drag of
    the tracked object, meets the ground: the extrapolation of the burnout line, not the
    launch site itself. The powered ascent curves away from that line (gravity turn), so
    the estimate lies down-range of, or beyond, the true launch point along roughly the
    same ground track, by a distance of the order of the burnout altitude (tens of km
    for a medium-range missile); the covariance describes only the propagation of the
    state uncertainty, not that model error. Combine with the time of the first boost
    detection (space IR) for a launch-area estimate.

References
----------
.. [JU04] S. J. Julier, J. K. Uhlmann, "Unscented filtering and nonlinear estimation",
   Proc. IEEE 92(3), 401-422 (2004), doi:10.1109/JPROC.2003.823141.
.. [LJ2] X. R. Li, V. P. Jilkov, "Survey of maneuvering target tracking. Part II: Motion
   models of ballistic and space targets", IEEE Trans. Aerospace and Electronic Systems
   46(1), 96-119 (2010), doi:10.1109/TAES.2010.5417150 (impact- and launch-point
   prediction from a ballistic track).
.. [Zar] P. Zarchan, *Tactical and Strategic Missile Guidance*, 6th ed., AIAA, 2012,
   ch. 13-14 (ballistic trajectories, impact-point prediction).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hyperdef.core.dynamics import approx_altitude_m
from hyperdef.core.frames import ecef_to_enu, ecef_to_lla, enu_rotation, lla_to_ecef
from hyperdef.errors import InputError
from hyperdef.tracking.filters import SigmaPoints
from hyperdef.tracking.models import Ballistic

__all__ = [
    "GroundPoint",
    "predict_impact",
    "estimate_launch_point",
    "ground_mahalanobis2",
    "n_sigma_for_probability",
    "VACUUM_LOG_BETA",
]

#: ln(beta / 1 kg m^-2) used for 6-state inputs: beta = e^50 kg/m^2, i.e. no drag.
VACUUM_LOG_BETA = 50.0


@dataclass(frozen=True, slots=True)
class GroundPoint:
    """Predicted ground point (impact or launch) of N tracks with its uncertainty.

    Attributes
    ----------
    lla : ndarray, shape (N, 3)
        Mean ground point: geodetic latitude, longitude (rad), height 0 m.
    r_ecef_m : ndarray, shape (N, 3)
        The same point in ECEF, m.
    t_s : ndarray, shape (N,)
        Mean time from the state's epoch to the ground crossing, s (positive for the
        impact, negative for the launch point).
    t_std_s : ndarray, shape (N,)
        Standard deviation of that time, s.
    cov_en_m2 : ndarray, shape (N, 2, 2)
        Covariance of the ground point in the ENU tangent plane at ``lla`` (east,
        north), m^2.
    semi_major_m, semi_minor_m : ndarray, shape (N,)
        Semi-axes of the ``n_sigma`` ellipse, m.
    orientation_rad : ndarray, shape (N,)
        Azimuth of the major axis, rad from north towards east, in [0, pi).
    n_sigma : float
        Scale of the ellipse (module notes for its containment probability).
    status : ndarray of str, shape (N,)
        ``ok``, or ``time_limit`` when a sigma point (sample) did not reach the ground
        within ``t_max_s`` (its results are NaN).
    """

    lla: np.ndarray
    r_ecef_m: np.ndarray
    t_s: np.ndarray
    t_std_s: np.ndarray
    cov_en_m2: np.ndarray
    semi_major_m: np.ndarray
    semi_minor_m: np.ndarray
    orientation_rad: np.ndarray
    n_sigma: float
    status: np.ndarray


def n_sigma_for_probability(probability: float) -> float:
    """Scale k of the 2-D ellipse containing a Gaussian point with ``probability``.

    ``k = sqrt(-2 ln(1 - p))``, the chi-square quantile with 2 degrees of freedom
    (2.448 for 0.95).
    """
    if not 0.0 < probability < 1.0:
        raise InputError(f"probability: {probability} must be in (0, 1)")
    return math.sqrt(-2.0 * math.log1p(-probability))


def ground_mahalanobis2(prediction: GroundPoint, lla: np.ndarray) -> np.ndarray:
    """Squared Mahalanobis distance of ground points from the predicted ones, (N,).

    ``d^T C^-1 d`` with ``d`` the east/north offset of ``lla`` (N, 3) or (3,) (rad, rad,
    m; the height is ignored) in the tangent plane at ``prediction.lla``. A point lies
    inside the ``k``-sigma ellipse when this is ``<= k^2``.
    """
    lla = np.broadcast_to(np.asarray(lla, dtype=np.float64), prediction.lla.shape).copy()
    lla[:, 2] = 0.0
    d = ecef_to_enu(lla_to_ecef(lla), prediction.lla)[:, 0:2]
    return np.einsum("ni,ni->n", d, np.linalg.solve(prediction.cov_en_m2, d[..., None])[..., 0])


def _sqrt_psd(P: np.ndarray) -> np.ndarray:
    """A square root L (L L^T = P) of symmetric PSD matrices (N, n, n), by eigh."""
    w, v = np.linalg.eigh(0.5 * (P + np.swapaxes(P, -1, -2)))
    return v * np.sqrt(np.maximum(w, 0.0))[:, None, :]


def _to_ground(model, x, direction, step_s, t_max_s, n_refine):
    """Propagate states (M, 7) until the height crosses 0; ECEF point (M, 3), time (M,)."""
    m = x.shape[0]
    r_out = np.full((m, 3), np.nan)
    t_out = np.full(m, np.nan)
    h0 = approx_altitude_m(x[:, 0:3])
    landed = h0 <= 0.0
    r_out[landed] = x[landed, 0:3]
    t_out[landed] = 0.0
    idx = np.flatnonzero(~landed)
    xs, hs = x[idx], h0[idx]
    t = 0.0
    while idx.size and t < t_max_s:
        dt = min(step_s, t_max_s - t)
        xn = model.propagate(xs, direction * dt)
        hn = approx_altitude_m(xn[:, 0:3])
        cross = hn <= 0.0
        if np.any(cross):
            x0, lo, hi = xs[cross], np.zeros(cross.sum()), np.full(cross.sum(), dt)
            h_lo, h_hi = hs[cross], hn[cross]
            xc = xn[cross]
            tau = hi
            for _ in range(n_refine):
                tau = lo + (hi - lo) * h_lo / (h_lo - h_hi)
                xc = model.propagate(x0, direction * tau)
                hc = approx_altitude_m(xc[:, 0:3])
                above = hc > 0.0
                lo, h_lo = np.where(above, tau, lo), np.where(above, hc, h_lo)
                hi, h_hi = np.where(above, hi, tau), np.where(above, h_hi, hc)
            r_out[idx[cross]] = xc[:, 0:3]
            t_out[idx[cross]] = direction * (t + tau)
        keep = ~cross & np.isfinite(hn)  # a diverged point stays NaN (time_limit)
        idx, xs, hs = idx[keep], xn[keep], hn[keep]
        t += dt
    return r_out, t_out


def _ground_point(
    model,
    x,
    P,
    direction,
    *,
    log_beta,
    n_sigma,
    sigma_points,
    n_samples,
    rng,
    step_s,
    t_max_s,
    n_refine,
) -> GroundPoint:
    x = np.asarray(x, dtype=np.float64)
    P = np.asarray(P, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] not in (6, 7):
        raise InputError(f"x: expected shape (N, 7) or (N, 6), got {x.shape}")
    n_tracks, n = x.shape
    if P.shape != (n_tracks, n, n):
        raise InputError(f"P: expected shape ({n_tracks}, {n}, {n}), got {P.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(P))):
        raise InputError("x, P: must be finite")
    for name, value in (("step_s", step_s), ("t_max_s", t_max_s), ("n_sigma", n_sigma)):
        if not (math.isfinite(value) and value > 0.0):
            raise InputError(f"{name}: {value} must be finite and > 0")
    sqrt_p = _sqrt_psd(P)
    if n_samples is None:
        wm, wc, scale = sigma_points.weights(n)
        offsets = np.concatenate(
            (
                np.zeros((n_tracks, 1, n)),
                scale * np.swapaxes(sqrt_p, 1, 2),
                -scale * np.swapaxes(sqrt_p, 1, 2),
            ),
            axis=1,
        )
    else:
        if rng is None or int(n_samples) < 2:
            raise InputError("n_samples: Monte Carlo needs n_samples >= 2 and an rng")
        s = int(n_samples)
        draws = np.einsum("nij,nsj->nsi", sqrt_p, rng.standard_normal((n_tracks, s, n)))
        offsets = np.concatenate((np.zeros((n_tracks, 1, n)), draws), axis=1)
        wm = np.concatenate(([0.0], np.full(s, 1.0 / s)))
        wc = np.concatenate(([0.0], np.full(s, 1.0 / (s - 1))))
    points = x[:, None, :] + offsets  # (N, S, n); point 0 is the mean state
    n_pts = points.shape[1]
    flat = points.reshape(-1, n)
    if n == 6:
        flat = np.column_stack((flat, np.full(flat.shape[0], log_beta)))
    r_g, t_g = _to_ground(model, flat, direction, float(step_s), float(t_max_s), int(n_refine))
    r_g = r_g.reshape(n_tracks, n_pts, 3)
    t_g = t_g.reshape(n_tracks, n_pts)
    status = np.where(np.all(np.isfinite(t_g), axis=1), "ok", "time_limit")
    good = status == "ok"
    r_ref = np.where(good[:, None], r_g[:, 0], lla_to_ecef(np.array([0.0, 0.0, 0.0])))
    ref_lla = ecef_to_lla(r_ref)
    ref_lla[:, 2] = 0.0
    en = ecef_to_enu(np.nan_to_num(r_g), ref_lla[:, None, :])[..., 0:2]  # (N, S, 2)
    en_mean = np.einsum("s,nsi->ni", wm, en)
    d = en - en_mean[:, None, :]
    cov = np.einsum("s,nsi,nsj->nij", wc, d, d)
    t_mean = np.einsum("s,ns->n", wm, np.nan_to_num(t_g))
    t_std = np.sqrt(
        np.maximum(np.einsum("s,ns->n", wc, (np.nan_to_num(t_g) - t_mean[:, None]) ** 2), 0.0)
    )
    # mean point: tangent-plane offset back to ECEF, then onto the ellipsoid
    c = enu_rotation(ref_lla, check=False)
    r_mean = lla_to_ecef(ref_lla) + np.einsum("nji,nj->ni", c[:, 0:2, :], en_mean)
    lla_mean = ecef_to_lla(r_mean)
    lla_mean[:, 2] = 0.0
    # covariance re-expressed at the mean point (rotation of the tangent planes)
    c_mean = enu_rotation(lla_mean, check=False)
    rot = np.einsum("nik,njk->nij", c_mean[:, 0:2, :], c[:, 0:2, :])
    cov = rot @ cov @ np.swapaxes(rot, 1, 2)
    cov = 0.5 * (cov + np.swapaxes(cov, 1, 2))
    lam, vec = np.linalg.eigh(cov)
    lam = np.maximum(lam, 0.0)
    major = vec[:, :, 1]
    orientation = np.mod(np.arctan2(major[:, 0], major[:, 1]), np.pi)
    nan = ~good
    lla_mean[nan] = np.nan
    out = [
        lla_to_ecef(np.nan_to_num(lla_mean)),
        t_mean,
        t_std,
        n_sigma * np.sqrt(lam[:, 1]),
        n_sigma * np.sqrt(lam[:, 0]),
        orientation,
    ]
    for a in out:
        a[nan] = np.nan
    cov[nan] = np.nan
    return GroundPoint(
        lla=lla_mean,
        r_ecef_m=out[0],
        t_s=out[1],
        t_std_s=out[2],
        cov_en_m2=cov,
        semi_major_m=out[3],
        semi_minor_m=out[4],
        orientation_rad=out[5],
        n_sigma=float(n_sigma),
        status=status,
    )


def predict_impact(
    x: np.ndarray,
    P: np.ndarray,
    model: Ballistic | str = "ballistic",
    *,
    n_sigma: float = 2.0,
    log_beta: float = VACUUM_LOG_BETA,
    sigma_points: SigmaPoints | None = None,
    n_samples: int | None = None,
    rng: np.random.Generator | None = None,
    step_s: float = 10.0,
    t_max_s: float = 7200.0,
    n_refine: int = 4,
) -> GroundPoint:
    """Impact point, time and uncertainty ellipse of N ballistic tracks.

    Parameters
    ----------
    x : ndarray, shape (N, 7) or (N, 6)
        Ballistic states (ECEF position m, velocity m/s, ln beta) or position/velocity
        only (then ``ln beta = log_beta`` with no uncertainty).
    P : ndarray, shape (N, n, n)
        Their covariances.
    model : Ballistic or 'ballistic'
        Propagation model (its ``max_substep_s`` sets the RK4 accuracy; process noise is
        not added).
    n_sigma : float
        Scale of the reported ellipse (default 2: 86.5% containment; module notes).
    log_beta : float
        ln(beta / 1 kg m^-2) for 6-state inputs (default: no drag).
    sigma_points : SigmaPoints, optional
        Unscented-transform parameters (default ``SigmaPoints()``).
    n_samples : int, optional
        Use this many random samples of N(x, P) instead of sigma points (needs ``rng``).
    rng : numpy.random.Generator, optional
        Random source for ``n_samples``.
    step_s : float
        Propagation step between ground checks, s.
    t_max_s : float
        Longest time to propagate, s.
    n_refine : int
        Regula-falsi trials on the crossing step.

    Returns
    -------
    GroundPoint
        Mean impact point (lat, lon, 0), time to impact, 2-D covariance and ellipse.

    Raises
    ------
    hyperdef.errors.InputError
        For bad shapes, non-finite values, or bad options.
    """
    return _ground_point(
        _model(model),
        x,
        P,
        1.0,
        log_beta=log_beta,
        n_sigma=n_sigma,
        sigma_points=sigma_points or SigmaPoints(),
        n_samples=n_samples,
        rng=rng,
        step_s=step_s,
        t_max_s=t_max_s,
        n_refine=n_refine,
    )


def estimate_launch_point(
    x: np.ndarray,
    P: np.ndarray,
    model: Ballistic | str = "ballistic",
    *,
    n_sigma: float = 2.0,
    log_beta: float = VACUUM_LOG_BETA,
    sigma_points: SigmaPoints | None = None,
    n_samples: int | None = None,
    rng: np.random.Generator | None = None,
    step_s: float = 10.0,
    t_max_s: float = 7200.0,
    n_refine: int = 4,
    drag: bool = False,
) -> GroundPoint:
    """Launch-point estimate by backward propagation of a coasting state to the ground.

    Same arguments and result as :func:`predict_impact`, with ``t_s < 0`` the time from
    the state back to the ground crossing. No thrust is modelled: the result is the
    backward extrapolation of the burnout line, not the launch site (module notes for
    the assumptions and the expected bias).

    With ``drag=False`` (default) the backward propagation is in vacuum (J2 gravity and
    the rotating frame only): the ballistic coefficient of the tracked object is not that
    of the booster that flew the ascent, and drag integrated backwards in time feeds
    energy in exponentially (the ODE is unstable in reverse through the lower
    atmosphere: a 33 t/m^2 re-entry vehicle state diverges within the last 10 km).
    ``drag=True`` keeps the state's ln beta.
    """
    x = np.asarray(x, dtype=np.float64)
    if not drag and x.ndim == 2 and x.shape[1] == 7:
        x = x.copy()
        x[:, 6] = VACUUM_LOG_BETA
        P = np.array(P, dtype=np.float64, copy=True)
        if P.shape == (x.shape[0], 7, 7):
            P[:, 6, :] = P[:, :, 6] = 0.0
    if not drag:
        log_beta = VACUUM_LOG_BETA
    return _ground_point(
        _model(model),
        x,
        P,
        -1.0,
        log_beta=log_beta,
        n_sigma=n_sigma,
        sigma_points=sigma_points or SigmaPoints(),
        n_samples=n_samples,
        rng=rng,
        step_s=step_s,
        t_max_s=t_max_s,
        n_refine=n_refine,
    )


def _model(model: Ballistic | str) -> Ballistic:
    if isinstance(model, str):
        if model != "ballistic":
            raise InputError(f"model: {model!r} unsupported; allowed: 'ballistic'")
        return Ballistic()
    if not isinstance(model, Ballistic):
        raise InputError(f"model: expected a Ballistic model, got {type(model).__name__}")
    return model
