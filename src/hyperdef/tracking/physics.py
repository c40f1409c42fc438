"""Equations of motion of the trackers' ballistic and glide models, and their Jacobian.

The physics models of :mod:`hyperdef.tracking.models` integrate J2 gravity, the Coriolis
and centrifugal terms of the rotating Earth and the aerodynamic acceleration (drag, and
for the glide model lift rotated by the bank angle) by classical RK4. Their transition
Jacobian ``F`` is the exact derivative of that discrete RK4 map, propagated with it:
differentiating each stage gives RK4 applied to the variational equation

    dPhi/dt = A(t) Phi,    A = [[0, I], [da/dr, da/dv]],

with ``A`` and the parameter sensitivity ``da/dp`` evaluated at each stage's state
([Hairer] section II.2 on the derivative of Runge-Kutta maps; [Montenbruck] section
7.1 on variational equations of orbital motion). The partial derivatives of the
acceleration are analytic: the J2 gravity gradient, the rotating-frame terms, and the
drag and lift through the density's logarithmic slope
(:func:`hyperdef.core.atmosphere.density_log_slope_fast`), the height's gradient, the
speed and the flight-path angle. One propagation of the N nominal states carries the
6 x n tangent of each, instead of the n + 1 propagations a finite-difference Jacobian
needs.

References
----------
.. [Hairer] E. Hairer, S. P. Norsett, G. Wanner, *Solving Ordinary Differential
   Equations I*, 2nd ed., Springer, 1993, section II.2 (RK4) and I.14 (variational
   equation).
.. [Montenbruck] O. Montenbruck, E. Gill, *Satellite Orbits*, Springer, 2000, section
   3.2.2 (J2 acceleration) and 7.1-7.2 (variational equations, state transition matrix).
.. [Vinh] N. X. Vinh, A. Busemann, R. D. Culp, *Hypersonic and Planetary Entry Flight
   Mechanics*, University of Michigan Press, 1980, ch. 2 (lift, drag and bank).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hyperdef.core.atmosphere import density_fast, density_log_slope_fast
from hyperdef.core.dynamics import approx_altitude_m
from hyperdef.core.earth import (
    _J2_FACTOR_M2,
    GM_EARTH_M3_S2,
    OMEGA_EARTH_RAD_S,
    WGS84_A_M,
    WGS84_E2,
    gravity_j2_components,
)

__all__ = ["physics_acceleration", "rk4_propagate"]


@dataclass(frozen=True, slots=True)
class Aero:
    """Aerodynamic parameters of states by component, held over a propagation (N,):
    ``1 / beta`` (m^2/kg), and for a lifting model ``L/D`` and the bank's cosine and
    sine (None when not lifting). Taken once per propagation instead of at every RK4
    stage (an exponential and two trigonometric functions per state and stage)."""

    inv_beta: np.ndarray
    lift_to_drag: np.ndarray | None = None
    cos_bank: np.ndarray | None = None
    sin_bank: np.ndarray | None = None

    @classmethod
    def of(cls, s: np.ndarray, lifting: bool) -> Aero:
        """Parameters of states ``s`` by component, shape (n, N)."""
        inv_beta = np.exp(-s[6])
        if not lifting:
            return cls(inv_beta)
        return cls(inv_beta, s[7].copy(), np.cos(s[8]), np.sin(s[8]))


def acceleration(
    r: np.ndarray, v: np.ndarray, aero: Aero, rho: np.ndarray | None = None
) -> np.ndarray:
    """ECEF acceleration (3, N) of positions ``r`` (3, N) and velocities ``v`` (3, N).

    ``rho``: the density at ``r`` (kg/m^3, :func:`air_at`) when the caller has it.

    J2 gravity, Coriolis and centrifugal terms, drag ``-q / beta`` along the velocity
    and, when ``aero`` has a lift-to-drag ratio, lift ``(L/D) q / beta`` perpendicular to
    it, rotated by the bank angle about it exactly as in
    :func:`hyperdef.core.dynamics.point_mass_derivative` (bank 0: in the vertical plane,
    up; positive bank: to the right). The atmosphere turns with the Earth, so the
    air-relative velocity is the ECEF velocity.
    """
    x, y, z = r
    vx, vy, vz = v
    out = np.empty_like(v)
    ax, ay, az = gravity_j2_components(x, y, z, out=(out[0], out[1], out[2]))
    w = OMEGA_EARTH_RAD_S
    ax += w * w * x + 2.0 * w * vy
    ay += w * w * y - 2.0 * w * vx
    if rho is None:
        rho = density_fast(approx_altitude_m(r.T))
    speed2 = vx * vx + vy * vy + vz * vz
    speed = np.maximum(np.sqrt(speed2), 1e-9)
    q_over_beta = 0.5 * rho * speed2 * aero.inv_beta  # drag acceleration, m/s^2
    k_v = -q_over_beta / speed
    if aero.lift_to_drag is None:
        ax += k_v * vx
        ay += k_v * vy
        az += k_v * vz
        return out
    r_norm = np.sqrt(x * x + y * y + z * z)
    inv_rv = 1.0 / (r_norm * speed)
    sin_gamma = (x * vx + y * vy + z * vz) * inv_rv
    cos_gamma = np.sqrt(np.maximum(1.0 - sin_gamma * sin_gamma, 1e-24))
    lift = q_over_beta * aero.lift_to_drag / cos_gamma  # L' of core.dynamics
    k_c = lift * aero.sin_bank * inv_rv
    lift_up = lift * aero.cos_bank
    k_v = k_v - lift_up * sin_gamma / speed
    k_r = lift_up / r_norm
    ax += k_v * vx + k_r * x + k_c * (vy * z - vz * y)
    ay += k_v * vy + k_r * y + k_c * (vz * x - vx * z)
    az += k_v * vz + k_r * z + k_c * (vx * y - vy * x)
    return out


def physics_acceleration(x: np.ndarray, lifting: bool) -> np.ndarray:
    """ECEF acceleration of states of the physics models, m/s^2, shape (N, 3).

    Parameters
    ----------
    x : ndarray, shape (N, 7) or (N, 9)
        Ballistic states (``lifting=False``; a glide state's L/D and bank are then
        ignored) or glide states (``lifting=True``) of :mod:`hyperdef.tracking.models`.
    lifting : bool
        Include the lift of the glide model.
    """
    s = np.ascontiguousarray(np.asarray(x, dtype=np.float64).T)
    return acceleration(s[0:3], s[3:6], Aero.of(s, lifting)).T


def air_at(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Density (kg/m^3) and ``d ln(rho) / dh`` (1/m) at positions ``r`` (3, N), for
    :func:`acceleration` and :func:`_acceleration_jacobian` at the same stage."""
    return density_log_slope_fast(approx_altitude_m(r.T))


def _acceleration_jacobian(
    r: np.ndarray, v: np.ndarray, aero: Aero, air: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Partial derivatives of :func:`acceleration`: ``[da/dr, da/dv]`` (3, 6, N) and the
    sensitivity to the aerodynamic states ``da/dp`` (3, k, N): k = 1 (ln beta) without
    lift, 3 (ln beta, L/D, bank) with it. Tracks on the last axis, as the states.

    The aerodynamic acceleration is ``k_v v + k_r r + k_c (v x r)`` (drag alone:
    ``k_v v``), whose scalars depend on the state only through ``ln rho``, ``S = |v|^2``,
    ``R2 = |r|^2`` and ``D = r . v``. Their partials by these four give vectors ``W_X =
    dk_v/dX v + dk_r/dX r + dk_c/dX (v x r)``, and the Jacobian is a few outer products
    of them with the four gradients (``grad ln rho = d ln rho / dh grad h``, ``2 r``,
    ``v`` and ``r``, ``2 v``), plus the terms of the derivative of ``v`` and ``v x r``
    themselves. Gravity: the J2 gradient ``c I + alpha r r^T + beta (r e_z^T + e_z r^T)
    - 2 q e_z e_z^T`` of ``g = c r - 2 q z e_z``, ``q = (3/2) J2 a^2 GM / |r|^5``,
    ``c = -GM / |r|^3 + q (5 z^2 / |r|^2 - 1)`` ([Montenbruck] section 3.2.2; the form of
    :func:`hyperdef.core.earth.gravity_j2_components`). The height is
    :func:`hyperdef.core.dynamics.approx_altitude_m`, ``|r| - R_e(c2)`` with ``R_e = a
    sqrt((1 - e^2) / (1 - e^2 c2))`` and ``c2 = (x^2 + y^2) / |r|^2``. The speed's floor
    (1e-9 m/s) and the flight-path angle's clip at the vertical are held constant.
    ``air``: :func:`air_at` of ``r``.
    """
    n_tracks = r.shape[1]
    x, y, z = r
    vx, vy, vz = v
    rho2 = x * x + y * y
    r2 = rho2 + z * z
    inv_r2 = 1.0 / r2
    r_norm = np.sqrt(r2)
    inv_r = 1.0 / r_norm
    # gradient of the height |r| - R_e: (inv_r - k z^2) r + k z |r|^2 e_z
    denom = 1.0 - WGS84_E2 * (rho2 * inv_r2)
    radius = WGS84_A_M * np.sqrt((1.0 - WGS84_E2) / denom)
    k_h = radius * WGS84_E2 / denom * (inv_r2 * inv_r2)
    rho, log_slope = air
    # gravity
    gm_r3 = GM_EARTH_M3_S2 * inv_r2 * inv_r
    q = _J2_FACTOR_M2 * gm_r3 * inv_r2
    z2_r2 = z * z * inv_r2
    c = q * (5.0 * z2_r2 - 1.0) - gm_r3
    alpha = inv_r2 * (3.0 * gm_r3 + q * (5.0 - 35.0 * z2_r2))
    beta = 10.0 * q * z * inv_r2
    # drag
    speed2 = vx * vx + vy * vy + vz * vz
    speed = np.maximum(np.sqrt(speed2), 1e-9)
    inv_s2 = 1.0 / (speed * speed)
    q_over_beta = 0.5 * rho * speed2 * aero.inv_beta
    k_drag = -q_over_beta / speed
    w_rho = k_drag * v  # W of ln rho
    w_s = (0.5 * k_drag * inv_s2) * v  # W of S
    k_v, k_r, k_c = k_drag, 0.0, 0.0
    lifting = aero.lift_to_drag is not None
    if lifting:
        inv_rv = inv_r / speed
        sin_g = (x * vx + y * vy + z * vz) * inv_rv
        one_minus = 1.0 - sin_g * sin_g
        cos_g = np.sqrt(np.maximum(one_minus, 1e-24))
        lift = q_over_beta * aero.lift_to_drag / cos_g
        dlift_dsin = np.where(one_minus > 1e-24, lift * sin_g / (cos_g * cos_g), 0.0)
        cb, sb = aero.cos_bank, aero.sin_bank
        lift_up = lift * cb
        up_s = sin_g / speed
        k_c = lift * sb * inv_rv
        k_v = k_drag - lift_up * up_s
        k_r = lift_up * inv_r
        vxr = np.stack((vy * z - vz * y, vz * x - vx * z, vx * y - vy * x))
        # partials of sin(gamma) = D / (|r| V) and of the lift = q (L/D) / cos(gamma)
        sin_s, sin_r2 = -0.5 * sin_g * inv_s2, -0.5 * sin_g * inv_r2
        lift_s = lift * inv_s2 + dlift_dsin * sin_s
        lift_r2 = dlift_dsin * sin_r2
        lift_d = dlift_dsin * inv_rv

        def w_of(d_lift, d_sin, kc_extra, kv_extra, kr_extra):
            """W_X from the lift's and sin(gamma)'s partials by X."""
            kv = -cb * up_s * d_lift - (lift_up / speed) * d_sin + kv_extra
            kr = cb * inv_r * d_lift + kr_extra
            kc = sb * inv_rv * d_lift + kc_extra
            return kv * v + kr * r + kc * vxr

        w_rho = w_rho + lift * (-cb * up_s * v + cb * inv_r * r + sb * inv_rv * vxr)
        w_s = w_s + w_of(lift_s, sin_s, -0.5 * k_c * inv_s2, 0.5 * lift_up * up_s * inv_s2,
                         0.0)
        w_r2 = w_of(lift_r2, sin_r2, -0.5 * k_c * inv_r2, 0.0, -0.5 * k_r * inv_r2)
        w_d = w_of(lift_d, inv_rv, 0.0, 0.0, 0.0)
    # da/dr = (W_r + 2 W_R2) r^T + W_D v^T + W_z e_z^T + beta e_z r^T + diagonal and skew terms
    w_r = (log_slope * (inv_r - k_h * z * z)) * w_rho + alpha * r
    if lifting:
        w_r += 2.0 * w_r2
    w_z = (log_slope * k_h * z * r2) * w_rho + beta * r
    jac = np.empty((3, 6, n_tracks))
    np.multiply(w_r[:, None], r[None, :], out=jac[:, 0:3])
    np.multiply(2.0 * w_s[:, None], v[None, :], out=jac[:, 3:6])
    if lifting:
        jac[:, 0:3] += w_d[:, None] * v[None, :]
        jac[:, 3:6] += w_d[:, None] * r[None, :]
        # k_c d(v x r)/dr = k_c [v]x, k_c d(v x r)/dv = -k_c [r]x
        for (i, j), s_v, s_r in (((0, 1), vz, z), ((0, 2), -vy, -y), ((1, 2), vx, x)):
            jac[i, j] -= k_c * s_v
            jac[j, i] += k_c * s_v
            jac[i, 3 + j] += k_c * s_r
            jac[j, 3 + i] -= k_c * s_r
    jac[:, 2] += w_z
    jac[2, 0:3] += beta * r
    w2 = OMEGA_EARTH_RAD_S * OMEGA_EARTH_RAD_S
    diag_r = c + k_r
    jac[0, 0] += diag_r + w2
    jac[1, 1] += diag_r + w2
    jac[2, 2] += diag_r - 2.0 * q
    for i in range(3):
        jac[i, 3 + i] += k_v
    jac[0, 4] += 2.0 * OMEGA_EARTH_RAD_S
    jac[1, 3] -= 2.0 * OMEGA_EARTH_RAD_S
    if not lifting:
        return jac, -(k_drag * v)[:, None]  # every aerodynamic term is proportional to 1/beta
    sens = np.empty((3, 3, n_tracks))
    sens[:, 0] = -(k_v * v + k_r * r + k_c * vxr)
    # d/d(L/D) scales the lift's terms by 1/(L/D); d/d(bank) turns the bank's (cos, sin)
    plane = inv_r * r - up_s * v  # direction of the lift's vertical part, per unit lift
    side = inv_rv * vxr
    unit = q_over_beta / cos_g
    sens[:, 1] = unit * (cb * plane + sb * side)
    sens[:, 2] = lift * (cb * side - sb * plane)
    return jac, sens


def rk4_propagate(
    y: np.ndarray, dt: np.ndarray, max_substep_s: float, lifting: bool, jacobian: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """RK4 over ``dt`` (N,) in equal sub-steps of at most ``max_substep_s``; parameters held.

    Each track takes ``ceil(|dt| / max_substep_s)`` sub-steps of its own (zero-length
    steps pad the shorter ones), so a track's result does not depend on its batch. Only
    position and velocity are integrated: the aerodynamic parameters are constant over
    the propagation (:class:`Aero`).

    Parameters
    ----------
    y : ndarray, shape (N, n)
        States (r, v, aerodynamic parameters), n = 7 or 9.
    dt : ndarray, shape (N,)
        Propagation time per track, s.
    max_substep_s : float
        Longest sub-step, s.
    lifting : bool
        The glide model (lift and bank) rather than the ballistic one.
    jacobian : bool
        Also return the transition Jacobian ``d y(t + dt) / d y(t)`` (N, n, n): the
        exact derivative of this RK4 map, the variational equation integrated by the
        same stages (module docstring).

    Returns
    -------
    out : ndarray, shape (N, n)
        Propagated states. The same to the bit with or without ``jacobian``.
    F : ndarray, shape (N, n, n), or None
        The Jacobian, when asked for.
    """
    n_tracks, n = y.shape
    n_sub = np.maximum(np.ceil(np.abs(dt) / max_substep_s), 1.0)
    h_track = dt / n_sub
    s = np.ascontiguousarray(y.T)  # (n, N)
    aero = Aero.of(s, lifting)
    r, v = s[0:3], s[3:6]
    if jacobian:
        phi = np.zeros((6, n, n_tracks))  # d(r, v) / d(initial state), tracks last
        for i in range(6):
            phi[i, i] = 1.0

        def slope(phi_stage, r_stage, v_stage, air_stage, identity=False):
            """d/dt of the tangent at a stage: (Phi_v, A Phi + da/dp); ``identity``: Phi
            is still the initial ``[I 0]`` (the first stage), so ``A Phi`` is ``[A 0]``."""
            jac, sens = _acceleration_jacobian(r_stage, v_stage, aero, air_stage)
            k = np.empty_like(phi_stage)
            k[0:3] = phi_stage[3:6]
            if identity:
                k[3:6, 0:6] = jac
                k[3:6, 6:] = 0.0
            else:
                np.einsum("ijn,jkn->ikn", jac, phi_stage, out=k[3:6])
            k[3:6, 6 : 6 + sens.shape[1]] += sens
            return k

    # with the Jacobian, each stage's density lookup (and its slope) serves both the
    # acceleration and its derivatives; without it the acceleration looks up the density
    stage_air = air_at if jacobian else (lambda _r: (None, None))
    for step in range(int(np.max(n_sub, initial=1.0))):
        h = np.where(step < n_sub, h_track, 0.0)
        half = 0.5 * h
        air1 = stage_air(r)
        a1 = acceleration(r, v, aero, air1[0])
        r2, v2 = r + half * v, v + half * a1
        air2 = stage_air(r2)
        a2 = acceleration(r2, v2, aero, air2[0])
        r3, v3 = r + half * v2, v + half * a2
        air3 = stage_air(r3)
        a3 = acceleration(r3, v3, aero, air3[0])
        r4, v4 = r + h * v3, v + h * a3
        air4 = stage_air(r4)
        a4 = acceleration(r4, v4, aero, air4[0])
        sixth = h / 6.0
        if jacobian:
            k1 = slope(phi, r, v, air1, identity=step == 0)
            k2 = slope(phi + half * k1, r2, v2, air2)
            k3 = slope(phi + half * k2, r3, v3, air3)
            k4 = slope(phi + h * k3, r4, v4, air4)
            k2 += k3
            k2 *= 2.0
            k2 += k1
            k2 += k4
            phi = phi + sixth * k2
        r = r + sixth * (v + 2.0 * v2 + 2.0 * v3 + v4)
        v = v + sixth * (a1 + 2.0 * a2 + 2.0 * a3 + a4)
    out = y.copy()
    out[:, 0:3] = r.T
    out[:, 3:6] = v.T
    if not jacobian:
        return out, None
    jac = np.zeros((n_tracks, n, n))
    jac[:, 0:6] = phi.transpose(2, 0, 1)
    for i in range(6, n):
        jac[:, i, i] = 1.0
    return out, jac
