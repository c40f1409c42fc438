"""Posterior Cramer-Rao lower bound (PCRLB) of single-target tracking along a true path.

For ``x_{k+1} = f_k(x_k) + w_k``, ``w_k ~ N(0, Q_k)``, and measurements
``z_k^s = h^s(x_k) + v_k^s``, ``v_k^s ~ N(0, R_k^s)`` from any number of sensors s
(none in a detection gap), the Fisher information ``J_k`` of the state obeys the
recursion of Tichavsky, Muravchik and Nehorai [TMN98] (eq. 21 and the additive Gaussian
noise case, section III)::

    J_{k+1} = D22_k - D21_k (J_k + D11_k)^-1 D12_k
    D11_k = F_k^T Q_k^-1 F_k,   D12_k = -F_k^T Q_k^-1 = D21_k^T,
    D22_k = Q_k^-1 + sum_s H_{k+1}^s^T (R_{k+1}^s)^-1 H_{k+1}^s

with ``J_0`` the prior information (plus the information of the measurements at the
first time). ``F_k`` (from ``model.predict``) and ``H`` (from ``meas_model.predict``)
are the Jacobians at the **true** states: the expectations over the state that the exact
bound takes are replaced by their values along one known path, the usual evaluation for
a deterministic truth ([RAG04] ch. 4; exact when the models are linear). The bound on
the estimation error covariance at ``t_k`` is ``J_k^-1``.

For linear-Gaussian models the recursion is the information form of the Kalman filter,
so ``J_k^-1`` equals the Kalman covariance ``P_{k|k}`` (VALIDATION.md, Estimation).

Singular process noise
    The D-form needs ``Q^-1``. When ``Q`` is not positive definite (zero noise, or a
    random-walk parameter with zero intensity) the step uses the algebraically identical
    form obtained with the matrix inversion lemma,
    ``J_{k+1} = (Q_k + F_k J_k^-1 F_k^T)^-1 + sum_s H^T R^-1 H``, which needs only
    ``J_k`` invertible. ``form='covariance'`` uses that form at every step.

References
----------
.. [TMN98] P. Tichavsky, C. H. Muravchik, A. Nehorai, "Posterior Cramer-Rao bounds for
   discrete-time nonlinear filtering", IEEE Trans. Signal Processing 46(5), 1386-1396
   (1998), doi:10.1109/78.668800.
.. [RAG04] B. Ristic, S. Arulampalam, N. Gordon, *Beyond the Kalman Filter: Particle
   Filters for Tracking Applications*, Artech House, 2004, ch. 4 (PCRLB for tracking;
   detection gaps and multiple sensors).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hyperdef.errors import InputError
from hyperdef.tracking.measurements import MEASUREMENT_MODELS

__all__ = ["pcrlb", "measurement_information"]

Measurement = tuple[object, np.ndarray, np.ndarray, np.ndarray]


def _sym(a: np.ndarray) -> np.ndarray:
    return 0.5 * (a + a.T)


def _inv_spd(a: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix by Cholesky (raises LinAlgError)."""
    L = np.linalg.cholesky(_sym(a))
    li = np.linalg.solve(L, np.eye(a.shape[0]))
    return li.T @ li


def measurement_information(x: np.ndarray, measurements: Sequence[Measurement]) -> np.ndarray:
    """Fisher information ``sum_s H^T R^-1 H`` (n, n) of measurements at state ``x`` (n,).

    Parameters
    ----------
    x : ndarray, shape (n,)
        True state.
    measurements : sequence of (meas_model, sensor_r, sensor_v, R)
        ``meas_model`` a measurement model or its name (``'xyz'``, ``'rae'``,
        ``'raer'``, ``'los'``); sensor ECEF position (3,) m and velocity (3,) m/s;
        noise covariance R (m, m). Empty for a detection gap.
    """
    n = x.shape[0]
    info = np.zeros((n, n))
    for j, item in enumerate(measurements):
        if len(item) != 4:
            raise InputError(f"measurements[{j}]: expected (meas_model, sensor_r, sensor_v, R)")
        meas_model, sensor_r, sensor_v, R = item
        if isinstance(meas_model, str):
            if meas_model not in MEASUREMENT_MODELS:
                raise InputError(f"measurements[{j}]: meas_model {meas_model!r} unknown")
            meas_model = MEASUREMENT_MODELS[meas_model]
        sr = np.asarray(sensor_r, dtype=np.float64).reshape(1, 3)
        sv = np.zeros((1, 3)) if sensor_v is None else np.asarray(sensor_v, float).reshape(1, 3)
        _, H = meas_model.predict(x[None, :], sr, sv)
        H = H[0]
        R = np.asarray(R, dtype=np.float64)
        if R.shape != (H.shape[0], H.shape[0]):
            raise InputError(f"measurements[{j}]: R shape {R.shape}, expected {(H.shape[0],) * 2}")
        try:
            r_inv = _inv_spd(R)
        except np.linalg.LinAlgError:
            raise InputError(f"measurements[{j}]: R is not positive definite") from None
        info += H.T @ r_inv @ H
    return _sym(info)


def pcrlb(
    model,
    x_truth: np.ndarray,
    times_s: np.ndarray,
    measurements: Sequence[Sequence[Measurement]],
    J0: np.ndarray,
    *,
    form: str = "information",
) -> np.ndarray:
    """Posterior Cramer-Rao lower bound along a true path (module notes).

    Parameters
    ----------
    model : MotionModel
        Motion model (``predict`` gives the transition and its Jacobian ``F``,
        ``process_noise`` gives ``Q``), with ``dim == n``.
    x_truth : ndarray, shape (K, n)
        True states at ``times_s`` (ECEF, SI; the model's state vector).
    times_s : ndarray, shape (K,)
        Times, s, strictly increasing.
    measurements : sequence of length K of sequences of (meas_model, sensor_r, sensor_v, R)
        Measurements at each time (an empty sequence for a detection gap); see
        :func:`measurement_information`.
    J0 : ndarray, shape (n, n)
        Prior information at ``times_s[0]`` (the inverse of the prior covariance),
        before the first measurements.
    form : {'information', 'covariance'}
        ``'information'``: Tichavsky's D-form (falls back to the covariance form where
        ``Q`` is singular); ``'covariance'``: the matrix-inversion-lemma form throughout.

    Returns
    -------
    ndarray, shape (K, n, n)
        Lower bounds ``J_k^-1`` on the error covariance at each time (``inf`` on the
        diagonal where the information is singular, e.g. angles only and no prior).

    Raises
    ------
    hyperdef.errors.InputError
        For mismatched shapes, non-increasing times or a bad measurement tuple.

    References
    ----------
    [TMN98] eq. (21) and section III-A; [RAG04] ch. 4.
    """
    x = np.asarray(x_truth, dtype=np.float64)
    t = np.asarray(times_s, dtype=np.float64)
    if x.ndim != 2:
        raise InputError(f"x_truth: expected shape (K, n), got {x.shape}")
    k_steps, n = x.shape
    if int(model.dim) != n:
        raise InputError(f"model: dim {model.dim} does not match the state length {n}")
    if t.shape != (k_steps,) or not np.all(np.diff(t) > 0.0):
        raise InputError(f"times_s: need {k_steps} strictly increasing times")
    if len(measurements) != k_steps:
        raise InputError(
            f"measurements: need {k_steps} entries (one per time), got {len(measurements)}"
        )
    J = np.asarray(J0, dtype=np.float64)
    if J.shape != (n, n):
        raise InputError(f"J0: expected shape ({n}, {n}), got {J.shape}")
    if form not in ("information", "covariance"):
        raise InputError(f"form: {form!r}; allowed: 'information', 'covariance'")
    J = _sym(J + measurement_information(x[0], measurements[0]))
    bounds = np.empty((k_steps, n, n))
    bounds[0] = _bound(J)
    for k in range(k_steps - 1):
        dt = t[k + 1] - t[k]
        _, F = model.predict(x[k : k + 1], dt)
        F = F[0]
        Q = _sym(model.process_noise(x[k : k + 1], dt)[0])
        info_z = measurement_information(x[k + 1], measurements[k + 1])
        q_inv = None
        if form == "information":
            try:
                q_inv = _inv_spd(Q)
            except np.linalg.LinAlgError:
                q_inv = None
        if q_inv is not None:
            d11 = F.T @ q_inv @ F
            d12 = -F.T @ q_inv
            J = q_inv + info_z - d12.T @ np.linalg.solve(J + d11, d12)
        else:
            P = np.linalg.inv(J)
            J = np.linalg.inv(_sym(F @ P @ F.T + Q)) + info_z
        J = _sym(J)
        bounds[k + 1] = _bound(J)
    return bounds


def _bound(J: np.ndarray) -> np.ndarray:
    """``J^-1``, or ``inf`` on the diagonal where J is singular."""
    try:
        return _inv_spd(J)
    except np.linalg.LinAlgError:
        out = np.zeros_like(J)
        np.fill_diagonal(out, np.inf)
        return out
