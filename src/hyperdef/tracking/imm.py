"""Interacting multiple model (IMM) estimator, batched over N tracks.

An :class:`IMM` is configuration only (STYLE 5, algorithms as data): a tuple of M motion
models, the Markov model-transition matrix ``transition[i, j] = P(model j at k | model i at
k-1)`` and the name of the model-conditioned filter (``'ekf'``, ``'ukf'`` or ``'ckf'``, see
:data:`hyperdef.tracking.filters.FILTERS`). The estimate lives in an :class:`IMMState`: one
state array (N, n_j) and covariance array (N, n_j, n_j) per model, and the model
probabilities (N, M). The cycle ([BSB88], [BLK] §11.6.6):

1. **Mixing** (:func:`imm_predict`). Predicted model probabilities
   ``c_j = sum_i p_ij mu_i`` and mixing weights ``mu_i|j = p_ij mu_i / c_j``; each model's
   filter restarts from ``x0_j = sum_i mu_i|j x_i^(j)`` and
   ``P0_j = sum_i mu_i|j (P_i^(j) + (x_i^(j) - x0_j)(x_i^(j) - x0_j)^T)``.
2. **Model-conditioned prediction** (:func:`imm_predict`) with each model's own dynamics.
3. **Model-conditioned update** (:func:`imm_update`) giving each model's likelihood
   ``Lambda_j = N(nu_j; 0, S_j)``, and the model probabilities ``mu_j ∝ Lambda_j c_j``
   (computed with log-likelihoods and log-sum-exp, so they never underflow to 0/0).
4. **Combination** (:func:`combined`) of the common ECEF position-velocity block.

Models with different state dimensions
    Every model's first six components are ECEF position and velocity; the rest are the
    model's own (acceleration, ballistic coefficient, ...). Two models of the same class
    share a state layout and are mixed in their full states (the standard IMM). Otherwise
    model i's estimate is expressed in model j's state space, ``x_i^(j)``, in the spirit
    of the "unbiased mixing" of [GWB15]: its first six components are model i's position
    and velocity, and the components of model j beyond the sixth are taken from model j's
    own estimate (model i knows nothing of them, so it neither pulls them towards a value
    nor adds spread to them). Its covariance ``P_i^(j)`` is block-diagonal: model i's
    6x6 position-velocity block and model j's own extra-state block, with zero cross
    covariance. Each term is positive semi-definite, so the mixed covariance is too, and
    the position-velocity part is exactly the standard IMM mixing. (Model j's own
    position/extra-state cross covariance is kept only in its own term, weighted by
    ``mu_j|j``.)

Batching: the arrays are batched over tracks; the only Python loops are over the M (few)
models.

References
----------
.. [BSB88] H. A. P. Blom, Y. Bar-Shalom, "The interacting multiple model algorithm for
   systems with Markovian switching coefficients", *IEEE Trans. Automatic Control* 33(8),
   780-783, 1988. doi:10.1109/9.1299
.. [BLK] Y. Bar-Shalom, X. R. Li, T. Kirubarajan, *Estimation with Applications to Tracking
   and Navigation*, Wiley, 2001, §11.6.6 (the IMM estimator, one cycle).
.. [GWB15] K. Granström, P. Willett, Y. Bar-Shalom, "Systematic approach to IMM mixing for
   unequal dimension states", *IEEE Trans. Aerospace and Electronic Systems* 51(4),
   2975-2986, 2015.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hyperdef.errors import InputError
from hyperdef.tracking.filters import (
    _check_dt,
    _check_measurement,
    _sym,
    get_filter,
)
from hyperdef.tracking.protocols import MeasurementModel, MotionModel

__all__ = [
    "IMM",
    "IMMState",
    "IMMUpdateResult",
    "combined",
    "imm_initial_state",
    "imm_predict",
    "imm_update",
    "model_probabilities",
]

_N_COMMON = 6  # ECEF position and velocity, first in every model's state
_TINY = 1e-300


@dataclass(frozen=True, slots=True)
class IMM:
    """An IMM model set: models, Markov transition matrix and model-conditioned filter.

    Attributes
    ----------
    models : tuple of MotionModel
        The M motion models; each has ``dim >= 6`` with ECEF position and velocity first.
    transition : ndarray, shape (M, M)
        Markov transition matrix, ``transition[i, j]`` the probability of switching from
        model i to model j in one step; non-negative, rows summing to 1. Stored as a
        read-only float array.
    filter_name : str
        Model-conditioned filter: ``'ekf'`` (default), ``'ukf'`` or ``'ckf'``.

    Raises
    ------
    InputError
        If ``models`` is empty, a model has ``dim < 6``, ``transition`` is not (M, M),
        has a negative entry or a row not summing to 1 (within 1e-9), or ``filter_name``
        is unknown.

    References
    ----------
    [BSB88], [BLK] §11.6.6.
    """

    models: tuple[MotionModel, ...]
    transition: np.ndarray
    filter_name: str = "ekf"

    def __post_init__(self) -> None:
        models = tuple(self.models)
        if not models:
            raise InputError("models: an IMM needs at least one motion model")
        for j, mdl in enumerate(models):
            if int(mdl.dim) < _N_COMMON:
                raise InputError(
                    f"models[{j}]: dim {mdl.dim} < 6; every model's state starts with ECEF "
                    "position and velocity"
                )
        m = len(models)
        T = np.array(self.transition, dtype=float)
        if T.shape != (m, m):
            raise InputError(f"transition: must have shape {(m, m)} for {m} models, got {T.shape}")
        if not np.all(np.isfinite(T)) or np.any(T < 0.0):
            raise InputError("transition: entries must be finite and non-negative")
        row_sums = T.sum(axis=1)
        bad = np.flatnonzero(np.abs(row_sums - 1.0) > 1e-9)
        if bad.size:
            raise InputError(
                f"transition: row {int(bad[0])} sums to {row_sums[bad[0]]:.12g}; every row of "
                "the Markov transition matrix must sum to 1"
            )
        get_filter(self.filter_name)
        T.setflags(write=False)
        object.__setattr__(self, "models", models)
        object.__setattr__(self, "transition", T)


@dataclass(frozen=True, slots=True)
class IMMState:
    """The IMM estimate of N tracks.

    Attributes
    ----------
    x : tuple of ndarray, shapes (N, n_j)
        Model-conditioned states, one array per model (ECEF position m, velocity m/s,
        then model j's extra states).
    P : tuple of ndarray, shapes (N, n_j, n_j)
        Model-conditioned covariances.
    probabilities : ndarray, shape (N, M)
        Model probabilities, rows summing to 1. After :func:`imm_predict` these are the
        predicted probabilities ``c_j``; after :func:`imm_update` the posterior ones.
    """

    x: tuple[np.ndarray, ...]
    P: tuple[np.ndarray, ...]
    probabilities: np.ndarray


@dataclass(frozen=True, slots=True)
class IMMUpdateResult:
    """The outcome of one batched IMM update.

    Attributes
    ----------
    state : IMMState
        Updated estimate.
    log_likelihood : ndarray, shape (N,)
        Log-likelihood of the measurement under the mixture,
        ``log sum_j c_j Lambda_j`` (for association).
    model_log_likelihood : ndarray, shape (N, M)
        Each model's ``log Lambda_j``.
    nis : ndarray, shape (N, M)
        Each model's normalised innovation squared.
    """

    state: IMMState
    log_likelihood: np.ndarray
    model_log_likelihood: np.ndarray
    nis: np.ndarray


def imm_initial_state(
    imm: IMM,
    x: Sequence[np.ndarray],
    P: Sequence[np.ndarray],
    probabilities: np.ndarray | None = None,
) -> IMMState:
    """Validate and bundle an initial IMM estimate.

    Parameters
    ----------
    imm : IMM
        The model set.
    x : sequence of M ndarray, shapes (N, n_j)
        Initial state of each model.
    P : sequence of M ndarray, shapes (N, n_j, n_j)
        Initial covariance of each model, positive definite.
    probabilities : ndarray, shape (M,) or (N, M), optional
        Initial model probabilities (default: equal).

    Returns
    -------
    IMMState

    Raises
    ------
    InputError
        Naming ``x[j]``, ``P[j]`` or ``probabilities`` when a shape or value is wrong.
    """
    m = len(imm.models)
    if len(x) != m or len(P) != m:
        raise InputError(
            f"x, P: need one state and covariance per model ({m}), got {len(x)}, {len(P)}"
        )
    xs, Ps = [], []
    n_tracks = np.asarray(x[0]).shape[0] if np.asarray(x[0]).ndim == 2 else -1
    for j, mdl in enumerate(imm.models):
        xj = np.array(x[j], dtype=float)
        Pj = np.array(P[j], dtype=float)
        n = int(mdl.dim)
        if xj.shape != (n_tracks, n):
            raise InputError(f"x[{j}]: must have shape {(n_tracks, n)}, got {xj.shape}")
        if Pj.shape != (n_tracks, n, n):
            raise InputError(f"P[{j}]: must have shape {(n_tracks, n, n)}, got {Pj.shape}")
        if not (np.all(np.isfinite(xj)) and np.all(np.isfinite(Pj))):
            raise InputError(f"x[{j}], P[{j}]: must be finite")
        try:
            np.linalg.cholesky(_sym(Pj))
        except np.linalg.LinAlgError:
            raise InputError(f"P[{j}]: covariances must be positive definite") from None
        xs.append(xj)
        Ps.append(_sym(Pj))
    if probabilities is None:
        mu = np.full((n_tracks, m), 1.0 / m)
    else:
        mu = np.array(np.broadcast_to(np.asarray(probabilities, dtype=float), (n_tracks, m)))
        if np.any(~np.isfinite(mu)) or np.any(mu < 0.0):
            raise InputError("probabilities: must be finite and non-negative")
        if np.any(np.abs(mu.sum(axis=1) - 1.0) > 1e-9):
            raise InputError("probabilities: each track's model probabilities must sum to 1")
    return IMMState(tuple(xs), tuple(Ps), mu)


def _check_state_matches(state: IMMState, imm: IMM) -> None:
    m = len(imm.models)
    if len(state.x) != m or len(state.P) != m or state.probabilities.shape[-1:] != (m,):
        raise InputError(f"state: holds {len(state.x)} models, the IMM has {m}")
    for j, mdl in enumerate(imm.models):
        if state.x[j].shape[-1] != int(mdl.dim):
            raise InputError(f"state.x[{j}]: length {state.x[j].shape[-1]} != models[{j}].dim")


def _mix(state: IMMState, imm: IMM) -> tuple[list, list, np.ndarray]:
    """Mixing step: the restart estimates of every model and the predicted probabilities."""
    T = imm.transition
    mu = state.probabilities
    w = mu[:, :, None] * T[None, :, :]  # (N, i, j): p_ij mu_i
    c = w.sum(axis=1)  # (N, j)
    empty = c <= _TINY
    if np.any(empty):
        # no probability flows into model j: keep its own estimate (weights are irrelevant)
        jj = np.arange(len(imm.models))
        w = np.where(empty[:, None, :] & (jj[:, None] == jj[None, :])[None], 1.0, w)
        c = np.where(empty, 1.0, c)
    mix = w / c[:, None, :]  # mu_{i|j}
    c = np.where(empty, 0.0, c)
    x0, P0 = [], []
    n6 = _N_COMMON
    models = imm.models
    for j in range(len(models)):
        xj, Pj = state.x[j], state.P[j]
        # x_i^(j), P_i^(j): model i's estimate in model j's state space
        terms = []
        for i in range(len(models)):
            same_layout = type(models[i]) is type(models[j]) and models[i].dim == models[j].dim
            if i == j or same_layout:
                terms.append((state.x[i], state.P[i]))
            else:
                xij = xj.copy()
                xij[:, :n6] = state.x[i][:, :n6]
                terms.append((xij, None))  # its covariance: blocks added in place below
        x_mix = sum(mix[:, i, j, None] * xij for i, (xij, _) in enumerate(terms))
        P_mix = None
        for i, (xij, Pij) in enumerate(terms):
            d = xij - x_mix
            term = d[:, :, None] * d[:, None, :]  # the spread term, then P_i^(j) added
            if Pij is None:  # another layout: model i's (p, v) block, model j's own rest
                term[:, :n6, :n6] += state.P[i][:, :n6, :n6]
                term[:, n6:, n6:] += Pj[:, n6:, n6:]
            else:
                term += Pij
            term *= mix[:, i, j, None, None]
            if P_mix is None:
                P_mix = term
            else:
                P_mix += term
        x0.append(x_mix)
        P0.append(_sym(P_mix))
    return x0, P0, c


def imm_predict(state: IMMState, imm: IMM, dt_s: np.ndarray | float) -> IMMState:
    """IMM mixing and model-conditioned prediction of N tracks by ``dt_s``.

    Parameters
    ----------
    state : IMMState
        Posterior estimate at the previous time.
    imm : IMM
        Model set, transition matrix and filter.
    dt_s : float or ndarray, shape (N,)
        Prediction interval, s.

    Returns
    -------
    IMMState
        Predicted model-conditioned states and covariances, and the predicted model
        probabilities ``c_j = sum_i p_ij mu_i`` (N, M).

    References
    ----------
    [BSB88], [BLK] §11.6.6 (steps 1-2), [GWB15] (unequal dimensions).
    """
    _check_state_matches(state, imm)
    n_tracks = state.probabilities.shape[0]
    dt = _check_dt(dt_s, n_tracks)
    flt = get_filter(imm.filter_name)
    x0, P0, c = _mix(state, imm)
    xs, Ps = [], []
    for j, mdl in enumerate(imm.models):
        xj, Pj = flt.predict_kernel(x0[j], P0[j], mdl, dt)
        xs.append(xj)
        Ps.append(Pj)
    return IMMState(tuple(xs), tuple(Ps), c)


def imm_update(
    state: IMMState,
    imm: IMM,
    z: np.ndarray,
    R: np.ndarray,
    meas_model: MeasurementModel,
    sensor_r_ecef_m: np.ndarray,
    sensor_v_ecef_m_s: np.ndarray,
) -> IMMUpdateResult:
    """IMM model-conditioned update and model-probability update of N tracks.

    Parameters
    ----------
    state : IMMState
        Predicted estimate (from :func:`imm_predict`; its probabilities are the predicted
        ``c_j``).
    imm : IMM
        Model set and filter (``imm.filter_name``, EKF by default).
    z : ndarray, shape (N, m)
        Measurements.
    R : ndarray, shape (m, m) or (N, m, m)
        Measurement noise covariances, symmetric PSD.
    meas_model : MeasurementModel
        Measurement model.
    sensor_r_ecef_m, sensor_v_ecef_m_s : ndarray, shape (3,) or (N, 3)
        Sensor ECEF position (m) and velocity (m/s).

    Returns
    -------
    IMMUpdateResult

    References
    ----------
    [BSB88], [BLK] §11.6.6 (steps 3-4).
    """
    _check_state_matches(state, imm)
    n_tracks = state.probabilities.shape[0]
    z, R, sr, sv = _check_measurement(
        z, R, meas_model, sensor_r_ecef_m, sensor_v_ecef_m_s, n_tracks
    )
    flt = get_filter(imm.filter_name)
    m = len(imm.models)
    xs, Ps = [], []
    ll = np.empty((n_tracks, m))
    nis = np.empty((n_tracks, m))
    for j in range(m):
        res = flt.update_kernel(state.x[j], state.P[j], z, R, meas_model, sr, sv)
        xs.append(res.x)
        Ps.append(res.P)
        ll[:, j] = res.log_likelihood
        nis[:, j] = res.nis
    with np.errstate(divide="ignore"):
        log_w = ll + np.log(state.probabilities)
    log_norm = np.max(log_w, axis=1, keepdims=True)
    log_norm = np.where(np.isfinite(log_norm), log_norm, 0.0)
    w = np.exp(log_w - log_norm)
    total = w.sum(axis=1, keepdims=True)
    mu = w / total
    log_likelihood = np.log(total[:, 0]) + log_norm[:, 0]
    return IMMUpdateResult(IMMState(tuple(xs), tuple(Ps), mu), log_likelihood, ll, nis)


def combined(state: IMMState) -> tuple[np.ndarray, np.ndarray]:
    """The IMM's combined ECEF position-velocity estimate.

    ``x = sum_j mu_j x_j[:6]``, ``P = sum_j mu_j (P_j[:6, :6] + (x_j[:6] - x)(...)^T)``.

    Parameters
    ----------
    state : IMMState
        An IMM estimate (predicted or updated).

    Returns
    -------
    x6 : ndarray, shape (N, 6)
        ECEF position (m) and velocity (m/s).
    P6 : ndarray, shape (N, 6, 6)
        Its covariance.

    References
    ----------
    [BLK] §11.6.6 (step 5, combination).
    """
    mu = state.probabilities
    n6 = _N_COMMON
    x6 = sum(mu[:, j, None] * xj[:, :n6] for j, xj in enumerate(state.x))
    P6 = None
    for j, (xj, Pj) in enumerate(zip(state.x, state.P, strict=True)):
        d = xj[:, :n6] - x6
        term = d[:, :, None] * d[:, None, :]
        term += Pj[:, :n6, :n6]
        term *= mu[:, j, None, None]
        if P6 is None:
            P6 = term
        else:
            P6 += term
    return x6, _sym(P6)


def model_probabilities(state: IMMState) -> np.ndarray:
    """Model probabilities of each track, shape (N, M), rows summing to 1."""
    return state.probabilities
