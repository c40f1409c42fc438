"""Batched Kalman filters over N tracks at once: EKF, UKF and CKF.

Every function works on a batch of N tracks: states ``x`` of shape (N, n) and covariances
``P`` of shape (N, n, n), SI units, ECEF (the first six state components are ECEF position,
m, and velocity, m/s; see :mod:`hyperdef.tracking.protocols`). A single track is N = 1. The
maths is written once with batched ``matmul`` and ``linalg`` calls; there is no Python loop
over tracks.

Filters
    * **EKF** ([BLK] §5.2, §10.3): :func:`predict_ekf` propagates the mean through
      ``model.predict`` and the covariance through its Jacobian ``F``,
      ``P = F P F^T + Q``; :func:`update_ekf` linearises the measurement with ``H``.
    * **UKF** ([JU04], [WvdM00], [Jul02]): :func:`predict_ukf` / :func:`update_ukf` use the
      scaled sigma points of :class:`SigmaPoints` (``alpha``, ``beta``, ``kappa``), 2n + 1
      points. The Jacobians returned by the models are ignored.
    * **CKF** ([AH09]): :func:`predict_ckf` / :func:`update_ckf` use the third-degree
      spherical-radial cubature rule, 2n equally weighted points ``x +- sqrt(n) L e_i``
      (``P = L L^T``). It is the sigma-point filter with weights ``1 / (2n)`` and no
      central point.

    :data:`FILTERS` maps ``'ekf'``, ``'ukf'``, ``'ckf'`` to their :class:`FilterPair`.

Numerically safe update
    * Innovation covariances ``S`` are factored with a Cholesky decomposition; the gain,
      the NIS and the log-likelihood come from triangular solves, never from an explicit
      inverse.
    * The covariance update is the Joseph form ([BLK] §5.2.3, [Bucy68]),
      ``P+ = (I - K H) P (I - K H)^T + K R K^T``, a sum of positive semi-definite terms, so
      that round-off in ``K`` cannot make ``P+`` indefinite. For the sigma-point filters
      ``H`` and ``R`` are their statistical-linear-regression equivalents ([LBS02]):
      ``H = Pxz^T P^-1`` (from a Cholesky solve with ``P``) and
      ``R = S - H P H^T``; in exact arithmetic this equals ``P - K S K^T`` and for a
      linear model it is exactly the Kalman filter's Joseph update.
    * Every predicted and updated covariance (and every ``S``) is symmetrised,
      ``P <- (P + P^T) / 2``, which removes the antisymmetric round-off that otherwise
      grows over long runs. A 10,000-update run with ECEF-sized states and millimetre
      measurement noise keeps P symmetric positive definite (``tests/unit/test_filters_unit.py``).

Sigma points and angles
    Sigma-point means are accumulated as deviations from the central point (the state
    mean, or the measurement predicted at the state mean), ``ybar = y0 + sum_i W_i
    (y_i - y0)``, which avoids cancellation with ECEF-sized values. For measurements the
    deviations are ``meas_model.residual(z_i, z_0)``, i.e. wrapped to (-pi, pi]: the
    mean of angles is taken relative to the angle predicted at the state mean, which is
    correct whenever the sigma-point spread is below pi (always for a tracked target), and
    never averages 359 deg and 1 deg to 180 deg. The innovation is then
    ``meas_model.residual(z, zbar)``.

    The default :class:`SigmaPoints` is ``alpha = 1, beta = 2, kappa = 0`` (spread
    ``sqrt(n)`` sigma, central weight 0 for the mean and 2 for the covariance). Small
    ``alpha`` (1e-3, as in [WvdM00]) gives a large negative central weight; the covariance
    is then a difference of large terms and may lose positive definiteness with ECEF
    states, which is why it is not the default.

Gating
    :func:`mahalanobis2` gives the squared Mahalanobis distance ``nu^T S^-1 nu`` per track
    and :func:`gated` compares it with the chi-square quantile of probability ``p_gate``
    with m degrees of freedom ([BLK] §2.4.3).

References
----------
.. [BLK] Y. Bar-Shalom, X. R. Li, T. Kirubarajan, *Estimation with Applications to Tracking
   and Navigation*, Wiley, 2001: §2.4.3 (chi-square gates), §5.2 (Kalman filter; §5.2.3, Joseph
   form), §5.4 (NEES/NIS consistency), §10.3 (EKF).
.. [Bucy68] R. S. Bucy, P. D. Joseph, *Filtering for Stochastic Processes with Applications
   to Guidance*, Interscience, 1968 (the Joseph stabilised covariance update).
.. [JU04] S. J. Julier, J. K. Uhlmann, "Unscented filtering and nonlinear estimation",
   *Proc. IEEE* 92(3), 401-422, 2004. doi:10.1109/JPROC.2003.823141
.. [Jul02] S. J. Julier, "The scaled unscented transformation", *Proc. American Control
   Conference*, 2002, pp. 4555-4559.
.. [WvdM00] E. A. Wan, R. van der Merwe, "The unscented Kalman filter for nonlinear
   estimation", *Proc. IEEE AS-SPCC*, 2000, pp. 153-158.
   doi:10.1109/ASSPCC.2000.882463
.. [AH09] I. Arasaratnam, S. Haykin, "Cubature Kalman filters", *IEEE Trans. Automatic
   Control* 54(6), 1254-1269, 2009. doi:10.1109/TAC.2009.2019800
.. [LBS02] T. Lefebvre, H. Bruyninckx, J. De Schutter, "Comment on 'A new method for the
   nonlinear transformation of means and covariances in filters and estimators'",
   *IEEE Trans. Automatic Control* 47(8), 1406-1409, 2002 (the unscented transform as
   statistical linear regression). doi:10.1109/TAC.2002.800742
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2

from hyperdef.errors import InputError
from hyperdef.tracking.protocols import MeasurementModel, MotionModel

__all__ = [
    "FILTERS",
    "FilterPair",
    "SigmaPoints",
    "UpdateResult",
    "gated",
    "get_filter",
    "mahalanobis2",
    "predict_ckf",
    "predict_ekf",
    "predict_ukf",
    "update_ckf",
    "update_ekf",
    "update_ukf",
]

_LOG_2PI = math.log(2.0 * math.pi)


# --------------------------------------------------------------------------- results, params


@dataclass(frozen=True, slots=True)
class UpdateResult:
    """The outcome of one batched measurement update.

    Attributes
    ----------
    x : ndarray, shape (N, n)
        Updated states (ECEF, SI).
    P : ndarray, shape (N, n, n)
        Updated covariances, symmetric positive definite.
    nu : ndarray, shape (N, m)
        Innovations ``z - z_pred`` (angles wrapped to (-pi, pi]).
    S : ndarray, shape (N, m, m)
        Innovation covariances.
    nis : ndarray, shape (N,)
        Normalised innovation squared ``nu^T S^-1 nu`` (chi-square with m degrees of
        freedom for a consistent filter, [BLK] §5.4).
    log_likelihood : ndarray, shape (N,)
        ``log N(nu; 0, S)``, the measurement log-likelihood used by the IMM.
    """

    x: np.ndarray
    P: np.ndarray
    nu: np.ndarray
    S: np.ndarray
    nis: np.ndarray
    log_likelihood: np.ndarray


@dataclass(frozen=True, slots=True)
class SigmaPoints:
    """Parameters of the scaled unscented transform ([Jul02], [WvdM00]).

    With state dimension n, ``lambda = alpha^2 (n + kappa) - n``; the 2n + 1 points are
    ``x`` and ``x +- sqrt(n + lambda) L e_i`` (``P = L L^T``), with mean weights
    ``W0 = lambda / (n + lambda)``, ``Wi = 1 / (2 (n + lambda))`` and covariance weights
    the same except ``W0c = W0 + 1 - alpha^2 + beta``.

    Attributes
    ----------
    alpha : float
        Spread of the points, > 0 (default 1).
    beta : float
        Prior-knowledge term of the central covariance weight, >= 0 (2 is optimal for a
        Gaussian prior; default 2).
    kappa : float
        Secondary scaling, with ``n + kappa > 0`` (default 0).
    """

    alpha: float = 1.0
    beta: float = 2.0
    kappa: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.alpha) and self.alpha > 0.0):
            raise InputError(f"sigma_points.alpha: {self.alpha} must be finite and > 0")
        if not (math.isfinite(self.beta) and self.beta >= 0.0):
            raise InputError(f"sigma_points.beta: {self.beta} must be finite and >= 0")
        if not math.isfinite(self.kappa):
            raise InputError(f"sigma_points.kappa: {self.kappa} must be finite")

    def weights(self, n: int) -> tuple[np.ndarray, np.ndarray, float]:
        """Weights and scale for state dimension ``n``.

        Returns
        -------
        wm, wc : ndarray, shape (2n + 1,)
            Mean and covariance weights, central point first.
        scale : float
            ``sqrt(n + lambda)``, the multiplier of the Cholesky columns.
        """
        c = self.alpha**2 * (n + self.kappa)
        if not c > 0.0:
            raise InputError(
                f"sigma_points.kappa: {self.kappa} gives n + lambda = {c} <= 0 for n = {n}; "
                "need n + kappa > 0"
            )
        lam = c - n
        wm = np.full(2 * n + 1, 0.5 / c)
        wc = wm.copy()
        wm[0] = lam / c
        wc[0] = lam / c + 1.0 - self.alpha**2 + self.beta
        return wm, wc, math.sqrt(c)


def _cubature_weights(n: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Cubature rule of [AH09] in the sigma-point layout (central point, weight 0)."""
    w = np.full(2 * n + 1, 0.5 / n)
    w[0] = 0.0
    return w, w.copy(), math.sqrt(n)


# --------------------------------------------------------------------------- linear algebra


def _sym(A: np.ndarray) -> np.ndarray:
    """Symmetric part ``(A + A^T) / 2`` of a batch of square matrices."""
    return 0.5 * (A + np.swapaxes(A, -1, -2))


def _chol_solve(L: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Solve ``(L L^T) X = B`` for a batch: L (N, m, m) lower, B (N, m, k)."""
    Y = np.linalg.solve(L, B)
    return np.linalg.solve(np.swapaxes(L, -1, -2), Y)


def _as_dt(dt_s: np.ndarray | float, n_tracks: int) -> np.ndarray | float:
    dt = np.asarray(dt_s, dtype=float)
    if dt.ndim == 0:
        return float(dt)
    return np.broadcast_to(dt, (n_tracks,))


# --------------------------------------------------------------------------- validation


def _check_state(x: np.ndarray, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float)
    P = np.asarray(P, dtype=float)
    if x.ndim != 2:
        raise InputError(f"x: states must have shape (N, n), got {x.shape}")
    n_tracks, n = x.shape
    if P.shape != (n_tracks, n, n):
        raise InputError(f"P: covariances must have shape {(n_tracks, n, n)}, got {P.shape}")
    if not np.all(np.isfinite(x)):
        raise InputError("x: states must be finite")
    if not np.all(np.isfinite(P)):
        raise InputError("P: covariances must be finite")
    return x, P


def _check_dt(dt_s: np.ndarray | float, n_tracks: int) -> np.ndarray | float:
    dt = np.asarray(dt_s, dtype=float)
    if dt.ndim > 1 or (dt.ndim == 1 and dt.shape[0] not in (1, n_tracks)):
        raise InputError(f"dt_s: must be a scalar or shape ({n_tracks},), got {dt.shape}")
    if not np.all(np.isfinite(dt)):
        raise InputError("dt_s: must be finite")
    return _as_dt(dt, n_tracks)


def _check_measurement(
    z: np.ndarray,
    R: np.ndarray,
    meas_model: MeasurementModel,
    sensor_r_ecef_m: np.ndarray,
    sensor_v_ecef_m_s: np.ndarray,
    n_tracks: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    m = int(meas_model.dim)
    z = np.asarray(z, dtype=float)
    if z.shape != (n_tracks, m):
        raise InputError(f"z: measurements must have shape {(n_tracks, m)}, got {z.shape}")
    if not np.all(np.isfinite(z)):
        raise InputError("z: measurements must be finite")
    R = np.asarray(R, dtype=float)
    if R.shape == (m, m):
        R = np.broadcast_to(R, (n_tracks, m, m))
    if R.shape != (n_tracks, m, m):
        raise InputError(f"R: must have shape {(m, m)} or {(n_tracks, m, m)}, got {R.shape}")
    if not np.all(np.isfinite(R)):
        raise InputError("R: measurement covariance must be finite")
    scale = np.maximum(np.abs(R).max(axis=(-2, -1)), np.finfo(float).tiny)
    asym = np.abs(R - np.swapaxes(R, -1, -2)).max(axis=(-2, -1))
    if np.any(asym > 1e-9 * scale):
        k = int(np.argmax(asym / scale))
        raise InputError(f"R: measurement covariance of track {k} is not symmetric")
    eig_min = np.linalg.eigvalsh(_sym(R))[..., 0]
    if np.any(eig_min < -1e-12 * scale):
        k = int(np.argmin(eig_min / scale))
        raise InputError(
            f"R: measurement covariance of track {k} is not positive semi-definite "
            f"(smallest eigenvalue {eig_min[k]:.3g}); R must be symmetric PSD"
        )
    sr = np.broadcast_to(np.asarray(sensor_r_ecef_m, dtype=float), (n_tracks, 3))
    sv = np.broadcast_to(np.asarray(sensor_v_ecef_m_s, dtype=float), (n_tracks, 3))
    return z, R, sr, sv


# --------------------------------------------------------------------------- common update


def _joseph_update(
    x: np.ndarray,
    P: np.ndarray,
    nu: np.ndarray,
    S: np.ndarray,
    PHt: np.ndarray,
    H: np.ndarray,
    R: np.ndarray,
) -> UpdateResult:
    """Gain, Joseph-form covariance, NIS and log-likelihood from a Cholesky of S.

    ``PHt`` is the state-measurement cross-covariance (N, n, m) (``P H^T`` for the EKF,
    ``Pxz`` for sigma-point filters); ``H`` (N, m, n) and ``R`` (N, m, m) enter only the
    Joseph form.
    """
    S = _sym(S)
    L = np.linalg.cholesky(S)
    Kt = _chol_solve(L, np.swapaxes(PHt, -1, -2))  # S^-1 (P H^T)^T, shape (N, m, n)
    K = np.swapaxes(Kt, -1, -2)
    x_new = x + (K @ nu[..., None])[..., 0]
    n = x.shape[-1]
    A = np.eye(n) - K @ H
    P_new = _sym(A @ P @ np.swapaxes(A, -1, -2) + K @ R @ Kt)
    w = np.linalg.solve(L, nu[..., None])[..., 0]
    nis = np.einsum("...i,...i->...", w, w)
    log_det = 2.0 * np.log(np.diagonal(L, axis1=-2, axis2=-1)).sum(axis=-1)
    m = nu.shape[-1]
    log_likelihood = -0.5 * (nis + log_det + m * _LOG_2PI)
    return UpdateResult(x_new, P_new, nu, S, nis, log_likelihood)


# --------------------------------------------------------------------------- EKF


def _predict_ekf(x, P, model, dt_s):
    x_pred, F = model.predict(x, dt_s)
    Q = model.process_noise(x, dt_s)
    return x_pred, _sym(F @ P @ np.swapaxes(F, -1, -2) + Q)


def _update_ekf(x, P, z, R, meas_model, sr, sv):
    z_pred, H = meas_model.predict(x, sr, sv)
    nu = meas_model.residual(z, z_pred)
    PHt = P @ np.swapaxes(H, -1, -2)
    S = H @ PHt + R
    return _joseph_update(x, P, nu, S, PHt, H, R)


def predict_ekf(
    x: np.ndarray, P: np.ndarray, model: MotionModel, dt_s: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """Extended-Kalman-filter prediction of N tracks by ``dt_s``.

    ``x_pred = f(x)``, ``P_pred = F P F^T + Q`` (symmetrised), with ``f`` and its Jacobian
    ``F`` from ``model.predict`` and ``Q`` from ``model.process_noise``.

    Parameters
    ----------
    x : ndarray, shape (N, n)
        States (ECEF position m, velocity m/s, then the model's extra states).
    P : ndarray, shape (N, n, n)
        Covariances.
    model : MotionModel
        Motion model with ``dim == n``.
    dt_s : float or ndarray, shape (N,)
        Prediction interval, s (may differ per track; negative retrodicts).

    Returns
    -------
    x_pred : ndarray, shape (N, n)
    P_pred : ndarray, shape (N, n, n)

    References
    ----------
    [BLK] §5.2.4 and §10.3.2 (EKF prediction).
    """
    x, P = _check_state(x, P)
    _check_dim(model, x.shape[1])
    return _predict_ekf(x, P, model, _check_dt(dt_s, x.shape[0]))


def update_ekf(
    x: np.ndarray,
    P: np.ndarray,
    z: np.ndarray,
    R: np.ndarray,
    meas_model: MeasurementModel,
    sensor_r_ecef_m: np.ndarray,
    sensor_v_ecef_m_s: np.ndarray,
) -> UpdateResult:
    """Extended-Kalman-filter measurement update of N tracks (Joseph form).

    ``S = H P H^T + R``, ``K = P H^T S^-1`` (Cholesky solves),
    ``x+ = x + K nu``, ``P+ = (I - K H) P (I - K H)^T + K R K^T`` (symmetrised).

    Parameters
    ----------
    x : ndarray, shape (N, n)
        Predicted states.
    P : ndarray, shape (N, n, n)
        Predicted covariances.
    z : ndarray, shape (N, m)
        Measurements (one per track), in ``meas_model``'s units (m, rad, m/s).
    R : ndarray, shape (m, m) or (N, m, m)
        Measurement noise covariances, symmetric positive semi-definite.
    meas_model : MeasurementModel
        Measurement model with ``dim == m``.
    sensor_r_ecef_m, sensor_v_ecef_m_s : ndarray, shape (3,) or (N, 3)
        ECEF position (m) and velocity (m/s) of the sensor for each measurement.

    Returns
    -------
    UpdateResult
        Updated states and covariances, innovations, S, NIS and log-likelihood.

    Raises
    ------
    InputError
        If a shape is wrong, a value is not finite, or ``R`` is not symmetric PSD.

    References
    ----------
    [BLK] §5.2.3 (Joseph form), §10.3.2 (EKF update).
    """
    x, P = _check_state(x, P)
    z, R, sr, sv = _check_measurement(
        z, R, meas_model, sensor_r_ecef_m, sensor_v_ecef_m_s, x.shape[0]
    )
    return _update_ekf(x, P, z, R, meas_model, sr, sv)


def _check_dim(model: MotionModel, n: int) -> None:
    if int(model.dim) != n:
        raise InputError(f"model: dim {model.dim} does not match the state length {n}")


# --------------------------------------------------------------------------- sigma points


def _sigma_points(x: np.ndarray, P: np.ndarray, scale: float) -> np.ndarray:
    """Points ``x``, ``x + scale L e_i``, ``x - scale L e_i``: shape (N, 2n + 1, n)."""
    L = np.linalg.cholesky(P)
    D = scale * np.swapaxes(L, -1, -2)  # rows are the scaled columns of L
    return np.concatenate([x[:, None, :], x[:, None, :] + D, x[:, None, :] - D], axis=1)


def _repeat(a: np.ndarray | float, k: int) -> np.ndarray | float:
    if isinstance(a, float):
        return a
    return np.repeat(a, k, axis=0)


def _predict_sigma(x, P, model, dt_s, weights):
    wm, wc, scale = weights
    n_tracks, n = x.shape
    k = 2 * n + 1
    X = _sigma_points(x, P, scale)
    Y, _ = model.predict(X.reshape(n_tracks * k, n), _repeat(dt_s, k))
    Y = Y.reshape(n_tracks, k, n)
    d = Y - Y[:, :1, :]
    mean_d = np.einsum("k,nki->ni", wm, d)
    x_pred = Y[:, 0, :] + mean_d
    dY = d - mean_d[:, None, :]
    P_pred = np.einsum("k,nki,nkj->nij", wc, dY, dY) + model.process_noise(x, dt_s)
    return x_pred, _sym(P_pred)


def _update_sigma(x, P, z, R, meas_model, sr, sv, weights):
    wm, wc, scale = weights
    n_tracks, n = x.shape
    k = 2 * n + 1
    X = _sigma_points(x, P, scale)
    Z, _ = meas_model.predict(X.reshape(n_tracks * k, n), np.repeat(sr, k, 0), np.repeat(sv, k, 0))
    m = Z.shape[-1]
    Z = Z.reshape(n_tracks, k, m)
    z0 = np.broadcast_to(Z[:, :1, :], Z.shape).reshape(n_tracks * k, m)
    d = meas_model.residual(Z.reshape(n_tracks * k, m), z0).reshape(n_tracks, k, m)
    mean_d = np.einsum("k,nki->ni", wm, d)
    z_pred = Z[:, 0, :] + mean_d
    dZ = d - mean_d[:, None, :]
    dX = X - x[:, None, :]
    S = _sym(np.einsum("k,nki,nkj->nij", wc, dZ, dZ) + R)
    Pxz = np.einsum("k,nki,nkj->nij", wc, dX, dZ)
    nu = meas_model.residual(z, z_pred)
    # statistical linear regression: H = Pxz^T P^-1, R_eff = S - H P H^T ([LBS02])
    LP = np.linalg.cholesky(P)
    H = np.swapaxes(_chol_solve(LP, Pxz), -1, -2)
    R_eff = _sym(S - H @ Pxz)
    return _joseph_update(x, P, nu, S, Pxz, H, R_eff)


def predict_ukf(
    x: np.ndarray,
    P: np.ndarray,
    model: MotionModel,
    dt_s: np.ndarray | float,
    sigma_points: SigmaPoints = SigmaPoints(),  # noqa: B008 (frozen, immutable)
) -> tuple[np.ndarray, np.ndarray]:
    """Unscented-Kalman-filter prediction of N tracks by ``dt_s``.

    The 2n + 1 scaled sigma points of (x, P) are propagated through ``model.predict``
    (its Jacobian is ignored); ``x_pred`` and ``P_pred`` are their weighted mean and
    covariance plus ``Q = model.process_noise(x, dt_s)`` (additive noise).

    Parameters
    ----------
    x : ndarray, shape (N, n)
        States (ECEF, SI).
    P : ndarray, shape (N, n, n)
        Covariances, positive definite.
    model : MotionModel
        Motion model with ``dim == n``.
    dt_s : float or ndarray, shape (N,)
        Prediction interval, s.
    sigma_points : SigmaPoints
        Scaled-unscented-transform parameters.

    Returns
    -------
    x_pred : ndarray, shape (N, n)
    P_pred : ndarray, shape (N, n, n)

    References
    ----------
    [JU04], [WvdM00] (algorithm 3.1, additive noise), [Jul02].
    """
    x, P = _check_state(x, P)
    _check_dim(model, x.shape[1])
    return _predict_sigma(
        x, P, model, _check_dt(dt_s, x.shape[0]), sigma_points.weights(x.shape[1])
    )


def update_ukf(
    x: np.ndarray,
    P: np.ndarray,
    z: np.ndarray,
    R: np.ndarray,
    meas_model: MeasurementModel,
    sensor_r_ecef_m: np.ndarray,
    sensor_v_ecef_m_s: np.ndarray,
    sigma_points: SigmaPoints = SigmaPoints(),  # noqa: B008 (frozen, immutable)
) -> UpdateResult:
    """Unscented-Kalman-filter measurement update of N tracks.

    Sigma points of (x, P) go through ``meas_model.predict`` (H ignored); the predicted
    measurement is their weighted mean taken as wrapped residuals from the measurement of
    the central point (see the module notes on angles). ``S = Pzz + R``, ``K = Pxz S^-1``
    and the covariance update is the Joseph form with the statistical-linear-regression
    ``H`` and ``R`` ([LBS02]).

    Parameters
    ----------
    x, P, z, R, meas_model, sensor_r_ecef_m, sensor_v_ecef_m_s
        As in :func:`update_ekf`.
    sigma_points : SigmaPoints
        Scaled-unscented-transform parameters.

    Returns
    -------
    UpdateResult

    References
    ----------
    [JU04], [WvdM00], [LBS02].
    """
    x, P = _check_state(x, P)
    z, R, sr, sv = _check_measurement(
        z, R, meas_model, sensor_r_ecef_m, sensor_v_ecef_m_s, x.shape[0]
    )
    return _update_sigma(x, P, z, R, meas_model, sr, sv, sigma_points.weights(x.shape[1]))


def predict_ckf(
    x: np.ndarray, P: np.ndarray, model: MotionModel, dt_s: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """Cubature-Kalman-filter prediction of N tracks by ``dt_s``.

    As :func:`predict_ukf` with the 2n cubature points ``x +- sqrt(n) L e_i``, each of
    weight ``1 / (2n)``.

    Parameters
    ----------
    x, P, model, dt_s
        As in :func:`predict_ekf`.

    Returns
    -------
    x_pred : ndarray, shape (N, n)
    P_pred : ndarray, shape (N, n, n)

    References
    ----------
    [AH09] §IV (time update, third-degree spherical-radial rule).
    """
    x, P = _check_state(x, P)
    _check_dim(model, x.shape[1])
    return _predict_sigma(x, P, model, _check_dt(dt_s, x.shape[0]), _cubature_weights(x.shape[1]))


def update_ckf(
    x: np.ndarray,
    P: np.ndarray,
    z: np.ndarray,
    R: np.ndarray,
    meas_model: MeasurementModel,
    sensor_r_ecef_m: np.ndarray,
    sensor_v_ecef_m_s: np.ndarray,
) -> UpdateResult:
    """Cubature-Kalman-filter measurement update of N tracks.

    As :func:`update_ukf` with the 2n cubature points of [AH09].

    Parameters
    ----------
    x, P, z, R, meas_model, sensor_r_ecef_m, sensor_v_ecef_m_s
        As in :func:`update_ekf`.

    Returns
    -------
    UpdateResult

    References
    ----------
    [AH09] §IV (measurement update), [LBS02].
    """
    x, P = _check_state(x, P)
    z, R, sr, sv = _check_measurement(
        z, R, meas_model, sensor_r_ecef_m, sensor_v_ecef_m_s, x.shape[0]
    )
    return _update_sigma(x, P, z, R, meas_model, sr, sv, _cubature_weights(x.shape[1]))


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True, slots=True)
class FilterPair:
    """A filter's public predict/update functions and their unchecked kernels.

    Attributes
    ----------
    name : str
        ``'ekf'``, ``'ukf'`` or ``'ckf'``.
    predict : callable
        ``predict(x, P, model, dt_s) -> (x_pred, P_pred)``, validating its input.
    update : callable
        ``update(x, P, z, R, meas_model, sensor_r_ecef_m, sensor_v_ecef_m_s) ->
        UpdateResult``, validating its input.
    predict_kernel, update_kernel : callable
        The same without input checks, for callers (the IMM) that validated once.
    """

    name: str
    predict: Callable[..., tuple[np.ndarray, np.ndarray]]
    update: Callable[..., UpdateResult]
    predict_kernel: Callable[..., tuple[np.ndarray, np.ndarray]]
    update_kernel: Callable[..., UpdateResult]


def _pk_ukf(x, P, model, dt_s):
    return _predict_sigma(x, P, model, dt_s, SigmaPoints().weights(x.shape[1]))


def _uk_ukf(x, P, z, R, meas_model, sr, sv):
    return _update_sigma(x, P, z, R, meas_model, sr, sv, SigmaPoints().weights(x.shape[1]))


def _pk_ckf(x, P, model, dt_s):
    return _predict_sigma(x, P, model, dt_s, _cubature_weights(x.shape[1]))


def _uk_ckf(x, P, z, R, meas_model, sr, sv):
    return _update_sigma(x, P, z, R, meas_model, sr, sv, _cubature_weights(x.shape[1]))


FILTERS: dict[str, FilterPair] = {
    "ekf": FilterPair("ekf", predict_ekf, update_ekf, _predict_ekf, _update_ekf),
    "ukf": FilterPair("ukf", predict_ukf, update_ukf, _pk_ukf, _uk_ukf),
    "ckf": FilterPair("ckf", predict_ckf, update_ckf, _pk_ckf, _uk_ckf),
}
"""The filters by name; the UKF entry uses the default :class:`SigmaPoints`."""


def get_filter(name: str) -> FilterPair:
    """The :class:`FilterPair` called ``name`` (``'ekf'``, ``'ukf'`` or ``'ckf'``).

    Raises
    ------
    InputError
        If ``name`` is not one of them.
    """
    try:
        return FILTERS[name]
    except (KeyError, TypeError):
        raise InputError(f"filter: {name!r} is not one of {sorted(FILTERS)}") from None


# --------------------------------------------------------------------------- gating


def mahalanobis2(nu: np.ndarray, S: np.ndarray) -> np.ndarray:
    """Squared Mahalanobis distance ``nu^T S^-1 nu`` of N innovations.

    Parameters
    ----------
    nu : ndarray, shape (N, m)
        Innovations (angles already wrapped).
    S : ndarray, shape (N, m, m)
        Innovation covariances, positive definite.

    Returns
    -------
    ndarray, shape (N,)
        Distances squared (dimensionless), from a Cholesky solve.

    References
    ----------
    [BLK] §2.4.3, §5.4.
    """
    nu = np.asarray(nu, dtype=float)
    S = np.asarray(S, dtype=float)
    if nu.ndim != 2:
        raise InputError(f"nu: innovations must have shape (N, m), got {nu.shape}")
    if S.shape != nu.shape + nu.shape[-1:]:
        raise InputError(f"S: must have shape {nu.shape + nu.shape[-1:]}, got {S.shape}")
    try:
        L = np.linalg.cholesky(_sym(S))
    except np.linalg.LinAlgError:
        raise InputError("S: innovation covariances must be positive definite") from None
    w = np.linalg.solve(L, nu[..., None])[..., 0]
    return np.einsum("...i,...i->...", w, w)


def gated(nu: np.ndarray, S: np.ndarray, p_gate: float) -> np.ndarray:
    """Whether each innovation falls inside the chi-square gate of probability ``p_gate``.

    Parameters
    ----------
    nu : ndarray, shape (N, m)
        Innovations.
    S : ndarray, shape (N, m, m)
        Innovation covariances.
    p_gate : float
        Gate probability in (0, 1): a correct measurement falls inside with this
        probability (e.g. 0.99).

    Returns
    -------
    ndarray of bool, shape (N,)
        ``mahalanobis2(nu, S) <= chi2.ppf(p_gate, m)``.

    References
    ----------
    [BLK] §2.4.3 (validation gate).
    """
    if not (0.0 < p_gate < 1.0):
        raise InputError(f"p_gate: {p_gate} must lie in (0, 1)")
    d2 = mahalanobis2(nu, S)
    return d2 <= chi2.ppf(p_gate, np.asarray(nu).shape[-1])
