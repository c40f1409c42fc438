"""Batched guidance laws of the threat vehicles.

Vectors are component-major arrays of shape (3, n) in ECEF (a contiguous row per
component: these kernels run once per integration step for every vehicle); scalars
per vehicle are (n,). Each law returns an acceleration command or a thrust direction;
:func:`alpha_bank_from_lift` turns a lift command into the angle of attack and bank
angle that the point-mass dynamics fly.

References
----------
.. [1] D. R. Eggers, H. J. Allen, S. E. Neice, "A Comparative Analysis of the
   Performance of Long-Range Hypervelocity Vehicles", NACA Report 1382, 1958
   (equilibrium-glide range, used here as the range predictor).
.. [2] P. Zarchan, *Tactical and Strategic Missile Guidance*, 6th ed., AIAA, 2012,
   ch. 2 (proportional navigation) and ch. 14 (gravity compensation).
.. [3] P. Lu, "Entry Guidance: A Unified Method", J. Guidance, Control, and Dynamics
   37(3), 2014, doi:10.2514/1.62605 (bank angle from a commanded lift vector; heading
   alignment).
.. [4] R. H. Battin, *An Introduction to the Mathematics and Methods of
   Astrodynamics*, rev. ed., AIAA, 1999, ch. 6 (time of flight on a conic) and
   section 14.8 (velocity-to-be-gained steering).
.. [5] R. R. Bate, D. D. Mueller, J. E. White, *Fundamentals of Astrodynamics*, Dover,
   1971, ch. 6 (free-flight range equation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hyperdef.core.atmosphere import altitude_for_log_density_fast, ussa76_fast
from hyperdef.core.dynamics import approx_altitude_m
from hyperdef.core.earth import GM_EARTH_M3_S2, OMEGA_EARTH_RAD_S, gravity_j2_components


def dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dot products of component-major (3, n) arrays, shape (n,)."""
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross products of component-major (3, n) arrays, written out."""
    out = np.empty(np.broadcast_shapes(a.shape, b.shape))
    out[0] = a[1] * b[2] - a[2] * b[1]
    out[1] = a[2] * b[0] - a[0] * b[2]
    out[2] = a[0] * b[1] - a[1] * b[0]
    return out


def unit(a: np.ndarray) -> np.ndarray:
    """Unit vectors of a component-major (3, n) array (zero vectors stay zero)."""
    return a * (1.0 / np.maximum(np.sqrt(dot(a, a)), 1e-300))


def components(y: np.ndarray) -> np.ndarray:
    """Contiguous component-major copy ``(7, n)`` of a batch of point-mass states ``(n, 7)``.

    The guidance kernels work on its rows: ``r = s[0:3]``, ``v = s[3:6]``, ``m = s[6]``.
    """
    return np.ascontiguousarray(y.T)


def great_circle_to_aim(r_m: np.ndarray, aim_unit: np.ndarray):
    """Range angle and local horizontal direction from positions to aim points.

    Parameters
    ----------
    r_m : ndarray, shape (3, n)
        ECEF positions, m.
    aim_unit : ndarray, shape (3, n)
        Geocentric unit vectors of the aim points.

    Returns
    -------
    range_angle_rad : ndarray, shape (n,)
        Geocentric angle between position and aim point.
    direction : ndarray, shape (3, n)
        Unit horizontal vector at the position along the great circle to the aim.
    up : ndarray, shape (3, n)
        Geocentric unit up vector at the position.
    """
    up = unit(r_m)
    return (*_great_circle_from_up(up, aim_unit), up)


def _great_circle_from_up(up: np.ndarray, aim_unit: np.ndarray):
    """:func:`great_circle_to_aim` from the unit up vector: (range angle, direction)."""
    c = dot(up, aim_unit)
    tangent = aim_unit - c * up
    s = np.sqrt(dot(tangent, tangent))
    return np.arctan2(s, c), tangent * (1.0 / np.maximum(s, 1e-300))


def gravity_and_frame_acceleration(r_m: np.ndarray, v_m_s: np.ndarray) -> np.ndarray:
    """J2 gravity plus Coriolis and centrifugal accelerations, component-major (3, n), m/s^2."""
    out = np.empty_like(r_m)
    out[0], out[1], out[2] = gravity_j2_components(r_m[0], r_m[1], r_m[2])
    w = OMEGA_EARTH_RAD_S
    out[0] += w * w * r_m[0] + 2.0 * w * v_m_s[1]
    out[1] += w * w * r_m[1] - 2.0 * w * v_m_s[0]
    return out


def heading_error_rad(v: np.ndarray, direction: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Signed angle from the horizontal velocity to ``direction``, rad, positive to the right.

    All vectors component-major (3, n).
    """
    vh = v - dot(v, up) * up
    return -np.arctan2(dot(up, cross(vh, direction)), dot(vh, direction))


def wind_axes(v: np.ndarray, up: np.ndarray):
    """Unit velocity, lift direction at zero bank and lift direction at +90 deg bank.

    ``e_up`` is perpendicular to the velocity in the vertical plane, ``e_side = u x e_up``
    points to the right of the flight path ([3]). Vectors are component-major (3, n).

    Returns
    -------
    u, e_up, e_side : ndarray, shape (3, n)
    speed : ndarray, shape (n,)
    """
    speed = np.sqrt(dot(v, v))
    u = v * (1.0 / np.maximum(speed, 1e-9))
    e_up = unit(up - dot(up, u) * u)
    return u, e_up, cross(u, e_up), speed


@dataclass(frozen=True, slots=True)
class FlightState:
    """What a guidance law knows about n vehicles at one instant (vectors (3, n), ECEF).

    Attributes
    ----------
    r, v : ndarray, shape (3, n)
        Position (m) and Earth-relative velocity (m/s).
    mass : ndarray, shape (n,)
        Mass, kg.
    alt, speed, mach, dynamic_pressure, range_to_go, sink, radius : ndarray, shape (n,)
        Altitude (m), speed (m/s), Mach, dynamic pressure (Pa), great-circle range to the
        aim (m), climb rate (m/s, positive up), distance from the Earth's centre (m).
    up, to_aim, u, e_up, e_side : ndarray, shape (3, n)
        Geocentric up, horizontal direction to the aim, unit velocity, and the lift
        directions at zero and +90 deg bank.
    other_accel : ndarray, shape (3, n)
        Gravity plus Coriolis and centrifugal acceleration, m/s^2.
    hold_alt_accel : ndarray, shape (n,)
        Vertical lift acceleration that holds the altitude (zero vertical acceleration).
    """

    r: np.ndarray
    v: np.ndarray
    mass: np.ndarray
    alt: np.ndarray
    speed: np.ndarray
    mach: np.ndarray
    dynamic_pressure: np.ndarray
    range_to_go: np.ndarray
    sink: np.ndarray
    radius: np.ndarray
    up: np.ndarray
    to_aim: np.ndarray
    u: np.ndarray
    e_up: np.ndarray
    e_side: np.ndarray
    other_accel: np.ndarray
    hold_alt_accel: np.ndarray


def flight_state(y: np.ndarray, aim_unit: np.ndarray, aim_radius_m: np.ndarray) -> FlightState:
    """Sense the state of n vehicles (``y`` (n, 7)) relative to their aim points.

    ``aim_unit`` (3, n) are the geocentric unit vectors of the aim points and
    ``aim_radius_m`` (n,) their distances from the Earth's centre.
    """
    s = components(y)
    r, v = s[0:3], s[3:6]
    radius = np.sqrt(dot(r, r))
    alt = approx_altitude_m(y[:, 0:3])
    rho, sound = ussa76_fast(alt)
    up = r * (1.0 / radius)
    psi, to_aim = _great_circle_from_up(up, aim_unit)
    u, e_up, e_side, speed = wind_axes(v, up)
    sink = dot(v, up)
    other = gravity_and_frame_acceleration(r, v)
    return FlightState(
        r=r,
        v=v,
        mass=s[6],
        alt=alt,
        speed=speed,
        mach=speed / sound,
        dynamic_pressure=0.5 * rho * speed * speed,
        range_to_go=psi * aim_radius_m,
        sink=sink,
        radius=radius,
        up=up,
        to_aim=to_aim,
        u=u,
        e_up=e_up,
        e_side=e_side,
        other_accel=other,
        hold_alt_accel=-dot(other, up) - (speed * speed - sink * sink) / radius,
    )


def steer_dives(
    state: FlightState,
    diving: np.ndarray,
    aim_ecef_m: np.ndarray,
    nav_gain: float,
    a_up: np.ndarray,
    a_side: np.ndarray,
) -> None:
    """Overwrite the lift commands of the ``diving`` vehicles with proportional navigation.

    PN with gravity compensation towards the aim points ``aim_ecef_m`` (k, 3) of the k
    diving vehicles ([2] ch. 2 and 14); ``a_up`` and ``a_side`` are modified in place.
    """
    if not diving.size:
        return
    cmd = proportional_navigation(state.r[:, diving], state.v[:, diving], aim_ecef_m.T, nav_gain)
    cmd -= state.other_accel[:, diving]
    a_up[diving] = dot(cmd, state.e_up[:, diving])
    a_side[diving] = dot(cmd, state.e_side[:, diving])


def alpha_bank_from_lift(
    a_up: np.ndarray,
    a_side: np.ndarray,
    dynamic_pressure_pa: np.ndarray,
    mass_kg: np.ndarray,
    ref_area_m2: np.ndarray,
    alpha_for_lift_coefficient,
) -> dict[str, np.ndarray]:
    """Controls that give a lift acceleration with components along ``e_up`` and ``e_side``.

    The direction sets the bank angle (from the vertical plane, positive to the right),
    the size the lift coefficient and so, through the vehicle's lift curve
    ``alpha_for_lift_coefficient(cl) -> alpha`` (clamped to its limits), the angle of
    attack ([3]).

    Returns
    -------
    dict
        ``alpha`` (rad), ``bank`` (rad), ``cos_bank`` and ``sin_bank``, each shape (n,).
    """
    lift = np.hypot(a_up, a_side)
    some = lift > 1e-12
    inv = 1.0 / np.where(some, lift, 1.0)
    cos_bank = np.where(some, a_up * inv, 1.0)
    sin_bank = a_side * inv
    cl = lift * mass_kg / (np.maximum(dynamic_pressure_pa, 1e-9) * ref_area_m2)
    return {
        "alpha": alpha_for_lift_coefficient(cl),
        "bank": np.arctan2(sin_bank, cos_bank),
        "cos_bank": cos_bank,
        "sin_bank": sin_bank,
    }


def eggers_range_m(
    lift_to_drag: np.ndarray, v0_m_s: np.ndarray, vf_m_s: np.ndarray, radius_m: np.ndarray
) -> np.ndarray:
    """Equilibrium-glide range ``(L/D)(r/2) ln[(1 - Vf^2/(g r)) / (1 - V0^2/(g r))]`` ([1]).

    ``g r`` is taken as ``GM / r`` (local circular speed squared).
    """
    circ2 = GM_EARTH_M3_S2 / radius_m
    return (
        lift_to_drag
        * 0.5
        * radius_m
        * np.log((1.0 - vf_m_s**2 / circ2) / (1.0 - v0_m_s**2 / circ2))
    )


def eggers_speed_for_range(
    range_m: np.ndarray, lift_to_drag: np.ndarray, vf_m_s: np.ndarray, radius_m: np.ndarray
) -> np.ndarray:
    """Glide start speed that gives ``range_m`` by the Eggers formula ([1]), m/s."""
    circ2 = GM_EARTH_M3_S2 / radius_m
    ratio = np.exp(-2.0 * range_m / (lift_to_drag * radius_m))
    return np.sqrt(circ2 * (1.0 - (1.0 - vf_m_s**2 / circ2) * ratio))


def required_lift_to_drag(
    range_to_go_m: np.ndarray, speed_m_s: np.ndarray, vf_m_s: np.ndarray, radius_m: np.ndarray
) -> np.ndarray:
    """L/D that makes the Eggers range from ``speed`` down to ``vf`` equal ``range_to_go``.

    Returns +inf where the vehicle is already at or below ``vf`` (no energy to spare).
    """
    circ2 = GM_EARTH_M3_S2 / radius_m
    s2 = np.minimum(speed_m_s**2, 0.999 * circ2)
    log_ratio = np.log((1.0 - vf_m_s**2 / circ2) / (1.0 - s2 / circ2))
    with np.errstate(divide="ignore"):
        return np.where(log_ratio > 1e-6, range_to_go_m / (0.5 * radius_m * log_ratio), np.inf)


def reference_glide_altitude_m(
    lift_coefficient: np.ndarray,
    lift_accel_m_s2: np.ndarray,
    speed_m_s: np.ndarray,
    mass_kg: np.ndarray,
    ref_area_m2: np.ndarray,
) -> np.ndarray:
    """Altitude at which ``lift_coefficient`` gives the lift acceleration of equilibrium glide.

    ``rho = 2 m a / (CL S V^2)`` inverted through the standard atmosphere.
    """
    return reference_glide_altitude_and_slope(
        lift_coefficient, lift_accel_m_s2, speed_m_s, mass_kg, ref_area_m2
    )[0]


def reference_glide_altitude_and_slope(
    lift_coefficient: np.ndarray,
    lift_accel_m_s2: np.ndarray,
    speed_m_s: np.ndarray,
    mass_kg: np.ndarray,
    ref_area_m2: np.ndarray,
    speed_step_m_s: float = 20.0,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`reference_glide_altitude_m` and its derivative with speed, ``dh/dV`` (s).

    With the lift coefficient and the lift acceleration held, ``rho`` goes as ``1/V^2``;
    the derivative is a difference over ``speed_step_m_s``, which spans several cells of
    the atmosphere table and so stays smooth (the guidance is re-evaluated inside
    adaptive integrators too).
    """
    speed = np.maximum(speed_m_s, speed_step_m_s + 1.0)
    log_rho = np.log(
        2.0
        * mass_kg
        * np.maximum(lift_accel_m_s2, 0.05)
        / (np.maximum(lift_coefficient, 1e-3) * ref_area_m2 * speed * speed)
    )
    alt = altitude_for_log_density_fast(log_rho)
    slower = altitude_for_log_density_fast(log_rho + 2.0 * np.log(speed / (speed - speed_step_m_s)))
    return alt, (alt - slower) * (1.0 / speed_step_m_s)


def proportional_navigation(
    r_m: np.ndarray, v_m_s: np.ndarray, aim_m: np.ndarray, nav_gain: float | np.ndarray
) -> np.ndarray:
    """True proportional navigation towards a fixed point, acceleration (3, n) ([2] ch. 2).

    ``a = N' Vc (Omega x u_los)`` with ``Omega`` the line-of-sight rate and ``Vc`` the
    closing speed. Gravity compensation is added by the caller. Vectors (3, n), ECEF.
    """
    rel = aim_m - r_m
    dist2 = dot(rel, rel)
    dist = np.sqrt(dist2)
    omega = cross(rel, -v_m_s) * (1.0 / dist2)
    closing = dot(rel, v_m_s) / dist
    return (nav_gain * closing) * cross(omega, rel * (1.0 / dist))


def dive_due(
    range_to_go_m: np.ndarray,
    alt_m: np.ndarray,
    speed_m_s: np.ndarray,
    max_lift_accel_m_s2: np.ndarray,
    margin: float,
) -> np.ndarray:
    """Whether a vehicle in level flight should start its terminal dive now.

    The circular arc from level flight through a point ``d`` ahead and ``h`` below has
    radius ``(d^2 + h^2) / (2 h)``; the tightest radius the vehicle can turn, pulling
    down with gravity, is ``V^2 / (a_lift_max + g)``. The dive starts when the arc needs
    ``margin`` of that turn capability (its radius is the tightest radius / margin),
    leaving the rest for the proportional-navigation corrections.
    """
    needed = (range_to_go_m**2 + alt_m**2) / (2.0 * np.maximum(alt_m, 1.0))
    return needed * margin <= speed_m_s**2 / (max_lift_accel_m_s2 + 9.80665)


def pitch_programme_direction(
    up: np.ndarray, horizontal: np.ndarray, pitch_rad: np.ndarray
) -> np.ndarray:
    """Thrust direction (3, n) at ``pitch`` above the local horizontal, towards ``horizontal``."""
    return np.cos(pitch_rad) * horizontal + np.sin(pitch_rad) * up


def kepler_velocity_for_range(
    r_m: np.ndarray,
    r_target_m: np.ndarray,
    range_angle_rad: np.ndarray,
    flight_path_rad: np.ndarray,
    gm: float = GM_EARTH_M3_S2,
) -> np.ndarray:
    """Speed on a Kepler conic from radius r1 to r2 over a range angle at a flight-path angle.

    ``v^2 = gm (1 - cos psi) / (r1 cos g [(r1 / r2) cos g - cos(psi + g)])`` ([5] ch. 6,
    from the conic equation with ``p = r1^2 v^2 cos^2 g / gm``).
    """
    cg = np.cos(flight_path_rad)
    denom = r_m * cg * ((r_m / r_target_m) * cg - np.cos(range_angle_rad + flight_path_rad))
    return np.sqrt(gm * (1.0 - np.cos(range_angle_rad)) / np.maximum(denom, 1e-6))


def kepler_time_of_flight_s(
    r_m: np.ndarray,
    speed_m_s: np.ndarray,
    flight_path_rad: np.ndarray,
    range_angle_rad: np.ndarray,
    gm: float = GM_EARTH_M3_S2,
) -> np.ndarray:
    """Time to fly a range angle on the elliptic conic through (r, v, gamma), s ([4] ch. 6).

    Eccentric anomalies of the start and end points through Kepler's equation.
    """
    cg = np.cos(flight_path_rad)
    p = (r_m * speed_m_s * cg) ** 2 / gm
    a = 1.0 / (2.0 / r_m - speed_m_s**2 / gm)
    e = np.sqrt(np.maximum(1.0 - p / a, 1e-16))
    cos_nu1 = np.clip((p / r_m - 1.0) / e, -1.0, 1.0)
    nu1 = np.where(flight_path_rad >= 0.0, np.arccos(cos_nu1), -np.arccos(cos_nu1))
    nu2 = nu1 + range_angle_rad
    k = np.sqrt((1.0 - e) / (1.0 + e))
    e1 = 2.0 * np.arctan(k * np.tan(0.5 * nu1))
    e2 = 2.0 * np.arctan(k * np.tan(0.5 * nu2))
    m1 = e1 - e * np.sin(e1)
    m2 = e2 - e * np.sin(e2)
    dm = np.mod(m2 - m1, 2.0 * np.pi)
    return dm * np.sqrt(a**3 / gm)


def minimum_energy_flight_path_rad(range_angle_rad: np.ndarray) -> np.ndarray:
    """Flight-path angle of the minimum-energy trajectory, ``(pi - psi) / 4`` ([5] ch. 6)."""
    return 0.25 * (np.pi - range_angle_rad)


def minimum_energy_speed_m_s(
    range_angle_rad: np.ndarray, radius_m: float | np.ndarray, gm: float = GM_EARTH_M3_S2
) -> np.ndarray:
    """Burnout speed of the minimum-energy trajectory between two points at one radius.

    ``Q = v^2 r / gm = 2 sin(psi/2) / (1 + sin(psi/2))`` ([5] ch. 6, eq. 6.2-17).
    """
    s = np.sin(0.5 * range_angle_rad)
    return np.sqrt(2.0 * s / (1.0 + s) * gm / radius_m)
