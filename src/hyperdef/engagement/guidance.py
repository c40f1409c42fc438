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

import numpy as np

from hyperdef.engagement.flight import dot, norm, perpendicular
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


def predict_path(r: np.ndarray, v: np.ndarray, a: np.ndarray, dt_s: np.ndarray,
                 accel_horizon_s: float = ACCEL_HORIZON_S) -> np.ndarray:
    """Target positions predicted ``dt_s`` ahead from an estimated state, m, shape (n, 3).

    The vertical part of the estimated acceleration (gravity, and the pull that keeps a
    glider on its curved path) and its part along the horizontal velocity (drag, thrust)
    are extrapolated over the whole horizon; the sideways part (a turn, a weave) only for
    ``accel_horizon_s`` seconds: a manoeuvre seen now does not persist unchanged for
    minutes, and a weave averages out (the constant-turn-rate caution of Li & Jilkov,
    "Survey of maneuvering target tracking, Part I", IEEE TAES 39(4), 2003).

    Parameters
    ----------
    r, v, a : ndarray, shape (n, 3)
        ECEF position (m), velocity (m/s) and acceleration (m/s^2) of the estimate.
    dt_s : ndarray, shape (n,)
        Prediction horizon of each row, s (>= 0).
    accel_horizon_s : float
        Extrapolation time of the sideways acceleration, s.
    """
    dt = np.asarray(dt_s, dtype=float).reshape(-1, 1)
    da = np.clip(dt, 0.0, accel_horizon_s)
    up = r / norm(r)[:, None]
    vertical = dot(a, up)[:, None] * up
    along = perpendicular(v, up)
    along /= np.maximum(norm(along), 1e-9)[:, None]
    steady = vertical + dot(a, along)[:, None] * along
    return r + v * dt + 0.5 * steady * dt * dt + (a - steady) * (da * dt - 0.5 * da * da)
