"""Linearised homing loop: miss distance of a guided interceptor by forward and adjoint runs.

The classical one-dimensional engagement of Zarchan (2012), chapters 2-4, 6 and 8, in SI
units. The states of one case are

=========  ==========================================================  ======
``y``      relative lateral separation, target minus missile            m
``v``      its rate, dy/dt                                              m/s
``n_L``    achieved missile lateral acceleration                        m/s^2
``n_T``    target lateral acceleration (a step: constant over the run)  m/s^2
=========  ==========================================================  ======

with dy/dt = v, dv/dt = n_T - n_L, and a single-time-constant flight control system
dn_L/dt = (n_c - n_L) / T (n_L = n_c when T = 0). The line-of-sight angle is
lambda = y / (V_c t_go) with t_go = t_F - t, so V_c dlambda/dt = (y + v t_go) / t_go^2:
the closing speed cancels from every miss and appears only in the line-of-sight rate of
:func:`acceleration_history`. A heading error HE enters as the initial rate
v(0) = -V_M HE (small angle). Every guidance law of :data:`GUIDANCE_LAWS` is a linear
feedback n_c = g . x whose gains depend only on t_go (and T), so the closed loop is
dx/dt = A(t_go) x and one backward (adjoint) integration gives the miss for every flight
time at once (Zarchan, ch. 3).

Integration. The gains grow like 1/t_go^2, so a scheme that evaluates the right-hand side
at t_go = 0 (the last stage of classical RK4) meets an infinite gain on the last step. Both
runs therefore use the fourth-order Magnus integrator with two Gauss-Legendre nodes
(Iserles & Norsett 1999; Blanes et al. 2009, eq. 43): each step is the exact exponential of
a 4x4 matrix built from A at the two interior nodes, so no gain is ever evaluated at
t_go = 0, the fast modes near intercept are propagated stably, and the last step ends
exactly on t_F. A forward run uses the same number of equal steps for every case
(step t_F / n <= ``dt_s``), so all cases land on their own t_F together; the adjoint run
uses a grid on which every requested flight time is a node.

References
----------
.. [1] P. Zarchan, *Tactical and Strategic Missile Guidance*, 6th ed., AIAA Progress in
   Astronautics and Aeronautics vol. 239, 2012: ch. 2 (proportional navigation, the
   zero-lag acceleration ratio), ch. 3 (method of adjoints), ch. 4 (the single
   time-constant guidance system, normalised miss), ch. 6 (closed-form miss from the
   adjoint in the Laplace domain), ch. 8 (augmented proportional navigation and the
   optimal guidance law for a first-order flight control system).
.. [2] A. Iserles and S. P. Norsett, "On the solution of linear differential equations in
   Lie groups", Phil. Trans. R. Soc. A 357 (1999) 983-1019, doi:10.1098/rsta.1999.0362.
.. [3] S. Blanes, F. Casas, J. A. Oteo and J. Ros, "The Magnus expansion and some of its
   applications", Physics Reports 470 (2009) 151-238, doi:10.1016/j.physrep.2008.11.001.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.linalg import expm

from hyperdef.core.earth import G0_M_S2
from hyperdef.errors import InputError

__all__ = [
    "DEFAULT_DT_S",
    "G0_M_S2",
    "GUIDANCE_LAWS",
    "HomingHistory",
    "HomingLoop",
    "acceleration_history",
    "miss_adjoint",
    "miss_forward",
    "optimal_nav_ratio",
]


#: default largest integration step, s; with T = 1 s the miss agrees with the closed forms
#: to about 1e-5 of the peak normalised miss (tests/validation/test_homing.py)
DEFAULT_DT_S = 1.0e-2

# state indices
_Y, _V, _NL, _NT = range(4)
_N_STATES = 4

# two-point Gauss-Legendre nodes on [0, 1] and the fourth-order Magnus commutator weight
_C1 = 0.5 - math.sqrt(3.0) / 6.0
_C2 = 0.5 + math.sqrt(3.0) / 6.0
_COMMUTATOR = math.sqrt(3.0) / 12.0

# steps of A evaluated and exponentiated at once (bounds memory: chunk x batch x 4 x 4)
_CHUNK_STEPS = 4096

# geometric mesh near t_go = 0: steps of about t_go / _GRADED_STEPS below
# _GRADED_STEPS * dt_s, down to _GRADED_DEPTH times that
_GRADED_STEPS = 8
_GRADED_DEPTH = 1e-12


# --- guidance laws, as gain functions of (t_go, N', T) -----------------------------------
#
# Each returns the gains (g_y, g_v, g_L, g_T) of n_c = g_y y + g_v v + g_L n_L + g_T n_T,
# broadcast to the shape of t_go.

def _pn_gains(tgo_s: np.ndarray, nav_ratio: float, tau_s: float):
    """PN: n_c = N' V_c dlambda/dt = N' (y + v t_go) / t_go^2 (Zarchan ch. 2)."""
    g_y = nav_ratio / tgo_s**2
    zero = np.zeros_like(tgo_s)
    return g_y, nav_ratio / tgo_s, zero, zero


def _apn_gains(tgo_s: np.ndarray, nav_ratio: float, tau_s: float):
    """APN: PN plus N' n_T / 2 (Zarchan ch. 8)."""
    g_y, g_v, g_l, _ = _pn_gains(tgo_s, nav_ratio, tau_s)
    return g_y, g_v, g_l, np.full_like(tgo_s, 0.5 * nav_ratio)


# Taylor coefficients used for small x = t_go / T, where the closed forms cancel badly:
#   p(x) = (e^-x - 1 + x) / x^2        = sum_j (-x)^j / (j + 2)!
#   q(x) = denominator of N'(x) / x^5  = sum_j d_(j+5) x^j,
#          d_k = 12 (-1)^k / (k - 1)! - 3 (-2)^k / k!
_N_SERIES = 30
_P_COEF = np.array([(-1.0) ** j / math.factorial(j + 2) for j in range(_N_SERIES)])
_Q_COEF = np.array([12.0 * (-1.0) ** k / math.factorial(k - 1) - 3.0 * (-2.0) ** k
                    / math.factorial(k) for k in range(5, 5 + _N_SERIES)])
_SERIES_BELOW_X = 1.0


def _p_and_q(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """p(x) = (e^-x - 1 + x)/x^2 and q(x) = (2x^3 + 3 + 6x - 6x^2 - 12x e^-x - 3e^-2x)/x^5."""
    x = np.asarray(x, dtype=float)
    small = x < _SERIES_BELOW_X
    xl = np.where(small, 1.0, x)
    with np.errstate(over="ignore"):
        e1 = np.exp(-xl)
        p = (e1 - 1.0 + xl) / xl**2
        q = (2.0 * xl**3 + 3.0 + 6.0 * xl - 6.0 * xl**2 - 12.0 * xl * e1 - 3.0 * e1**2) / xl**5
    if np.any(small):  # the series only where it is needed (near intercept)
        powers = x[small][:, None] ** np.arange(_N_SERIES)
        p = np.array(p, copy=True)
        q = np.array(q, copy=True)
        # summed term by term in a fixed order, not by a matrix product: BLAS blocks and
        # fuses by the number of rows, and a row's value must not depend on the others
        p_small = powers[:, 0] * _P_COEF[0]
        q_small = powers[:, 0] * _Q_COEF[0]
        for k in range(1, _N_SERIES):  # 30 terms
            p_small = p_small + powers[:, k] * _P_COEF[k]
            q_small = q_small + powers[:, k] * _Q_COEF[k]
        p[small] = p_small
        q[small] = q_small
    return p, q


def optimal_nav_ratio(x: np.ndarray | float) -> np.ndarray:
    """Effective navigation ratio of the optimal law for a first-order flight control system.

    N'(x) = 6 x^2 (e^-x - 1 + x) / (2 x^3 + 3 + 6 x - 6 x^2 - 12 x e^-x - 3 e^-2x),
    x = t_go / T. It tends to 3 as x -> infinity (zero lag: augmented PN with N' = 3) and
    grows like 10 / x as x -> 0. For x < 1 it is evaluated from the Taylor series of the
    numerator and denominator (both start at x^4 and x^5), where the closed form loses
    every digit to cancellation.

    Parameters
    ----------
    x : float or numpy.ndarray
        Normalised time to go t_go / T, > 0 (``inf`` for T = 0). Any shape.

    Returns
    -------
    numpy.ndarray
        N'(x), same shape as ``x``.

    References
    ----------
    .. [1] Zarchan (2012), ch. 8, the optimal guidance law for a single-lag flight control
       system: the effective navigation ratio as a function of t_go / T.
    """
    x = np.asarray(x, dtype=float)
    finite = np.isfinite(x)
    xf = np.where(finite, x, 1.0)
    p, q = _p_and_q(xf)
    return np.where(finite, 6.0 * p / (xf * q), 3.0)


def _zem_gains(tgo_s: np.ndarray, nav_ratio: float, tau_s: float):
    """Optimal law n_c = N'(x) ZEM / t_go^2 with the single-lag zero-effort miss (ch. 8).

    ZEM = y + v t_go + n_T t_go^2 / 2 - n_L T^2 (e^-x + x - 1), x = t_go / T. The given
    ``nav_ratio`` is not used: the law carries its own N'(x).
    """
    if tau_s == 0.0:
        n_x = np.full_like(tgo_s, 3.0)
        p = np.zeros_like(tgo_s)
    else:
        x = tgo_s / tau_s
        p, q = _p_and_q(x)
        n_x = 6.0 * p / (x * q)  # optimal_nav_ratio(x), sharing p and q
    # T^2 (e^-x + x - 1) / t_go^2 = p(x)
    return n_x / tgo_s**2, n_x / tgo_s, -n_x * p, 0.5 * n_x


GainFunction = Callable[[np.ndarray, float, float],
                        tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]

#: guidance laws by name: gains (g_y, g_v, g_L, g_T) of n_c as functions of (t_go, N', T)
GUIDANCE_LAWS: dict[str, GainFunction] = {
    "pn": _pn_gains,
    "apn": _apn_gains,
    "zem": _zem_gains,
}


# --- parameters and validation -----------------------------------------------------------

@dataclass(frozen=True, slots=True)
class HomingLoop:
    """Parameters of a linear homing loop (SI units, radians).

    Attributes
    ----------
    law : str
        Guidance law, a key of :data:`GUIDANCE_LAWS`: ``"pn"``, ``"apn"`` or ``"zem"``.
    nav_ratio : float
        Effective navigation ratio N' (> 0). Not used by ``"zem"``, which has its own
        time-varying N'(t_go / T).
    time_constant_s : float
        Flight control system time constant T, s (>= 0; 0 is a perfect, zero-lag system).
    closing_speed_m_s : float
        Closing speed V_c, m/s (> 0).
    missile_speed_m_s : float
        Missile speed V_M, m/s (> 0); converts the heading error to an initial rate.
    target_accel_m_s2 : float
        Step target manoeuvre n_T, m/s^2, applied from t = 0.
    heading_error_rad : float
        Heading error HE, rad; the initial separation rate is -V_M HE.
    """

    law: str = "pn"
    nav_ratio: float = 4.0
    time_constant_s: float = 1.0
    closing_speed_m_s: float = 1219.2
    missile_speed_m_s: float = 914.4
    target_accel_m_s2: float = 3.0 * G0_M_S2
    heading_error_rad: float = 0.0


def _check_loop(loop: HomingLoop) -> None:
    if loop.law not in GUIDANCE_LAWS:
        raise InputError(f"law: {loop.law!r} is not one of {', '.join(GUIDANCE_LAWS)}")
    checks = (
        ("nav_ratio", loop.nav_ratio, "", False),
        ("time_constant_s", loop.time_constant_s, " s", True),
        ("closing_speed_m_s", loop.closing_speed_m_s, " m/s", False),
        ("missile_speed_m_s", loop.missile_speed_m_s, " m/s", False),
    )
    for name, value, unit, zero_ok in checks:
        value = float(value)
        if not math.isfinite(value) or value < 0.0 or (value == 0.0 and not zero_ok):
            allowed = ">= 0 (0 = no lag)" if zero_ok else "> 0"
            raise InputError(f"{name}: {value:g}{unit} must be a finite number {allowed}")
    for name, value in (("target_accel_m_s2", loop.target_accel_m_s2),
                        ("heading_error_rad", loop.heading_error_rad)):
        if not math.isfinite(float(value)):
            raise InputError(f"{name}: {value} must be a finite number")
    if abs(float(loop.heading_error_rad)) >= 0.5 * math.pi:
        raise InputError(f"heading_error_rad: {loop.heading_error_rad:g} rad outside "
                         "(-pi/2, pi/2) (small-angle model)")


def _check_flight_times(flight_times_s) -> np.ndarray:
    tf = np.asarray(flight_times_s, dtype=float)
    if tf.ndim > 1:
        raise InputError(f"flight_times_s: expected a scalar or 1-D array, got shape {tf.shape}")
    tf = np.atleast_1d(tf)
    if tf.size == 0:
        raise InputError("flight_times_s: empty, expected at least one flight time in s")
    bad = ~(np.isfinite(tf) & (tf > 0.0))
    if bad.any():
        raise InputError(f"flight_times_s: {tf[bad][0]:g} s must be a finite number > 0")
    return tf


def _check_dt(dt_s: float) -> float:
    dt = float(dt_s)
    if not (math.isfinite(dt) and dt > 0.0):
        raise InputError(f"dt_s: {dt_s:g} s must be a finite number > 0")
    return dt


# --- kernels -----------------------------------------------------------------------------

def _system_matrix(tgo_s: np.ndarray, loop: HomingLoop) -> np.ndarray:
    """Closed-loop matrix A(t_go), shape ``tgo_s.shape + (4, 4)``, of dx/dt = A x."""
    g_y, g_v, g_l, g_t = GUIDANCE_LAWS[loop.law](tgo_s, float(loop.nav_ratio),
                                                  float(loop.time_constant_s))
    a = np.zeros(tgo_s.shape + (_N_STATES, _N_STATES))
    a[..., _Y, _V] = 1.0
    tau = float(loop.time_constant_s)
    if tau > 0.0:
        a[..., _V, _NL] = -1.0
        a[..., _V, _NT] = 1.0
        a[..., _NL, _Y] = g_y / tau
        a[..., _NL, _V] = g_v / tau
        a[..., _NL, _NL] = (g_l - 1.0) / tau
        a[..., _NL, _NT] = g_t / tau
    else:  # n_L = n_c: dv/dt = n_T - n_c; the n_L state is unused and stays 0
        a[..., _V, _Y] = -g_y
        a[..., _V, _V] = -g_v
        a[..., _V, _NT] = 1.0 - g_t
    return a


def _magnus_step(a1: np.ndarray, a2: np.ndarray, h: np.ndarray) -> np.ndarray:
    """exp(Omega), Omega = h/2 (A1 + A2) + sqrt(3)/12 h^2 [A2, A1] (Blanes et al. eq. 43)."""
    h = h[..., None, None]
    omega = 0.5 * h * (a1 + a2) + _COMMUTATOR * h**2 * (a2 @ a1 - a1 @ a2)
    return expm(omega)


def _initial_state(loop: HomingLoop) -> np.ndarray:
    x0 = np.zeros(_N_STATES)
    x0[_V] = -float(loop.missile_speed_m_s) * float(loop.heading_error_rad)
    x0[_NT] = float(loop.target_accel_m_s2)
    return x0


def _tgo_grid(t_end_s: float, dt_s: float, nodes_s: np.ndarray | None = None) -> np.ndarray:
    """Increasing t_go nodes from 0 to ``t_end_s``: geometric near 0, steps <= dt_s beyond.

    Below G = GRADED_STEPS dt_s the nodes are G rho^j with rho = 1 - 1/GRADED_STEPS (each
    step about t_go / GRADED_STEPS) down to G * 1e-12, then one last step to 0; the states
    are singular at t_go = 0 (n_L ~ 1/t_go when the miss is not 0), and this mesh keeps
    the fourth order there. Between G and ``t_end_s`` (and between the ``nodes_s`` above
    G) the steps are equal and <= dt_s. ``nodes_s`` are added to the grid.
    """
    g = min(_GRADED_STEPS * dt_s, t_end_s)
    rho = 1.0 - 1.0 / _GRADED_STEPS
    n_geo = math.ceil(math.log(_GRADED_DEPTH) / math.log(rho))
    graded = g * rho ** np.arange(n_geo, 0, -1)
    breaks = np.array([g, t_end_s])
    if nodes_s is not None:
        breaks = np.union1d(breaks, nodes_s)
    outer = breaks[breaks >= g]
    counts = np.maximum(1, np.ceil(np.diff(outer) / dt_s - 1e-9).astype(int))
    uniform = [np.linspace(a, b, c + 1)[:-1]
               for a, b, c in zip(outer[:-1], outer[1:], counts, strict=True)]
    points = np.concatenate([[0.0], graded, *uniform, [outer[-1]]])
    if nodes_s is not None:
        points = np.union1d(points, nodes_s)
    return points


def _forward(loop: HomingLoop, tf: np.ndarray, dt_s: float,
             keep: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Integrate every case from t = 0 to its t_F; return (t_go nodes, final x, all x).

    Every case uses the same grid normalised by its t_F (t_go = t_F s_k), built for the
    longest flight, so all cases take the same number of steps and end exactly on t_F.
    Returns the t_go nodes ``(n + 1, B)`` in time order, the final states ``(B, 4)`` and,
    when ``keep``, the states at every node ``(n + 1, B, 4)``.
    """
    tf_max = float(tf.max())
    s = _tgo_grid(tf_max, dt_s)[::-1] / tf_max          # 1 .. 0, time order
    tgo_nodes = s[:, None] * tf                          # (n + 1, B)
    n = s.size - 1
    x = np.broadcast_to(_initial_state(loop), (tf.size, _N_STATES)).copy()
    xs = np.empty((n + 1, tf.size, _N_STATES)) if keep else None
    if keep:
        xs[0] = x
    for start in range(0, n, _CHUNK_STEPS):
        stop = min(n, start + _CHUNK_STEPS)
        upper = tgo_nodes[start:stop]                    # t_go at the start of each step
        h = upper - tgo_nodes[start + 1:stop + 1]        # (K, B)
        # the Gauss nodes at t + c h are at t_go = upper - c h
        a1 = _system_matrix(upper - _C1 * h, loop)
        a2 = _system_matrix(upper - _C2 * h, loop)
        steps = _magnus_step(a1, a2, h)
        for i in range(steps.shape[0]):
            x = np.einsum("bij,bj->bi", steps[i], x)
            if keep:
                xs[start + i + 1] = x
    return tgo_nodes, x, xs


# --- public API --------------------------------------------------------------------------

def miss_forward(loop: HomingLoop, flight_times_s, dt_s: float = DEFAULT_DT_S) -> np.ndarray:
    """Miss distance of a batch of flight times by forward simulation.

    Every case is integrated from t = 0 to its own t_F in the same number n of equal
    steps t_F / n <= ``dt_s`` (fourth-order Magnus, see the module notes), all cases at
    once; the last step ends exactly on t_F.

    Parameters
    ----------
    loop : HomingLoop
        Loop parameters.
    flight_times_s : float or numpy.ndarray
        Flight times t_F, s, shape ``(B,)`` or scalar; each > 0.
    dt_s : float
        Largest integration step, s (> 0).

    Returns
    -------
    numpy.ndarray
        Signed miss y(t_F), m, shape ``(B,)`` (the miss distance is its absolute value).

    Raises
    ------
    hyperdef.errors.InputError
        For an unknown law, N' <= 0, T < 0, V_c <= 0, V_M <= 0, a flight time <= 0,
        dt_s <= 0, or a non-finite value.

    References
    ----------
    .. [1] Zarchan (2012), ch. 2 and 4: the linear engagement and its forward simulation.
    """
    _check_loop(loop)
    tf = _check_flight_times(flight_times_s)
    _, x, _ = _forward(loop, tf, _check_dt(dt_s), keep=False)
    return x[:, _Y]


def miss_adjoint(loop: HomingLoop, flight_times_s, dt_s: float = DEFAULT_DT_S) -> np.ndarray:
    """Miss distance of a sweep of flight times from one backward (adjoint) integration.

    The adjoint system d(lambda)/d(tau) = A(t_go = tau)^T lambda, lambda(0) = e_y, is
    integrated once from tau = 0 to the largest flight time; at tau = t_F its components
    are the sensitivities of y(t_F) to the initial states, so
    miss(t_F) = lambda_v(t_F) (-V_M HE) + lambda_nT(t_F) n_T for every t_F of the sweep.
    The grid has every requested flight time as a node, with equal steps <= ``dt_s``
    between consecutive ones.

    Parameters
    ----------
    loop : HomingLoop
        Loop parameters.
    flight_times_s : float or numpy.ndarray
        Flight times t_F, s, shape ``(B,)`` or scalar, any order; each > 0.
    dt_s : float
        Largest integration step, s (> 0).

    Returns
    -------
    numpy.ndarray
        Signed miss y(t_F), m, shape ``(B,)``, in the order of ``flight_times_s``.

    Raises
    ------
    hyperdef.errors.InputError
        As :func:`miss_forward`.

    References
    ----------
    .. [1] Zarchan (2012), ch. 3: the method of adjoints (miss for every flight time from
       one run, with the step manoeuvre and heading error as adjoint inputs).
    """
    _check_loop(loop)
    tf = _check_flight_times(flight_times_s)
    dt = _check_dt(dt_s)
    nodes, where = np.unique(tf, return_inverse=True)
    tau = _tgo_grid(float(nodes[-1]), dt, nodes)
    h = np.diff(tau)
    a1 = np.swapaxes(_system_matrix(tau[:-1] + _C1 * h, loop), -1, -2)
    a2 = np.swapaxes(_system_matrix(tau[:-1] + _C2 * h, loop), -1, -2)
    steps = _magnus_step(a1, a2, h)
    lam = np.zeros((tau.size, _N_STATES))
    lam[0, _Y] = 1.0
    for i in range(h.size):
        lam[i + 1] = steps[i] @ lam[i]
    at_nodes = lam[np.searchsorted(tau, nodes)]         # (len(nodes), 4)
    miss = at_nodes @ _initial_state(loop)
    return miss[where]


@dataclass(frozen=True, slots=True)
class HomingHistory:
    """Time history of one forward run (arrays of shape ``(m,)``, t = 0 .. t_F).

    Attributes
    ----------
    t_s : numpy.ndarray
        Time from the start of homing, s.
    separation_m : numpy.ndarray
        Relative lateral separation y, m (y[-1] is the signed miss).
    separation_rate_m_s : numpy.ndarray
        dy/dt, m/s.
    los_rate_rad_s : numpy.ndarray
        Line-of-sight rate dlambda/dt = (y + v t_go) / (V_c t_go^2), rad/s; NaN at t_F.
    command_accel_m_s2 : numpy.ndarray
        Guidance command n_c, m/s^2; NaN at t_F, where t_go = 0.
    missile_accel_m_s2 : numpy.ndarray
        Achieved missile acceleration n_L, m/s^2 (n_c when T = 0; NaN at t_F then).
    target_accel_m_s2 : numpy.ndarray
        Target acceleration n_T, m/s^2.
    """

    t_s: np.ndarray
    separation_m: np.ndarray
    separation_rate_m_s: np.ndarray
    los_rate_rad_s: np.ndarray
    command_accel_m_s2: np.ndarray
    missile_accel_m_s2: np.ndarray
    target_accel_m_s2: np.ndarray


def acceleration_history(loop: HomingLoop, flight_time_s: float,
                         dt_s: float = DEFAULT_DT_S) -> HomingHistory:
    """States and accelerations of one forward run.

    Sampled at the integration nodes with t_go >= min(dt_s, t_F / 2) and at t_F itself;
    the finer nodes of the geometric mesh near intercept are integrated but not reported.

    Parameters
    ----------
    loop : HomingLoop
        Loop parameters.
    flight_time_s : float
        Flight time t_F, s (> 0).
    dt_s : float
        Largest integration step, s (> 0).

    Returns
    -------
    HomingHistory
        The run, in time order, from t = 0 to t = t_F.

    Raises
    ------
    hyperdef.errors.InputError
        As :func:`miss_forward`.

    References
    ----------
    .. [1] Zarchan (2012), ch. 2 (zero-lag acceleration ratio n_c / n_T) and ch. 8
       (acceleration of augmented PN and of the optimal law).
    """
    _check_loop(loop)
    tf = _check_flight_times(flight_time_s)
    if tf.size != 1:
        raise InputError(f"flight_time_s: expected one flight time, got {tf.size}")
    dt = _check_dt(dt_s)
    tgo_nodes, _, xs = _forward(loop, tf, dt, keep=True)
    # report the equal-step nodes and t_F, not the geometric mesh just before t_F, where
    # n_c = N' ZEM / t_go^2 divides round-off by t_go^2
    shown = (tgo_nodes[:, 0] >= min(dt, 0.5 * tf[0])) | (tgo_nodes[:, 0] == 0.0)
    x = xs[shown, 0, :]                                  # (m, 4)
    tgo = tgo_nodes[shown, 0]
    t = tf[0] - tgo
    inside = tgo > 0.0
    tgo_safe = np.where(inside, tgo, 1.0)
    g_y, g_v, g_l, g_t = GUIDANCE_LAWS[loop.law](tgo_safe, float(loop.nav_ratio),
                                                  float(loop.time_constant_s))
    y, v, n_l, n_t = x.T
    n_c = np.where(inside, g_y * y + g_v * v + g_l * n_l + g_t * n_t, np.nan)
    los_rate = np.where(inside, (y + v * tgo_safe) / (loop.closing_speed_m_s * tgo_safe**2),
                        np.nan)
    if loop.time_constant_s == 0.0:
        n_l = n_c
    return HomingHistory(t_s=t, separation_m=y, separation_rate_m_s=v,
                         los_rate_rad_s=los_rate, command_accel_m_s2=n_c,
                         missile_accel_m_s2=n_l, target_accel_m_s2=n_t)
