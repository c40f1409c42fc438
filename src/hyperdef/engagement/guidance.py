"""Three-dimensional midcourse and terminal guidance for batches of interceptors.

Terminal homing uses the same laws as the linear homing loop
(:data:`hyperdef.engagement.homing.GUIDANCE_LAWS`), applied in three dimensions: each law is
``a_c = g_y y + g_v v + g_L a_L + g_T a_T`` with gains that depend only on the time to go
(and the autopilot time constant), and in 3-D the scalar states become the components
perpendicular to the line of sight of the relative position y, relative velocity v,
achieved acceleration a_L and target acceleration a_T (Zarchan 2012, ch. 2 and 8: PN as
N' times the zero-effort miss over t_go^2 is the 3-D form of N' V_c dlambda/dt).

Midcourse guidance flies to a predicted intercept point (PIP) by the zero-effort-miss law
against a fixed point with gravity compensation (Zarchan 2012, ch. 14; Siouris 2004,
ch. 4), commands perpendicular to the interceptor's velocity only;
:func:`predicted_intercept_point` gives the collision-triangle aim point.

References
----------
.. [1] P. Zarchan, *Tactical and Strategic Missile Guidance*, 6th ed., AIAA, 2012,
   ch. 2 (PN), ch. 8 (APN, optimal guidance), ch. 14 (predicted intercept point).
.. [2] G. M. Siouris, *Missile Guidance and Control Systems*, Springer, 2004, ch. 4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hyperdef.core.atmosphere import density_fast
from hyperdef.core.dynamics import approx_altitude_m
from hyperdef.engagement.flight import dot, environment_acceleration, norm, perpendicular
from hyperdef.engagement.homing import GUIDANCE_LAWS

#: navigation ratio of the midcourse zero-effort-miss law to a fixed point
MIDCOURSE_NAV_RATIO = 3.0

#: shortest time to go a guidance law divides by, s (keeps the last step finite)
MIN_TGO_S = 1e-2


def predicted_intercept_point(r_target: np.ndarray, v_target: np.ndarray,
                              r_interceptor: np.ndarray, speed_m_s: np.ndarray
                              ) -> tuple[np.ndarray, np.ndarray]:
    """Point where a straight-flying target meets an interceptor of average speed V.

    Solves ``|d + v_T t| = V t`` for the smallest positive t, with d = r_T - r_M (the
    constant-velocity collision triangle, Zarchan 2012 ch. 14). Where no positive root
    exists (a target faster than V and going away) the target's position after
    ``|d| / V`` is returned instead, so guidance still turns toward it.

    Parameters
    ----------
    r_target, v_target : ndarray, shape (n, 3)
        Target ECEF position (m) and velocity (m/s).
    r_interceptor : ndarray, shape (n, 3)
        Interceptor ECEF position, m.
    speed_m_s : ndarray, shape (n,)
        Average interceptor speed expected to the intercept, m/s.

    Returns
    -------
    pip : ndarray, shape (n, 3)
        Predicted intercept point, ECEF m.
    t_go_s : ndarray, shape (n,)
        Time to reach it, s.
    """
    d = r_target - r_interceptor
    a = dot(v_target, v_target) - speed_m_s * speed_m_s
    b = 2.0 * dot(d, v_target)
    c = dot(d, d)
    disc = b * b - 4.0 * a * c
    root = np.sqrt(np.maximum(disc, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (-b - root) / (2.0 * a)
        t2 = (-b + root) / (2.0 * a)
        linear = np.where(np.abs(b) > 0.0, -c / b, np.inf)
    t1 = np.where(t1 > 0.0, t1, np.inf)
    t2 = np.where(t2 > 0.0, t2, np.inf)
    t = np.where(np.abs(a) < 1e-9, np.where(linear > 0.0, linear, np.inf), np.minimum(t1, t2))
    t = np.where(disc >= 0.0, t, np.inf)
    fallback = np.sqrt(c) / np.maximum(speed_m_s, 1.0)
    t = np.where(np.isfinite(t), t, fallback)
    return r_target + v_target * t[:, None], t


def midcourse_command(r_m: np.ndarray, v_m: np.ndarray, pip: np.ndarray, t_go_s: np.ndarray,
                      gravity: np.ndarray, nav_ratio: float = MIDCOURSE_NAV_RATIO
                      ) -> np.ndarray:
    """Lateral acceleration that takes the interceptor through the PIP, m/s^2, (n, 3).

    ``a_c = N ZEM_perp / t_go^2`` with the zero-effort miss to the fixed point
    ``ZEM = PIP - (r + v t_go + g t_go^2 / 2)`` (gravity compensated), its part across
    the velocity: a coasting kill vehicle cannot change its speed.

    Parameters
    ----------
    r_m, v_m : ndarray, shape (n, 3)
        Interceptor ECEF position (m) and velocity (m/s).
    pip : ndarray, shape (n, 3)
        Aim point, ECEF m.
    t_go_s : ndarray, shape (n,)
        Time to go to the aim point, s.
    gravity : ndarray, shape (n, 3)
        Gravity and Earth-rotation acceleration at the interceptor, m/s^2.
    """
    tgo = np.maximum(t_go_s, 1.0)[:, None]
    zem = pip - (r_m + v_m * tgo + 0.5 * gravity * tgo * tgo)
    v_hat = v_m / np.maximum(norm(v_m), 1.0)[:, None]
    return nav_ratio * perpendicular(zem, v_hat) / (tgo * tgo)


def terminal_command(law: str, nav_ratio: float, time_constant_s: float,
                     r_rel: np.ndarray, v_rel: np.ndarray, a_target: np.ndarray,
                     a_achieved: np.ndarray, t_go_s: np.ndarray) -> np.ndarray:
    """Homing command of a guidance law in three dimensions, m/s^2, shape (n, 3).

    Parameters
    ----------
    law : str
        ``"pn"``, ``"apn"`` or ``"zem"`` (:data:`~hyperdef.engagement.homing.GUIDANCE_LAWS`).
    nav_ratio : float
        Effective navigation ratio N' (``zem`` uses its own N'(t_go / T)).
    time_constant_s : float
        Autopilot time constant T, s.
    r_rel, v_rel : ndarray, shape (n, 3)
        Target minus interceptor position (m) and velocity (m/s), as estimated.
    a_target : ndarray, shape (n, 3)
        Estimated target acceleration relative to the interceptor's free fall, m/s^2
        (used by ``apn`` and ``zem``).
    a_achieved : ndarray, shape (n, 3)
        Interceptor's achieved lateral acceleration, m/s^2 (used by ``zem``).
    t_go_s : ndarray, shape (n,)
        Time to go, s.
    """
    tgo = np.maximum(t_go_s, MIN_TGO_S)
    u = r_rel / np.maximum(norm(r_rel), 1e-9)[:, None]
    g_y, g_v, g_l, g_t = GUIDANCE_LAWS[law](tgo, nav_ratio, time_constant_s)
    command = (g_y[:, None] * perpendicular(r_rel, u) + g_v[:, None] * perpendicular(v_rel, u)
               + g_l[:, None] * perpendicular(a_achieved, u)
               + g_t[:, None] * perpendicular(a_target, u))
    return command


def limit_lateral(command: np.ndarray, v_m: np.ndarray, limit_m_s2: np.ndarray) -> np.ndarray:
    """Keep the part of a command across the velocity, clipped to the available magnitude."""
    v_hat = v_m / np.maximum(norm(v_m), 1.0)[:, None]
    lateral = perpendicular(command, v_hat)
    magnitude = norm(lateral)
    scale = np.minimum(1.0, limit_m_s2 / np.maximum(magnitude, 1e-12))
    return lateral * scale[:, None]


#: how long the sideways part of an estimated target acceleration is extrapolated, s
ACCEL_HORIZON_S = 0.0

#: dynamic pressure below which a track's non-gravitational acceleration is read as noise,
#: Pa: there even a light lifting body (m / (C S) of about 3,000 kg/m^2, the CAV-H class
#: at max lift) feels under 0.3 m/s^2, the noise of a track acceleration differenced over
#: 20 s; above the sensible atmosphere the target is propagated under gravity alone
AERO_MIN_DYNAMIC_PRESSURE_PA = 1_000.0

#: smallest drag deceleration read as a ballistic coefficient, m/s^2 (three times that
#: noise): below it a drag estimate is too uncertain to be scaled with the air density
DRAG_MIN_M_S2 = 1.0

#: longest integration step of the target predictor, s: 10 s in vacuum or with a held
#: aerodynamic acceleration (a Kepler arc of period 90 min and more; the RK4 error is
#: under a metre), 2 s where the drag grows with the density (a re-entry vehicle falls
#: through one 7 km scale height in about 3 s)
PREDICT_STEP_S = (10.0, 2.0)

_AERO_HOLD, _AERO_BALLISTIC = 0, 1


def _velocity_frame(r: np.ndarray, v: np.ndarray):
    """Unit vectors along the Earth-relative velocity, across it in the vertical plane
    (towards the local up: the lift of a level glider) and to the side (``t x n``)."""
    t_hat = v / np.maximum(norm(v), 1e-9)[:, None]
    up = r / norm(r)[:, None]
    n_vec = perpendicular(up, t_hat)
    n_hat = n_vec / np.maximum(norm(n_vec), 1e-9)[:, None]
    c_hat = np.empty_like(t_hat)
    c_hat[:, 0] = t_hat[:, 1] * n_hat[:, 2] - t_hat[:, 2] * n_hat[:, 1]
    c_hat[:, 1] = t_hat[:, 2] * n_hat[:, 0] - t_hat[:, 0] * n_hat[:, 2]
    c_hat[:, 2] = t_hat[:, 0] * n_hat[:, 1] - t_hat[:, 1] * n_hat[:, 0]
    return t_hat, n_hat, c_hat


def _dynamic_pressure(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    density = density_fast(approx_altitude_m(r))
    return 0.5 * density * dot(v, v)


@dataclass(frozen=True, slots=True)
class TargetAero:
    """Non-gravitational acceleration of a predicted target, per row.

    Components (m/s^2) along the velocity (``axial``: minus the drag, or a thrust), across
    it in the vertical plane (``lift``) and to the side (``side``, applied only for
    ``side_s`` seconds); ``mode`` :data:`_AERO_HOLD` holds them in the velocity frame,
    :data:`_AERO_BALLISTIC` scales them with the dynamic pressure over ``q0_pa``, the
    dynamic pressure they were measured at (a body of constant ballistic coefficient).
    """

    axial: np.ndarray
    lift: np.ndarray
    side: np.ndarray
    mode: np.ndarray
    q0_pa: np.ndarray
    side_s: float

    def acceleration(self, r: np.ndarray, v: np.ndarray, tau_s: np.ndarray) -> np.ndarray:
        t_hat, n_hat, c_hat = _velocity_frame(r, v)
        side = np.where(tau_s < self.side_s, self.side, 0.0)
        a = (self.axial[:, None] * t_hat + self.lift[:, None] * n_hat
             + side[:, None] * c_hat)
        if np.any(self.mode == _AERO_BALLISTIC):
            ratio = _dynamic_pressure(r, v) / self.q0_pa
            a *= np.where(self.mode == _AERO_BALLISTIC, ratio, 1.0)[:, None]
        return a


def target_aero(r: np.ndarray, v: np.ndarray, a: np.ndarray, *,
                accel_horizon_s: float = ACCEL_HORIZON_S, accel_age_s: float | np.ndarray = 0.0
                ) -> TargetAero:
    """Split an estimated acceleration into gravity and the aerodynamic model to extrapolate.

    The non-gravitational part is the estimate minus the J2 gravity, Coriolis and
    centrifugal accelerations (:func:`~hyperdef.engagement.flight.environment_acceleration`)
    at the state ``accel_age_s`` earlier (a velocity difference over a baseline measures the
    acceleration at its middle). Where the dynamic pressure is under
    :data:`AERO_MIN_DYNAMIC_PRESSURE_PA` it is noise and is dropped (free fall). Where the
    drag exceeds :data:`DRAG_MIN_M_S2` and the lift is smaller than the drag (a non-lifting
    re-entry vehicle, L/D < 1) the aerodynamic acceleration is scaled with the dynamic
    pressure, i.e. with a constant ballistic coefficient ``beta = q / drag`` (q averaged
    over the ``2 accel_age_s`` baseline the drag was measured on); otherwise
    (a glider at L/D 2-4, a cruise missile whose thrust balances its drag) it is held in
    the velocity frame, its sideways part only for ``accel_horizon_s``.

    Parameters
    ----------
    r, v, a : ndarray, shape (n, 3)
        ECEF position (m), velocity (m/s) and acceleration (m/s^2) of the estimate.
    accel_horizon_s : float
        Extrapolation time of the sideways acceleration, s.
    accel_age_s : float or ndarray, shape (n,)
        How long before the estimate's time the acceleration was measured, s.
    """
    age = np.broadcast_to(np.asarray(accel_age_s, dtype=float), (r.shape[0],))[:, None]
    r_then = r - v * age + 0.5 * a * age * age
    v_then = v - a * age
    a_ng = a - environment_acceleration(r_then, v_then)
    t_hat, n_hat, c_hat = _velocity_frame(r, v)
    q0 = _dynamic_pressure(r, v)
    aero = q0 >= AERO_MIN_DYNAMIC_PRESSURE_PA
    # the drag measured is the mean over the baseline (twice the age): divide it into the
    # mean dynamic pressure there, which grows steeply along a re-entry (Simpson's rule)
    q_mean = np.zeros_like(q0)
    for weight, frac in ((1.0, 0.0), (4.0, 0.5), (1.0, 1.0)):  # three nodes
        back = 2.0 * age * frac
        q_mean += weight / 6.0 * _dynamic_pressure(r - v * back + 0.5 * a * back * back,
                                                   v - a * back)
    axial = np.where(aero, dot(a_ng, t_hat), 0.0)
    lift = np.where(aero, dot(a_ng, n_hat), 0.0)
    side = np.where(aero, dot(a_ng, c_hat), 0.0)
    ballistic = aero & (-axial >= DRAG_MIN_M_S2) & (np.hypot(lift, side) < -axial)
    return TargetAero(axial=axial, lift=lift, side=side,
                      mode=np.where(ballistic, _AERO_BALLISTIC, _AERO_HOLD),
                      q0_pa=np.maximum(q_mean, 1e-9), side_s=float(accel_horizon_s))


def _target_derivative(y: np.ndarray, aero: TargetAero, tau_s: np.ndarray) -> np.ndarray:
    r, v = y[:, :3], y[:, 3:]
    out = np.empty_like(y)
    out[:, :3] = v
    out[:, 3:] = environment_acceleration(r, v) + aero.acceleration(r, v, tau_s)
    return out


def _propagate(y0: np.ndarray, aero: TargetAero, h_s: np.ndarray, n_steps: np.ndarray,
               stop_below_m: float | None = None) -> np.ndarray:
    """Classical RK4 from ``y0`` (n, 6), row i by ``n_steps[i]`` steps of ``h_s[i]``; the
    states at every step, shape (max(n_steps) + 1, n, 6), a row's state held after its
    last step. With ``stop_below_m`` a row also holds its state from the first step that
    ends below that altitude, and the steps end once no row has any to go.

    Each row's states are those of the row propagated alone: every operation is row by
    row, and a held row keeps its state exactly (the steps still computed for it are
    discarded)."""
    n_steps = np.asarray(n_steps, dtype=np.int64)
    k_max = int(n_steps.max()) if n_steps.size else 0
    out = np.empty((k_max + 1, *y0.shape))
    out[0] = y = y0
    h = h_s[:, None]
    tau = np.zeros(y0.shape[0])
    going = n_steps > 0
    for k in range(k_max):  # time steps; every row advances together
        k1 = _target_derivative(y, aero, tau)
        k2 = _target_derivative(y + 0.5 * h * k1, aero, tau + 0.5 * h_s)
        k3 = _target_derivative(y + 0.5 * h * k2, aero, tau + 0.5 * h_s)
        k4 = _target_derivative(y + h * k3, aero, tau + h_s)
        y = np.where(going[:, None], y + (h / 6.0) * (k1 + 2.0 * (k2 + k3) + k4), y)
        tau = tau + h_s
        out[k + 1] = y
        going &= n_steps > k + 1
        if stop_below_m is not None:
            going &= ~(approx_altitude_m(y[:, :3]) < stop_below_m)
        if not going.any():
            out[k + 2:] = y
            break
    return out


def _propagate_rows(y0: np.ndarray, aero: TargetAero, h_s: np.ndarray,
                    n_steps: np.ndarray) -> np.ndarray:
    """Classical RK4 from ``y0`` (n, 6), row i by ``n_steps[i]`` steps of ``h_s[i]``; the
    final states, shape (n, 6). Each row's arithmetic is that of :func:`_propagate` on
    the row alone: rows are ordered by their step count, and each step advances the
    leading rows that still have steps to go (a slice, no gather)."""
    order = np.argsort(-n_steps, kind="stable")
    y = y0[order]
    h_all = h_s[order]
    count = n_steps[order]
    parts = (aero.axial, aero.lift, aero.side, aero.mode, aero.q0_pa)
    sorted_parts = [a[order] for a in parts]
    tau_all = np.zeros(y0.shape[0])
    k_max = int(count[0]) if count.size else 0
    live = count.size
    sub = None
    for k in range(k_max):  # time steps; the rows with steps left advance together
        n_live = int(np.count_nonzero(count > k))
        if sub is None or n_live != live:
            live = n_live
            sub = TargetAero(*(a[:live] for a in sorted_parts), side_s=aero.side_s)
            h_s_live = h_all[:live]
            h = h_s_live[:, None]
        yl, tau = y[:live], tau_all[:live]
        k1 = _target_derivative(yl, sub, tau)
        k2 = _target_derivative(yl + 0.5 * h * k1, sub, tau + 0.5 * h_s_live)
        k3 = _target_derivative(yl + 0.5 * h * k2, sub, tau + 0.5 * h_s_live)
        k4 = _target_derivative(yl + h * k3, sub, tau + h_s_live)
        y[:live] = yl + (h / 6.0) * (k1 + 2.0 * (k2 + k3) + k4)
        tau_all[:live] = tau + h_s_live
    out = np.empty_like(y)
    out[order] = y
    return out


def predict_path(r: np.ndarray, v: np.ndarray, a: np.ndarray, dt_s: np.ndarray,
                 accel_horizon_s: float = ACCEL_HORIZON_S, *,
                 accel_age_s: float | np.ndarray = 0.0, max_step_s: float | None = None
                 ) -> np.ndarray:
    """Target positions predicted ``dt_s`` ahead from an estimated state, m, shape (n, 3).

    The target is flown forward as a point mass under J2 gravity and the Coriolis and
    centrifugal accelerations of the Earth-fixed frame (so the pull of gravity turns with
    the position and grows as the target descends), plus the non-gravitational part of
    the estimated acceleration modelled by :func:`target_aero`: nothing above the
    sensible atmosphere, a drag that grows with the dynamic pressure (constant ballistic
    coefficient) for a non-lifting re-entry vehicle, the lift and drag held in the
    velocity frame for a glider or a cruise missile, and a sideways acceleration (a turn,
    a weave) only for ``accel_horizon_s`` seconds: a manoeuvre seen now does not persist
    unchanged for minutes, and a weave averages out. Classical RK4, all rows together,
    each in its own number of equal steps of at most :data:`PREDICT_STEP_S` (the shorter
    one where its drag is scaled with the air density), so a row's prediction does not
    depend on the other rows.

    Parameters
    ----------
    r, v, a : ndarray, shape (n, 3)
        ECEF position (m), velocity (m/s) and acceleration (m/s^2) of the estimate.
    dt_s : ndarray, shape (n,)
        Prediction horizon of each row, s (>= 0).
    accel_horizon_s : float
        Extrapolation time of the sideways acceleration, s.
    accel_age_s : float or ndarray, shape (n,)
        Age of the acceleration estimate, s (half the baseline of a velocity difference).
    max_step_s : float, optional
        Longest integration step, s (default: :data:`PREDICT_STEP_S`).

    References
    ----------
    .. [1] P. Zarchan, *Tactical and Strategic Missile Guidance*, 6th ed., AIAA, 2012,
       chapters "Ballistic Target Properties" and "Extended Kalman Filtering and Ballistic
       Coefficient Estimation" (a ballistic target's motion under gravity and a drag of
       constant ballistic coefficient through an exponential atmosphere, predicted by
       numerical integration).
    .. [2] D. A. Vallado, *Fundamentals of Astrodynamics and Applications*, 4th ed.,
       2013, ch. 8 (J2 gravity) and ch. 3 (rotating frames).
    .. [3] X. R. Li and V. P. Jilkov, "Survey of maneuvering target tracking, Part I",
       IEEE TAES 39(4), 2003 (limits of extrapolating a turn).
    """
    dt = np.maximum(np.asarray(dt_s, dtype=float).reshape(-1), 0.0)
    aero = target_aero(r, v, a, accel_horizon_s=accel_horizon_s, accel_age_s=accel_age_s)
    if dt.size == 0:
        return np.empty((0, 3))
    if max_step_s is not None:
        step = np.full(dt.size, float(max_step_s))
    else:
        step = np.where(aero.mode == _AERO_BALLISTIC, PREDICT_STEP_S[1], PREDICT_STEP_S[0])
    n_steps = np.maximum(np.ceil(dt / step), 1.0).astype(np.int64)
    y0 = np.concatenate([r, v], axis=1).astype(float)
    return _propagate_rows(y0, aero, dt / n_steps, n_steps)[:, :3]


def predict_path_samples(r: np.ndarray, v: np.ndarray, a: np.ndarray, t_s: np.ndarray,
                         accel_horizon_s: float = ACCEL_HORIZON_S, *,
                         accel_age_s: float | np.ndarray = 0.0,
                         max_step_s: float | None = None, stop_below_m: float | None = None
                         ) -> np.ndarray:
    """Positions of each row's predicted path at times ``t_s`` ahead, m.

    The model of :func:`predict_path`, integrated once per row in equal steps of at most
    :data:`PREDICT_STEP_S` (the shorter one where the row's drag is scaled with the air
    density) over the row's last sample time, and sampled at ``t_s`` by cubic Hermite
    interpolation between the steps' positions and velocities (fourth order, as the
    integrator). All rows are integrated together, and a row's samples do not depend on
    the other rows.

    Parameters
    ----------
    r, v, a : ndarray, shape (n, 3)
        ECEF position (m), velocity (m/s) and acceleration (m/s^2) of the estimates.
    t_s : ndarray, shape (K,) or (n, K)
        Times ahead of the estimates, s (>= 0, increasing): common to every row, or one
        row of times per estimate.
    accel_horizon_s, accel_age_s, max_step_s
        As :func:`predict_path`.
    stop_below_m : float, optional
        Stop integrating a row once it is below this altitude (its samples after that
        hold its last state).

    Returns
    -------
    ndarray, shape (n, K, 3)
        Predicted ECEF positions, m.
    """
    n = r.shape[0]
    t = np.atleast_1d(np.asarray(t_s, dtype=float))
    t = np.broadcast_to(t, (n, t.shape[-1]))
    aero = target_aero(r, v, a, accel_horizon_s=accel_horizon_s, accel_age_s=accel_age_s)
    if t.shape[1] == 0:
        return np.empty((n, 0, 3))
    if max_step_s is not None:
        step = np.full(n, float(max_step_s))
    else:
        step = np.where(aero.mode == _AERO_BALLISTIC, PREDICT_STEP_S[1], PREDICT_STEP_S[0])
    span = np.maximum(t[:, -1], 0.0)
    n_steps = np.maximum(np.ceil(span / step), 1.0).astype(np.int64)
    h = np.where(span > 0.0, span / n_steps, 1.0)
    y0 = np.concatenate([r, v], axis=1).astype(float)
    states = _propagate(y0, aero, h, n_steps, stop_below_m)  # (S+1, n, 6)
    ahead = np.maximum(t, 0.0)
    k = np.clip((ahead / h[:, None]).astype(int), 0, (n_steps - 1)[:, None])  # (n, K)
    s = ((ahead - k * h[:, None]) / h[:, None])[..., None]
    row = np.arange(n)[:, None]
    p0, v0 = states[k, row, :3], states[k, row, 3:] * h[:, None, None]
    p1, v1 = states[k + 1, row, :3], states[k + 1, row, 3:] * h[:, None, None]
    s2, s3 = s * s, s * s * s
    return ((2 * s3 - 3 * s2 + 1) * p0 + (s3 - 2 * s2 + s) * v0 + (-2 * s3 + 3 * s2) * p1
            + (s3 - s2) * v1)
