"""Three-degree-of-freedom point-mass dynamics in the rotating WGS-84 (ECEF) frame.

The state of a vehicle is ``y = (x, y, z, vx, vy, vz, m)``: ECEF position (m),
velocity relative to the rotating Earth (m/s) and mass (kg). Its derivative is

    dr/dt = v
    dv/dt = g_J2(r) - 2 w x v - w x (w x r) + (D + L + T) / m
    dm/dt = -|T| / (Isp g0)

with drag ``D`` opposite the air-relative velocity (the atmosphere turns with the
Earth, no wind), lift ``L`` perpendicular to it and rotated by the bank angle about
it, and thrust ``T`` along a commanded direction.

References
----------
.. [1] N. X. Vinh, A. Busemann, R. D. Culp, *Hypersonic and Planetary Entry Flight
   Mechanics*, University of Michigan Press, 1980, ch. 2 (point-mass equations over
   a rotating planet; bank angle about the velocity vector).
.. [2] D. A. Vallado, *Fundamentals of Astrodynamics and Applications*, 4th ed.,
   Microcosm Press, 2013, section 3.7 (rotating-frame accelerations).
.. [3] G. P. Sutton, O. Biblarz, *Rocket Propulsion Elements*, 9th ed., Wiley, 2017,
   eq. 2-5 (mass flow from thrust and specific impulse).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from hyperdef.core.atmosphere import ussa76_fast
from hyperdef.core.earth import (
    G0_M_S2,
    OMEGA_EARTH_RAD_S,
    WGS84_A_M,
    WGS84_E2,
    gravity_j2_components,
    rotating_frame_acceleration,
)
from hyperdef.core.integrate import Controls, Event

STATE_SIZE = 7
GROUND_IMPACT = Event("ground_impact", terminal=True, direction=-1)


class AeroModel(Protocol):
    """Lift and drag coefficients of a vehicle class (one model for the whole batch)."""

    def coefficients(
        self, alpha_rad: np.ndarray, mach: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(cl, cd)`` for angle of attack (rad) and Mach number, shape (n,)."""
        ...


def approx_altitude_m(r_ecef_m: np.ndarray) -> np.ndarray:
    """Height above the WGS-84 ellipsoid along the geocentric radius, m, shape (...).

    ``|r| - R_e(phi_c)`` with ``R_e`` the ellipsoid radius at the geocentric latitude.
    It differs from the geodetic height by less than ``h * 2e-5`` (under 1 m below
    50 km, 0 on the ground), which is far inside the atmosphere model's own accuracy;
    it costs a tenth of the exact conversion in :func:`hyperdef.core.frames.ecef_to_lla`.

    Parameters
    ----------
    r_ecef_m : ndarray, shape (..., 3)
        ECEF position, m.
    """
    x, y, z = r_ecef_m[..., 0], r_ecef_m[..., 1], r_ecef_m[..., 2]
    rho2 = x * x + y * y
    r2 = rho2 + z * z
    r = np.sqrt(r2)
    cos2 = rho2 / r2
    radius = WGS84_A_M * np.sqrt((1.0 - WGS84_E2) / (1.0 - WGS84_E2 * cos2))
    return r - radius


def point_mass_derivative(
    t: np.ndarray,
    y: np.ndarray,
    ref_area_m2: np.ndarray,
    aero: AeroModel | None,
    u: dict[str, np.ndarray],
    *,
    rotating: bool = True,
) -> np.ndarray:
    """Derivative of the 7-component point-mass state for n vehicles.

    The kernel works on the state by component (one contiguous copy of its transpose):
    this hot path runs four times per Runge-Kutta step for every vehicle.

    Parameters
    ----------
    t : ndarray, shape (n,)
        Time, s (unused by the forces; kept for the integrator's signature).
    y : ndarray, shape (n, 7)
        ECEF position (m), ECEF velocity (m/s), mass (kg).
    ref_area_m2 : ndarray, shape (n,)
        Aerodynamic reference area, m^2.
    aero : AeroModel or None
        Lift and drag coefficients; None for flight in vacuum.
    u : dict of ndarray
        Controls held over the step: ``alpha`` (rad) and ``bank`` (rad, positive
        right), or their precomputed ``cos_bank`` and ``sin_bank``; optionally
        ``thrust_n`` (N), ``isp_s`` (s) and ``thrust_dir`` (n, 3) unit ECEF vector.
    rotating : bool
        Include the Coriolis and centrifugal terms (False models a non-rotating Earth,
        for comparisons with closed forms that assume one).

    Returns
    -------
    ndarray, shape (n, 7)
    """
    s = np.ascontiguousarray(y.T)
    x, yy, z, vx, vy, vz, mass = s
    out = np.empty((7, x.size))
    out[0:3] = s[3:6]
    out[6] = 0.0
    ax, ay, az = out[3], out[4], out[5]  # filled in place below
    gravity_j2_components(x, yy, z, out=(ax, ay, az))
    if rotating:
        w = OMEGA_EARTH_RAD_S
        ax += w * w * x + 2.0 * w * vy
        ay += w * w * yy - 2.0 * w * vx
    if aero is not None:
        # Written with in-place operations: at 10,000 vehicles a fresh temporary per
        # operation costs more than the arithmetic. The formulas, in order:
        #   h = |r| - a sqrt((1 - e^2) / (1 - e^2 (x^2 + y^2) / |r|^2))
        #   sin(gamma) = r.v / (|r| V),  q S / m = rho V^2 S / (2 m)
        # With u = v/V, z = r/|r|, the lift directions at zero and +90 deg bank are
        # (z - sin(gamma) u) / cos(gamma) and (u x z) / cos(gamma), so drag plus lift is
        #   k_v v + k_r r + k_c (v x r), with L' = (q S / m) CL / cos(gamma):
        #   k_v = -((q S / m) CD + L' cos(b) sin(gamma)) / V,  k_r = L' cos(b) / |r|,
        #   k_c = L' sin(b) / (|r| V).
        rho2 = x * x
        rho2 += yy * yy
        r = z * z
        r += rho2
        rho2 /= r
        np.sqrt(r, out=r)
        alt = rho2
        alt *= -WGS84_E2
        alt += 1.0
        np.divide(1.0 - WGS84_E2, alt, out=alt)
        np.sqrt(alt, out=alt)
        alt *= -WGS84_A_M
        alt += r
        rho, sound = ussa76_fast(alt)
        speed2 = vx * vx
        speed2 += vy * vy
        speed2 += vz * vz
        speed = np.sqrt(speed2)
        np.maximum(speed, 1e-9, out=speed)
        inv_rv = r * speed
        np.reciprocal(inv_rv, out=inv_rv)
        sin_gamma = x * vx
        sin_gamma += yy * vy
        sin_gamma += z * vz
        sin_gamma *= inv_rv
        sound = np.divide(speed, sound, out=sound)  # now the Mach number
        cl, cd = aero.coefficients(u["alpha"], sound)
        q_s_over_m = rho
        q_s_over_m *= speed2
        q_s_over_m *= 0.5 * ref_area_m2
        q_s_over_m /= mass
        if "cos_bank" in u:
            cos_bank, sin_bank = u["cos_bank"], u["sin_bank"]
        else:
            cos_bank, sin_bank = np.cos(u["bank"]), np.sin(u["bank"])
        lift = sin_gamma * sin_gamma  # L' = (q S / m) CL / cos(gamma)
        np.subtract(1.0, lift, out=lift)
        np.maximum(lift, 1e-24, out=lift)
        np.sqrt(lift, out=lift)
        np.divide(cl, lift, out=lift)
        lift *= q_s_over_m
        k_c = lift * sin_bank
        k_c *= inv_rv
        lift *= cos_bank
        k_v = lift * sin_gamma
        k_v += q_s_over_m * cd
        k_v /= speed
        np.negative(k_v, out=k_v)
        k_r = lift
        k_r /= r
        tmp = np.empty_like(x)
        for acc, v_i, r_i, (v_a, r_b, v_b, r_a) in (
            (ax, vx, x, (vy, z, vz, yy)),
            (ay, vy, yy, (vz, x, vx, z)),
            (az, vz, z, (vx, yy, vy, x)),
        ):
            # acc += k_v v_i + k_r r_i + k_c (v x r)_i
            np.multiply(k_v, v_i, out=tmp)
            acc += tmp
            np.multiply(k_r, r_i, out=tmp)
            acc += tmp
            np.multiply(v_a, r_b, out=tmp)
            tmp -= v_b * r_a
            tmp *= k_c
            acc += tmp
    thrust = u.get("thrust_n")
    if thrust is not None:
        f = thrust / mass
        direction = u["thrust_dir"]
        ax += f * direction[:, 0]
        ay += f * direction[:, 1]
        az += f * direction[:, 2]
        out[6] = -thrust / (u["isp_s"] * G0_M_S2)
    return out.T


def vacuum_derivative(t: np.ndarray, y: np.ndarray, *, gm: float, rotating: bool) -> np.ndarray:
    """Point-mass gravity only (spherical Earth), optionally in the rotating frame.

    Used by validation tests (energy conservation, minimum-energy range) and as the
    reference right-hand side for the comparison with :func:`scipy.integrate.solve_ivp`.

    Parameters
    ----------
    y : ndarray, shape (n, 6) or (n, 7)
        Position (m) and velocity (m/s), mass ignored.
    gm : float
        Gravitational parameter, m^3/s^2.
    rotating : bool
        Add Coriolis and centrifugal terms of the Earth's rotation.
    """
    r = y[:, 0:3]
    v = y[:, 3:6]
    r2 = np.einsum("ij,ij->i", r, r)
    acc = -(gm / (r2 * np.sqrt(r2)))[:, None] * r
    if rotating:
        acc = acc + rotating_frame_acceleration(r, v)
    out = np.zeros_like(y)
    out[:, 0:3] = v
    out[:, 3:6] = acc
    return out


SURFACE_IMPACT = Event("surface_impact", terminal=True, direction=-1)


@dataclass(frozen=True, slots=True)
class KeplerSystem:
    """Free flight under point-mass gravity over a spherical Earth (an integrator System).

    The textbook setting of the minimum-energy trajectory and of energy conservation:
    no atmosphere, optional Earth rotation, impact when the radius falls to
    ``surface_radius_m``.

    Attributes
    ----------
    gm : float
        Gravitational parameter, m^3/s^2.
    rotating : bool
        Integrate in the rotating frame (adds Coriolis and centrifugal terms).
    surface_radius_m : float
        Radius of the impact sphere, m.
    """

    gm: float
    rotating: bool
    surface_radius_m: float
    events: tuple[Event, ...] = (SURFACE_IMPACT,)

    def controls(
        self, t: np.ndarray, y: np.ndarray, idx: np.ndarray, mode: np.ndarray
    ) -> tuple[Controls, np.ndarray]:
        return {}, mode

    def derivative(self, t: np.ndarray, y: np.ndarray, idx: np.ndarray, u: Controls) -> np.ndarray:
        return vacuum_derivative(t, y, gm=self.gm, rotating=self.rotating)

    def event_values(self, t: np.ndarray, y: np.ndarray, idx: np.ndarray) -> np.ndarray:
        r = y[:, 0:3]
        return (np.sqrt(np.einsum("ij,ij->i", r, r)) - self.surface_radius_m)[:, None]
