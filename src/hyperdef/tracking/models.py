"""Motion models of the tracker: kinematic, turning, ballistic and glide, batched over tracks.

Every model is a small frozen dataclass that implements
:class:`hyperdef.tracking.protocols.MotionModel`. States are ECEF (WGS-84), batched over
N tracks on axis 0; the first six components are always position (m) and velocity
relative to the rotating Earth (m/s), so estimates of different models can be mixed in
an IMM and written to the Tracks table. Extra components follow:

========== === =========================================================================
model       n   extra states (index 6 onwards)
========== === =========================================================================
cv          6   none
ca          9   ECEF acceleration (ax, ay, az), m/s^2 (kinematic: includes gravity)
singer      9   ECEF acceleration (ax, ay, az), m/s^2, first-order Gauss-Markov
ct          7   turn rate omega, rad/s, about the local vertical (positive: left turn)
ballistic   7   ln(beta / (1 kg/m^2)), beta = m / (C_D S) the ballistic coefficient
glide       9   ln(beta / (1 kg/m^2)), lift-to-drag ratio L/D (-), bank angle (rad)
========== === =========================================================================

The ballistic and glide states share their first seven components, so an IMM can mix
the ballistic coefficient between them directly. The logarithm keeps beta positive and
the state well scaled (its prior standard deviation is about 1, next to position
variances of 1e2-1e8 m^2; a raw 1/beta of 1e-5 m^2/kg would spread the covariance over
about 20 decades).

Kinematic models (cv, ca, singer) are linear and purely kinematic in ECEF: they do not
know gravity, which a ballistic target shows as a constant 9.8 m/s^2 acceleration that
their process noise (cv) or acceleration state (ca, singer) must absorb. The physics
models (ballistic, glide) integrate J2 gravity, the Coriolis and centrifugal terms of the
rotating frame, and aerodynamic acceleration with the USSA76 density, by classical RK4
sub-steps of at most ``max_substep_s`` (:mod:`hyperdef.tracking.physics`); their
Jacobian ``F`` is the exact derivative of that RK4 map, integrated with it from the
analytic partial derivatives of the acceleration. The turn model's ``F`` is taken by
forward differences of its batched closed form (all tracks and all n perturbations in
one call, steps :data:`JACOBIAN_STEPS`).

Process noise
    Position/velocity blocks are continuous white-noise acceleration (CWNA) of power
    spectral density ``q = sigma_a_m_s2**2 * (1 s)`` per axis, integrated exactly over
    ``dt`` ([BLK] section 6.2.2)::

        Q_pv = q [[dt^3/3, dt^2/2], [dt^2/2, dt]]  (kron) I3

    ``sigma_a_m_s2`` is thus the standard deviation of the acceleration averaged over
    1 s; the velocity random walk grows as ``sigma_a sqrt(dt * 1 s)``. Slowly varying
    parameters (turn rate, ln beta, L/D, bank) are random walks driven by white noise of
    spectral density ``sigma**2``, so their variance grows by ``sigma**2 dt``
    ([BLK] section 11.7.2 for the turn rate; [LJ2] section on ballistic-coefficient
    estimation for beta). For the nonlinear models the two blocks are added without the
    coupling that the dynamics create within one step (a first-order approximation of
    the integral ``int Phi G Qc G^T Phi^T``, usual in the literature [LJ2]); the
    coupling builds up through ``F`` from one step to the next.

References
----------
.. [BLK] Y. Bar-Shalom, X. R. Li, T. Kirubarajan, *Estimation with Applications to
   Tracking and Navigation*, Wiley, 2001: section 6.2.2 (CWNA, nearly constant
   velocity), 6.2.3 (Wiener-process acceleration, nearly constant acceleration),
   section 11.7.2 (coordinated turn with the turn rate as a state).
.. [Singer] R. A. Singer, "Estimating optimal tracking filter performance for manned
   maneuvering targets", IEEE Trans. Aerospace and Electronic Systems AES-6(4),
   473-483 (1970), doi:10.1109/TAES.1970.310128.
.. [LJ1] X. R. Li, V. P. Jilkov, "Survey of maneuvering target tracking. Part I:
   Dynamic models", IEEE Trans. Aerospace and Electronic Systems 39(4), 1333-1364
   (2003), doi:10.1109/TAES.2003.1261132 (CT models in 3-D, Singer model).
.. [LJ2] X. R. Li, V. P. Jilkov, "Survey of maneuvering target tracking. Part II: Motion
   models of ballistic and space targets", IEEE Trans. Aerospace and Electronic Systems
   46(1), 96-119 (2010), doi:10.1109/TAES.2010.5417150 (re-entry models with the
   ballistic coefficient as a state; lifting re-entry with aerodynamic parameters).
.. [Vinh] N. X. Vinh, A. Busemann, R. D. Culp, *Hypersonic and Planetary Entry Flight
   Mechanics*, University of Michigan Press, 1980, ch. 2 (point-mass equations over a
   rotating planet; lift rotated by the bank angle about the velocity).
.. [USSA76] NOAA, NASA, USAF, *U.S. Standard Atmosphere, 1976*, NOAA-S/T 76-1562.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar

import numpy as np

from hyperdef.errors import InputError
from hyperdef.tracking.physics import physics_acceleration, rk4_propagate

__all__ = [
    "ConstantVelocity",
    "ConstantAcceleration",
    "Singer",
    "CoordinatedTurn3D",
    "Ballistic",
    "Glide",
    "ExtraPrior",
    "MODELS",
    "DEFAULT_PRIORS",
    "JACOBIAN_STEPS",
    "physics_acceleration",
    "model_name",
    "embed",
]


# ------------------------------------------------------------------- validation


def _check_nonnegative(obj: object, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        try:
            ok = math.isfinite(float(value)) and float(value) >= 0.0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise InputError(f"{type(obj).__name__}.{name}: {value!r} must be a finite number >= 0")
        object.__setattr__(obj, name, float(value))


def _check_positive(obj: object, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        try:
            ok = math.isfinite(float(value)) and float(value) > 0.0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise InputError(f"{type(obj).__name__}.{name}: {value!r} must be a finite number > 0")
        object.__setattr__(obj, name, float(value))


def _batch(x: np.ndarray, dt_s: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """States as float (N, n) and steps broadcast to (N,)."""
    x = np.asarray(x, dtype=np.float64)
    dt = np.broadcast_to(np.asarray(dt_s, dtype=np.float64), x.shape[:1])
    return x, dt


def _kron3(block: np.ndarray) -> np.ndarray:
    """Per-axis block (N, k, k) to the full (N, 3k, 3k) matrix for ordering (p, v, a) x xyz."""
    n, k, _ = block.shape
    out = np.zeros((n, 3 * k, 3 * k))
    for axis in range(3):  # entry (3 i + axis, 3 j + axis) is block[i, j]
        out[:, axis::3, axis::3] = block
    return out


def _cwna_block(dt: np.ndarray, q: float) -> np.ndarray:
    """Per-axis CWNA covariance q [[dt^3/3, dt^2/2], [dt^2/2, dt]], shape (N, 2, 2)."""
    dt2 = dt * dt
    out = np.empty(dt.shape + (2, 2))
    out[:, 0, 0] = dt2 * dt / 3.0
    out[:, 0, 1] = out[:, 1, 0] = dt2 / 2.0
    out[:, 1, 1] = dt
    return q * out


# ------------------------------------------------------------ kinematic models


@dataclass(frozen=True, slots=True)
class ConstantVelocity:
    """Nearly constant velocity: continuous white-noise acceleration, n = 6.

    ``F = [[I, dt I], [0, I]]`` and ``Q = q [[dt^3/3, dt^2/2], [dt^2/2, dt]] (kron) I3``,
    ``q = sigma_a_m_s2**2 * 1 s`` (m^2/s^3).

    Attributes
    ----------
    sigma_a_m_s2 : float
        Square root of the acceleration noise spectral density, expressed as the
        standard deviation of the acceleration averaged over 1 s, m/s^2, >= 0.

    References
    ----------
    .. [1] Bar-Shalom, Li, Kirubarajan, *Estimation with Applications to Tracking and
       Navigation*, Wiley, 2001, section 6.2.2.
    """

    sigma_a_m_s2: float = 10.0
    dim: ClassVar[int] = 6

    def __post_init__(self) -> None:
        _check_nonnegative(self, "sigma_a_m_s2")

    def predict(self, x: np.ndarray, dt_s: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """State (N, 6) propagated by ``dt_s`` (s) and the transition matrix (N, 6, 6)."""
        x, dt = _batch(x, dt_s)
        x_pred = x.copy()
        x_pred[:, 0:3] += dt[:, None] * x[:, 3:6]
        block = np.zeros(dt.shape + (2, 2))
        block[:, 0, 0] = block[:, 1, 1] = 1.0
        block[:, 0, 1] = dt
        return x_pred, _kron3(block)

    def process_noise(self, x: np.ndarray, dt_s: np.ndarray | float) -> np.ndarray:
        """Discrete process-noise covariance (N, 6, 6) over ``dt_s`` (s)."""
        x, dt = _batch(x, dt_s)
        return _kron3(_cwna_block(dt, self.sigma_a_m_s2**2))


@dataclass(frozen=True, slots=True)
class ConstantAcceleration:
    """Nearly constant acceleration: Wiener-process acceleration, n = 9.

    State (r, v, a) in ECEF; ``a`` is the full kinematic acceleration (gravity included).
    Per axis ``F = [[1, dt, dt^2/2], [0, 1, dt], [0, 0, 1]]`` and::

        Q = q [[dt^5/20, dt^4/8, dt^3/6],
               [dt^4/8,  dt^3/3, dt^2/2],
               [dt^3/6,  dt^2/2, dt    ]],   q = sigma_j_m_s3**2 * 1 s  (m^2/s^5).

    Attributes
    ----------
    sigma_j_m_s3 : float
        Square root of the jerk noise spectral density, as the standard deviation of the
        jerk averaged over 1 s, m/s^3, >= 0.

    References
    ----------
    .. [1] Bar-Shalom, Li, Kirubarajan, 2001, section 6.2.3 (continuous Wiener-process
       acceleration model).
    """

    sigma_j_m_s3: float = 5.0
    dim: ClassVar[int] = 9

    def __post_init__(self) -> None:
        _check_nonnegative(self, "sigma_j_m_s3")

    def predict(self, x: np.ndarray, dt_s: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """State (N, 9) propagated by ``dt_s`` (s) and the transition matrix (N, 9, 9)."""
        x, dt = _batch(x, dt_s)
        block = np.zeros(dt.shape + (3, 3))
        block[:, 0, 0] = block[:, 1, 1] = block[:, 2, 2] = 1.0
        block[:, 0, 1] = block[:, 1, 2] = dt
        block[:, 0, 2] = 0.5 * dt * dt
        f = _kron3(block)
        return np.einsum("nij,nj->ni", f, x), f

    def process_noise(self, x: np.ndarray, dt_s: np.ndarray | float) -> np.ndarray:
        """Discrete process-noise covariance (N, 9, 9) over ``dt_s`` (s)."""
        x, dt = _batch(x, dt_s)
        t2 = dt * dt
        t3 = t2 * dt
        block = np.empty(dt.shape + (3, 3))
        block[:, 0, 0] = t3 * t2 / 20.0
        block[:, 0, 1] = block[:, 1, 0] = t2 * t2 / 8.0
        block[:, 0, 2] = block[:, 2, 0] = t3 / 6.0
        block[:, 1, 1] = t3 / 3.0
        block[:, 1, 2] = block[:, 2, 1] = t2 / 2.0
        block[:, 2, 2] = dt
        return _kron3(self.sigma_j_m_s3**2 * block)


# Singer terms as data: each function B(x) of x = dt / tau is a sum of c x^p exp(-k x)
# given as (c, p, k); ``_SINGER_POWER`` is the order of its first non-zero Taylor term.
# Keys: Q entries 00, 01, 02, 11, 12, 22 (per axis, p/v/a) and F entries 02 and 12.
_SINGER_TERMS: dict[str, tuple[tuple[Fraction, int, int], ...]] = {
    "q00": (
        (Fraction(1), 0, 0),
        (Fraction(-1), 0, 2),
        (Fraction(2), 1, 0),
        (Fraction(2, 3), 3, 0),
        (Fraction(-2), 2, 0),
        (Fraction(-4), 1, 1),
    ),
    "q01": (
        (Fraction(1), 0, 2),
        (Fraction(1), 0, 0),
        (Fraction(-2), 0, 1),
        (Fraction(2), 1, 1),
        (Fraction(-2), 1, 0),
        (Fraction(1), 2, 0),
    ),
    "q02": ((Fraction(1), 0, 0), (Fraction(-1), 0, 2), (Fraction(-2), 1, 1)),
    "q11": ((Fraction(4), 0, 1), (Fraction(-3), 0, 0), (Fraction(-1), 0, 2), (Fraction(2), 1, 0)),
    "q12": ((Fraction(1), 0, 2), (Fraction(1), 0, 0), (Fraction(-2), 0, 1)),
    "q22": ((Fraction(1), 0, 0), (Fraction(-1), 0, 2)),
    "f02": ((Fraction(1), 1, 0), (Fraction(-1), 0, 0), (Fraction(1), 0, 1)),
    "f12": ((Fraction(1), 0, 0), (Fraction(-1), 0, 1)),
}
_SINGER_POWER = {"q00": 5, "q01": 4, "q02": 3, "q11": 3, "q12": 2, "q22": 1, "f02": 2, "f12": 1}
_SERIES_TERMS = 24
_SERIES_BELOW = 1.0  # x below which the Taylor series replaces the closed form


def _taylor(terms: tuple[tuple[Fraction, int, int], ...], power: int) -> np.ndarray:
    """Coefficients b_j of B(x) / x^power = sum_j b_j x^j, exact in rationals."""
    coef = [Fraction(0)] * (power + _SERIES_TERMS)
    for c, p, k in terms:
        for j in range(len(coef) - p):  # exp(-k x) = sum_j (-k)^j x^j / j!
            coef[p + j] += c * Fraction((-k) ** j, math.factorial(j))
    if any(coef[:power]):
        raise RuntimeError("Singer series: leading terms do not cancel")
    return np.array([float(b) for b in coef[power:]])


_SINGER_SERIES = {key: _taylor(terms, _SINGER_POWER[key]) for key, terms in _SINGER_TERMS.items()}


def _singer_scaled(key: str, x: np.ndarray) -> np.ndarray:
    """``B(x) / x^p`` for the Singer term ``key``: series for small x, closed form above."""
    small = x < _SERIES_BELOW
    series = np.polynomial.polynomial.polyval(np.where(small, x, 0.0), _SINGER_SERIES[key])
    xs = np.where(small, 1.0, x)
    closed = sum(float(c) * xs**p * np.exp(-k * xs) for c, p, k in _SINGER_TERMS[key])
    return np.where(small, series, closed / xs ** _SINGER_POWER[key])


@dataclass(frozen=True, slots=True)
class Singer:
    """Singer model: acceleration a first-order Gauss-Markov process, n = 9.

    Per axis, with ``alpha = 1 / tau_s`` and ``x = alpha dt``, the exact discretisation
    of ``da/dt = -alpha a + w``, ``E[w w] = 2 alpha sigma_m^2 delta``::

        F = [[1, dt, (x - 1 + e^-x) / alpha^2],
             [0, 1,  (1 - e^-x) / alpha],
             [0, 0,  e^-x]]
        Q = 2 alpha sigma_m^2 [q_ij]   ([Singer] appendix; [LJ1] Singer model)

    with, e.g., ``q_33 = (1 - e^{-2x}) / (2 alpha)`` and
    ``q_11 = (1 - e^{-2x} + 2x + 2x^3/3 - 2x^2 - 4x e^{-x}) / (2 alpha^5)``. The closed
    forms lose every digit to cancellation as ``x -> 0``; below ``x = 1`` each entry is
    evaluated from its Taylor series (24 terms, coefficients computed exactly in
    rationals at import), so the limits hold to rounding:

    - ``tau -> inf`` with ``2 sigma_m^2 / tau = q`` fixed: the Wiener-process
      acceleration (CA) model with spectral density q;
    - ``tau -> 0``: acceleration white, the position/velocity block tends to CWNA with
      spectral density ``2 sigma_m^2 tau``.

    Attributes
    ----------
    tau_s : float
        Manoeuvre time constant, s, > 0 (Singer: about 60 s for a lazy turn, 10-20 s for
        an evasive manoeuvre).
    sigma_a_m_s2 : float
        Standard deviation of the target acceleration sigma_m, m/s^2, >= 0.

    References
    ----------
    .. [1] R. A. Singer, IEEE Trans. AES-6(4), 473-483 (1970),
       doi:10.1109/TAES.1970.310128.
    .. [2] X. R. Li, V. P. Jilkov, "Survey of maneuvering target tracking. Part I",
       IEEE Trans. AES 39(4), 1333-1364 (2003), doi:10.1109/TAES.2003.1261132,
       section on the Singer acceleration model.
    """

    tau_s: float = 20.0
    sigma_a_m_s2: float = 30.0
    dim: ClassVar[int] = 9

    def __post_init__(self) -> None:
        _check_positive(self, "tau_s")
        _check_nonnegative(self, "sigma_a_m_s2")

    def predict(self, x: np.ndarray, dt_s: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """State (N, 9) propagated by ``dt_s`` (s) and the transition matrix (N, 9, 9)."""
        x, dt = _batch(x, dt_s)
        z = dt / self.tau_s
        block = np.zeros(dt.shape + (3, 3))
        block[:, 0, 0] = block[:, 1, 1] = 1.0
        block[:, 0, 1] = dt
        block[:, 0, 2] = dt * dt * _singer_scaled("f02", z)
        block[:, 1, 2] = dt * _singer_scaled("f12", z)
        block[:, 2, 2] = np.exp(-z)
        f = _kron3(block)
        return np.einsum("nij,nj->ni", f, x), f

    def process_noise(self, x: np.ndarray, dt_s: np.ndarray | float) -> np.ndarray:
        """Discrete process-noise covariance (N, 9, 9) over ``dt_s`` (s)."""
        x, dt = _batch(x, dt_s)
        z = dt / self.tau_s
        scale = self.sigma_a_m_s2**2 / self.tau_s  # sigma^2 alpha; Q_ij = scale dt^p b_ij
        block = np.empty(dt.shape + (3, 3))
        for (i, j), key in (
            ((0, 0), "q00"),
            ((0, 1), "q01"),
            ((0, 2), "q02"),
            ((1, 1), "q11"),
            ((1, 2), "q12"),
            ((2, 2), "q22"),
        ):
            value = scale * dt ** _SINGER_POWER[key] * _singer_scaled(key, z)
            block[:, i, j] = block[:, j, i] = value
        return _kron3(block)


# ------------------------------------------------------ numerical Jacobian helper

#: forward-difference steps per state component of the turn model: position 1 m,
#: velocity 1 mm/s, turn rate 1e-7 rad/s. The truncation error of a forward difference is
#: half the step times the curvature of its column, and the rounding of the propagated
#: state (1e-9 m at 6,400 km) over the step must stay small too: with these both are below
#: 1e-5 of the entry (tests/unit/test_tracking_models_unit.py checks F against central
#: differences).
JACOBIAN_STEPS: dict[str, np.ndarray] = {
    "ct": np.array([1.0] * 3 + [1e-3] * 3 + [1e-7]),
}


def _propagate_with_jacobian(propagate, x: np.ndarray, dt: np.ndarray, steps: np.ndarray):
    """Propagate x (N, n) and take F (N, n, n) by forward differences, in one batched call.

    The n perturbed copies of every track are stacked with the nominal states into one
    batch of (n + 1) N rows; no loop over tracks or components. Forward rather than
    central differences: half the propagations, with steps chosen so the error stays
    below 1e-5 of each entry (:data:`JACOBIAN_STEPS`).
    """
    n_tracks, n = x.shape
    stack = np.broadcast_to(x, (n + 1, n_tracks, n)).copy()
    comp = np.arange(n)
    stack[1 + comp, :, comp] += steps[:, None]
    out = propagate(stack.reshape(-1, n), np.tile(dt, n + 1)).reshape(stack.shape)
    jac = (out[1:] - out[0][None]) / steps[:, None, None]  # (n_in, N, n_out)
    return out[0], jac.transpose(1, 2, 0)


def _process_noise_pv_params(
    dt: np.ndarray, sigma_a: float, sigma_params: tuple[float, ...]
) -> np.ndarray:
    """CWNA on position/velocity plus independent random walks on the extra states."""
    k = len(sigma_params)
    q = np.zeros(dt.shape + (6 + k, 6 + k))
    q[:, 0:6, 0:6] = _kron3(_cwna_block(dt, sigma_a**2))
    for i, s in enumerate(sigma_params):
        q[:, 6 + i, 6 + i] = s * s * dt
    return q


# --------------------------------------------------------------- coordinated turn


def _turn_closed_form(y: np.ndarray, dt: np.ndarray) -> np.ndarray:
    """Rotate velocity about the geocentric vertical at the start position by omega dt."""
    out = y.copy()
    x, yy, z, vx, vy, vz, w = y.T
    inv_r = 1.0 / np.sqrt(x * x + yy * yy + z * z)
    ux, uy, uz = x * inv_r, yy * inv_r, z * inv_r
    v_up = ux * vx + uy * vy + uz * vz
    px, py, pz = vx - v_up * ux, vy - v_up * uy, vz - v_up * uz  # horizontal velocity
    cx, cy, cz = uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx  # u x v
    theta = w * dt
    cos_t = np.cos(theta)
    sin_t = np.sin(theta)
    # sin(theta)/omega and (1 - cos(theta))/omega, written to be exact at omega = 0
    s_over_w = dt * np.sinc(theta / np.pi)
    c_over_w = dt * np.sin(0.5 * theta) * np.sinc(theta / (2.0 * np.pi))
    for i, (u_i, p_i, c_i) in enumerate(((ux, px, cx), (uy, py, cy), (uz, pz, cz))):
        out[:, i] += v_up * u_i * dt + s_over_w * p_i + c_over_w * c_i
        out[:, 3 + i] = v_up * u_i + cos_t * p_i + sin_t * c_i
    return out


@dataclass(frozen=True, slots=True)
class CoordinatedTurn3D:
    """Horizontal coordinated turn about the local vertical, constant climb rate, n = 7.

    State (r, v, omega): the velocity turns at rate ``omega`` (rad/s; positive turns left,
    counter-clockwise seen from above) about the local vertical ``u = r / |r|``
    (geocentric; within 0.2 deg of the geodetic normal), and its component along ``u``
    is constant: ``dv/dt = omega u x v``. This is the 2-D coordinated turn of [BLK]
    section 11.7.2 in the local horizontal plane, with nearly constant velocity along the
    vertical, one of the 3-D extensions surveyed in [LJ1] section 4. Over one step the
    vertical is frozen at the start position, which gives the closed form (Rodrigues
    rotation of the horizontal velocity ``v_h``)::

        v(dt) = v_u + cos(w dt) v_h + sin(w dt) u x v
        r(dt) = r + v_u dt + sin(w dt)/w v_h + (1 - cos(w dt))/w u x v

    exact also at ``w = 0``. ``F`` is the forward-difference Jacobian of this map
    (:data:`JACOBIAN_STEPS`). Like the kinematic models, this one knows no gravity.

    Attributes
    ----------
    sigma_a_m_s2 : float
        CWNA acceleration noise on position/velocity (see module notes), m/s^2, >= 0.
    sigma_omega_rad_s15 : float
        Turn-rate random-walk intensity, rad/s per sqrt(s), >= 0 (variance grows by
        ``sigma**2 dt``).

    References
    ----------
    .. [1] Bar-Shalom, Li, Kirubarajan, 2001, section 11.7.2.
    .. [2] X. R. Li, V. P. Jilkov, Part I, IEEE Trans. AES 39(4), 2003,
       doi:10.1109/TAES.2003.1261132, section 4 (3-D turn models).
    """

    sigma_a_m_s2: float = 5.0
    sigma_omega_rad_s15: float = 2e-3
    dim: ClassVar[int] = 7

    def __post_init__(self) -> None:
        _check_nonnegative(self, "sigma_a_m_s2", "sigma_omega_rad_s15")

    def predict(self, x: np.ndarray, dt_s: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """State (N, 7) propagated by ``dt_s`` (s) and its Jacobian (N, 7, 7)."""
        x, dt = _batch(x, dt_s)
        return _propagate_with_jacobian(_turn_closed_form, x, dt, JACOBIAN_STEPS["ct"])

    def process_noise(self, x: np.ndarray, dt_s: np.ndarray | float) -> np.ndarray:
        """Discrete process-noise covariance (N, 7, 7) over ``dt_s`` (s)."""
        x, dt = _batch(x, dt_s)
        return _process_noise_pv_params(dt, self.sigma_a_m_s2, (self.sigma_omega_rad_s15,))


# ------------------------------------------------------- ballistic and glide physics


@dataclass(frozen=True, slots=True)
class Ballistic:
    """Non-lifting free flight with drag and an estimated ballistic coefficient, n = 7.

    State (r, v, ln beta) with ``beta = m / (C_D S)`` in kg/m^2 (the seventh state is
    ``ln(beta / 1 kg m^-2)``)::

        dr/dt = v
        dv/dt = g_J2(r) - 2 w x v - w x (w x r) - rho(h) |v| v / (2 beta)
        d(ln beta)/dt = 0 (+ random walk)

    ``rho`` is USSA76 at the approximate ellipsoidal height
    (:func:`hyperdef.core.dynamics.approx_altitude_m`); above the atmosphere the model
    is J2 free flight. Propagation: RK4 in equal sub-steps of at most ``max_substep_s``
    per track; ``F`` the exact derivative of that map, propagated with it
    (:func:`hyperdef.tracking.physics.rk4_propagate`).

    Attributes
    ----------
    sigma_a_m_s2 : float
        CWNA acceleration noise for unmodelled forces, m/s^2, >= 0.
    sigma_log_beta : float
        Random-walk intensity of ln beta, 1/sqrt(s), >= 0.
    max_substep_s : float
        Longest RK4 sub-step, s, > 0. The default 1 s: over a 1 s scan RK4 errs by
        under 1 mm and 5e-5 m/s against 0.01 s steps (glide states from 20 km at
        7 g to 120 km, ``tests/unit/test_tracking_models_unit.py``), some 1e4 times
        below what the process noise adds in that time.

    References
    ----------
    .. [1] X. R. Li, V. P. Jilkov, Part II, IEEE Trans. AES 46(1), 96-119 (2010),
       doi:10.1109/TAES.2010.5417150 (re-entry models with the ballistic coefficient
       as a state).
    .. [2] D. A. Vallado, *Fundamentals of Astrodynamics and Applications*, 4th ed.,
       2013, ch. 3 and 8 (rotating frame, J2).
    .. [3] *U.S. Standard Atmosphere, 1976*, NOAA-S/T 76-1562.
    """

    sigma_a_m_s2: float = 0.5
    sigma_log_beta: float = 0.02
    max_substep_s: float = 1.0
    dim: ClassVar[int] = 7

    def __post_init__(self) -> None:
        _check_nonnegative(self, "sigma_a_m_s2", "sigma_log_beta")
        _check_positive(self, "max_substep_s")

    def propagate(self, x: np.ndarray, dt_s: np.ndarray | float) -> np.ndarray:
        """State (N, 7) propagated by ``dt_s`` (s), without the Jacobian."""
        x, dt = _batch(x, dt_s)
        return rk4_propagate(x, dt, self.max_substep_s, lifting=False)[0]

    def predict(self, x: np.ndarray, dt_s: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """State (N, 7) propagated by ``dt_s`` (s) and its Jacobian (N, 7, 7)."""
        x, dt = _batch(x, dt_s)
        return rk4_propagate(x, dt, self.max_substep_s, lifting=False, jacobian=True)

    def process_noise(self, x: np.ndarray, dt_s: np.ndarray | float) -> np.ndarray:
        """Discrete process-noise covariance (N, 7, 7) over ``dt_s`` (s)."""
        x, dt = _batch(x, dt_s)
        return _process_noise_pv_params(dt, self.sigma_a_m_s2, (self.sigma_log_beta,))


@dataclass(frozen=True, slots=True)
class Glide:
    """Lifting glide with slowly varying aerodynamic parameters, n = 9.

    State (r, v, ln beta, L/D, bank). Drag ``D/m = q / beta`` (``q = rho V^2 / 2``,
    ``beta = m / (C_D S)``) opposite the velocity; lift ``(L/D) D/m`` perpendicular to
    it, in the vertical plane at zero bank and rotated by the bank angle about the
    velocity (positive bank: lift to the right, turning right), the convention of
    :func:`hyperdef.core.dynamics.point_mass_derivative`; plus J2 gravity and the
    Coriolis and centrifugal terms. The three parameters are random walks: a glide
    vehicle flies at slowly changing angle of attack (L/D and beta) and banks to steer,
    so with the position/velocity they describe its motion until the next bank change
    [LJ2]. With ``L/D = 0`` this is :class:`Ballistic`; with ``beta -> inf`` both reduce
    to J2 free flight. Propagation by RK4 sub-steps and ``F`` as
    :class:`Ballistic`. Vertical flight (flight-path angle +-90 deg) has no defined
    lift plane; the kernel keeps it finite as the core dynamics do.

    Attributes
    ----------
    sigma_a_m_s2 : float
        CWNA acceleration noise, m/s^2, >= 0.
    sigma_log_beta : float
        Random-walk intensity of ln beta, 1/sqrt(s), >= 0.
    sigma_lift_to_drag : float
        Random-walk intensity of L/D, 1/sqrt(s), >= 0.
    sigma_bank_rad : float
        Random-walk intensity of the bank angle, rad/sqrt(s), >= 0.
    max_substep_s : float
        Longest RK4 sub-step, s, > 0. The default 1 s: over a 1 s scan RK4 errs by
        under 1 mm and 5e-5 m/s against 0.01 s steps (glide states from 20 km at
        7 g to 120 km, ``tests/unit/test_tracking_models_unit.py``), some 1e4 times
        below what the process noise adds in that time.

    References
    ----------
    .. [1] X. R. Li, V. P. Jilkov, Part II, IEEE Trans. AES 46(1), 96-119 (2010),
       doi:10.1109/TAES.2010.5417150 (manoeuvring re-entry: aerodynamic parameters
       augmented to the state).
    .. [2] N. X. Vinh, A. Busemann, R. D. Culp, *Hypersonic and Planetary Entry Flight
       Mechanics*, 1980, ch. 2 (lift, drag and bank in the point-mass equations).
    """

    sigma_a_m_s2: float = 1.0
    sigma_log_beta: float = 0.02
    sigma_lift_to_drag: float = 0.02
    sigma_bank_rad: float = 0.1
    max_substep_s: float = 1.0
    dim: ClassVar[int] = 9

    def __post_init__(self) -> None:
        _check_nonnegative(
            self, "sigma_a_m_s2", "sigma_log_beta", "sigma_lift_to_drag", "sigma_bank_rad"
        )
        _check_positive(self, "max_substep_s")

    def propagate(self, x: np.ndarray, dt_s: np.ndarray | float) -> np.ndarray:
        """State (N, 9) propagated by ``dt_s`` (s), without the Jacobian."""
        x, dt = _batch(x, dt_s)
        return rk4_propagate(x, dt, self.max_substep_s, lifting=True)[0]

    def predict(self, x: np.ndarray, dt_s: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """State (N, 9) propagated by ``dt_s`` (s) and its Jacobian (N, 9, 9)."""
        x, dt = _batch(x, dt_s)
        return rk4_propagate(x, dt, self.max_substep_s, lifting=True, jacobian=True)

    def process_noise(self, x: np.ndarray, dt_s: np.ndarray | float) -> np.ndarray:
        """Discrete process-noise covariance (N, 9, 9) over ``dt_s`` (s)."""
        x, dt = _batch(x, dt_s)
        return _process_noise_pv_params(
            dt,
            self.sigma_a_m_s2,
            (self.sigma_log_beta, self.sigma_lift_to_drag, self.sigma_bank_rad),
        )


# ---------------------------------------------------------- defaults and priors

#: Default instances. CV 10 m/s^2 (absorbs gravity on a ballistic arc, 1 g); CA jerk
#: 5 m/s^3; Singer tau 20 s and sigma 30 m/s^2 (about 3 g, an evasive manoeuvre in
#: Singer's terms); CT 5 m/s^2 and turn-rate walk 2e-3 rad/s/sqrt(s) (an HGV turning at
#: 2 g and 2 km/s turns at 0.01 rad/s); ballistic 0.5 m/s^2 and 0.02 /sqrt(s) on ln beta
#: (20 % in 100 s); glide 1 m/s^2, ln beta and L/D 0.02 /sqrt(s), bank 0.1 rad/sqrt(s).
#: Starting points for tuning, not tuned values.
MODELS: dict[str, object] = {
    "cv": ConstantVelocity(),
    "ca": ConstantAcceleration(),
    "singer": Singer(),
    "ct": CoordinatedTurn3D(),
    "ballistic": Ballistic(),
    "glide": Glide(),
}


@dataclass(frozen=True, slots=True)
class ExtraPrior:
    """Prior mean and variance of a model's states beyond position/velocity.

    Attributes
    ----------
    mean : tuple of float
        Prior mean of states 6..n-1 (units of each state).
    variance : tuple of float
        Prior variance (diagonal, uncorrelated with position/velocity).
    """

    mean: tuple[float, ...]
    variance: tuple[float, ...]


_LN_BETA0 = math.log(2.0e4)  # kg/m^2: re-entry vehicles and gliders span ~5e3-5e4
#: Prior of the extra states per model name: accelerations 0 +- 30 m/s^2 (about 3 g,
#: the Singer default); turn rate 0 +- 0.02 rad/s; ln beta ln(2e4 kg/m^2) +- 1 (beta
#: between 7,400 and 54,000 kg/m^2 at one sigma; an MRBM RV of 650 kg, C_D 0.1 and
#: 0.2 m^2 has 33,000); L/D 2 +- 1.5 (hypersonic gliders fly at 2-3.5); bank 0 +- 1 rad.
DEFAULT_PRIORS: dict[str, ExtraPrior] = {
    "cv": ExtraPrior((), ()),
    "ca": ExtraPrior((0.0,) * 3, (900.0,) * 3),
    "singer": ExtraPrior((0.0,) * 3, (900.0,) * 3),
    "ct": ExtraPrior((0.0,), (4e-4,)),
    "ballistic": ExtraPrior((_LN_BETA0,), (1.0,)),
    "glide": ExtraPrior((_LN_BETA0, 2.0, 0.0), (1.0, 2.25, 1.0)),
}

_NAME_OF_TYPE = {
    ConstantVelocity: "cv",
    ConstantAcceleration: "ca",
    Singer: "singer",
    CoordinatedTurn3D: "ct",
    Ballistic: "ballistic",
    Glide: "glide",
}


def model_name(model: object) -> str:
    """Short name (``cv``, ``ca``, ``singer``, ``ct``, ``ballistic``, ``glide``) of a model.

    Raises
    ------
    hyperdef.errors.InputError
        For an object that is none of this module's models.
    """
    name = _NAME_OF_TYPE.get(type(model))
    if name is None:
        raise InputError(f"model: {type(model).__name__} is not one of {', '.join(sorted(MODELS))}")
    return name


def embed(
    x6: np.ndarray,
    P6: np.ndarray,
    model: str | object,
    prior: ExtraPrior | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Full-state prior of a model from a position/velocity estimate.

    Parameters
    ----------
    x6 : ndarray, shape (N, 6)
        ECEF position (m) and velocity (m/s).
    P6 : ndarray, shape (N, 6, 6)
        Its covariance.
    model : str or motion model
        A key of :data:`MODELS` or a model instance.
    prior : ExtraPrior, optional
        Mean and variance of the extra states; default :data:`DEFAULT_PRIORS` of the
        model. The extra states are uncorrelated with position/velocity.

    Returns
    -------
    x : ndarray, shape (N, n)
    P : ndarray, shape (N, n, n)

    Raises
    ------
    hyperdef.errors.InputError
        For an unknown model, bad shapes, or a prior of the wrong length or with a
        negative variance.
    """
    if isinstance(model, str):
        if model not in MODELS:
            raise InputError(f"model: {model!r} unknown; allowed: {', '.join(MODELS)}")
        name = model
    else:
        name = model_name(model)
    dim = MODELS[name].dim  # type: ignore[attr-defined]
    prior = DEFAULT_PRIORS[name] if prior is None else prior
    mean = np.asarray(prior.mean, dtype=np.float64)
    var = np.asarray(prior.variance, dtype=np.float64)
    if mean.shape != (dim - 6,) or var.shape != (dim - 6,):
        raise InputError(f"prior: {name} needs {dim - 6} extra means and variances")
    if not np.all(np.isfinite(var) & (var >= 0.0)) or not np.all(np.isfinite(mean)):
        raise InputError("prior.variance: must be finite and >= 0 (and the mean finite)")
    x6 = np.asarray(x6, dtype=np.float64)
    P6 = np.asarray(P6, dtype=np.float64)
    if x6.ndim != 2 or x6.shape[1] != 6:
        raise InputError(f"x6: expected shape (N, 6), got {x6.shape}")
    if P6.shape != (x6.shape[0], 6, 6):
        raise InputError(f"P6: expected shape ({x6.shape[0]}, 6, 6), got {P6.shape}")
    n_tracks = x6.shape[0]
    x = np.empty((n_tracks, dim))
    x[:, 0:6] = x6
    x[:, 6:] = mean
    P = np.zeros((n_tracks, dim, dim))
    P[:, 0:6, 0:6] = P6
    extra = np.arange(6, dim)
    P[:, extra, extra] = var
    return x, P
