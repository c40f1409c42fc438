"""3-DOF flight of a batch of interceptors of one class over the rotating Earth.

The state of each interceptor is its ECEF position r and velocity v (m, m/s; velocity
relative to the Earth), its mass m (kg) and the achieved lateral acceleration a_L (m/s^2,
the output of the first-order autopilot). The equations of motion are

    dr/dt   = v
    dv/dt   = g_J2(r) - 2 w x v - w x (w x r) + (T - D)/m v_hat + a_L,perp
    dm/dt   = -mdot_stage - |a_L,thrusters| m / (Isp_div g0)
    da_L/dt = (a_c - a_L) / T_ap     (solved exactly over each step)

with J2 gravity and the Coriolis and centrifugal terms (Vallado 2013, ch. 3), drag
``D = q S C_D(M)`` from the 1976 standard atmosphere, thrust along the velocity, and the
commanded lateral acceleration a_c held over each step (a sampled-data autopilot). Only
the part of a_L perpendicular to the velocity acts (a point mass cannot push itself
along its path by turning). Steps are classical RK4; the caller keeps every stage burnout
on a step boundary (:meth:`InterceptorFlight.next_event_s`), so thrust and mass flow are
constant inside each step and the scheme keeps its fourth order.

References
----------
.. [1] D. A. Vallado, *Fundamentals of Astrodynamics and Applications*, 4th ed., 2013,
   ch. 3 (rotating frames) and ch. 8 (J2 gravity).
.. [2] P. Zarchan, *Tactical and Strategic Missile Guidance*, 6th ed., AIAA, 2012, ch. 4
   (first-order flight control system) and ch. 22 (divert propellant consumption).
.. [3] U.S. Standard Atmosphere, 1976, NOAA-S/T 76-1562.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hyperdef.core.atmosphere import ussa76_fast
from hyperdef.core.dynamics import approx_altitude_m
from hyperdef.core.earth import G0_M_S2, OMEGA_EARTH_RAD_S, gravity_j2_components
from hyperdef.engagement.interceptor import InterceptorClass, check_interceptor
from hyperdef.threats.aero import body_drag_factor

#: speed given to an interceptor as it leaves the launcher, m/s (a vertical-launch-system
#: eject or a rail exit; the point-mass model needs a velocity to orient thrust)
LAUNCH_SPEED_M_S = 30.0

_SPEED_FLOOR_M_S = 1.0


def environment_acceleration(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """J2 gravity plus Coriolis and centrifugal acceleration in ECEF, m/s^2, shape (n, 3).

    Parameters
    ----------
    r, v : ndarray, shape (n, 3)
        ECEF position (m) and Earth-relative velocity (m/s).
    """
    gx, gy, gz = gravity_j2_components(r[:, 0], r[:, 1], r[:, 2])
    w2 = OMEGA_EARTH_RAD_S * OMEGA_EARTH_RAD_S
    two_w = 2.0 * OMEGA_EARTH_RAD_S
    out = np.empty_like(r)
    out[:, 0] = gx + w2 * r[:, 0] + two_w * v[:, 1]
    out[:, 1] = gy + w2 * r[:, 1] - two_w * v[:, 0]
    out[:, 2] = gz
    return out


def dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot product of (n, 3) arrays, shape (n,)."""
    return a[:, 0] * b[:, 0] + a[:, 1] * b[:, 1] + a[:, 2] * b[:, 2]


def norm(a: np.ndarray) -> np.ndarray:
    """Row-wise Euclidean norm of an (n, 3) array, shape (n,)."""
    return np.sqrt(dot(a, a))


def perpendicular(a: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """Part of each row of ``a`` perpendicular to the unit vector in the same row."""
    return a - dot(a, unit)[:, None] * unit


@dataclass(slots=True)
class Held:
    """Quantities held constant over one step, per interceptor (shape (n,) or (n, 3))."""

    thrust_n: np.ndarray
    mdot_kg_s: np.ndarray
    drag_area_m2: np.ndarray
    thruster_divert: np.ndarray
    accel_command: np.ndarray
    any_drag: bool = True
    any_divert: bool = True


class InterceptorFlight:
    """Mutable flight state of n interceptors of one class, advanced step by step.

    Parameters
    ----------
    interceptor : InterceptorClass
    r_ecef_m, v_ecef_m_s : ndarray, shape (n, 3)
        Initial position and velocity.
    mass_kg : ndarray, shape (n,)
        Initial mass.
    t_launch_s : ndarray, shape (n,)
        Launch time of each interceptor, s from epoch (stage timing counts from it).
    """

    def __init__(self, interceptor: InterceptorClass, r_ecef_m: np.ndarray,
                 v_ecef_m_s: np.ndarray, mass_kg: np.ndarray, t_launch_s: np.ndarray):
        self.interceptor = check_interceptor(interceptor)
        self.schedule = interceptor.stage_schedule()
        n = len(mass_kg)
        self.r = np.array(r_ecef_m, dtype=float).reshape(n, 3)
        self.v = np.array(v_ecef_m_s, dtype=float).reshape(n, 3)
        self.m = np.array(mass_kg, dtype=float).reshape(n)
        self.a_lat = np.zeros((n, 3))
        self.t_launch = np.broadcast_to(np.asarray(t_launch_s, float), (n,)).copy()
        kv = interceptor.kill_vehicle
        self.dry_mass_kg = kv.mass_kg - kv.divert_propellant_kg
        self._divert_thrust_n = kv.max_divert_accel_m_s2 * kv.mass_kg

    # ----------------------------------------------------------------- per-step state
    def separated(self, t_s: float, idx: np.ndarray) -> np.ndarray:
        """True where the kill vehicle has separated (every stage burnt out)."""
        return t_s - self.t_launch[idx] >= self.schedule.end_s[-1] - 1e-9

    def next_event_s(self, t_s: float, idx: np.ndarray) -> float:
        """Earliest stage burnout after ``t_s`` among interceptors ``idx`` (inf if none)."""
        ends = self.t_launch[idx, None] + self.schedule.end_s[None, :]
        later = ends[ends > t_s + 1e-9]
        return float(later.min()) if later.size else np.inf

    def next_events_s(self, t_s: float | np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Each interceptor's next stage burnout after ``t_s``, s, shape (k,) (inf: none)."""
        ends = self.t_launch[idx, None] + self.schedule.end_s[None, :]
        t = np.asarray(t_s, dtype=float)
        later = ends > (t[:, None] if t.ndim else t) + 1e-9
        return np.where(later, ends, np.inf).min(axis=1)

    def drop_stages(self, t_s: float | np.ndarray, idx: np.ndarray) -> None:
        """Drop the inert mass of every stage whose burnout is at ``t_s`` (one time, or
        one per interceptor)."""
        tau = t_s - self.t_launch[idx]
        hit = np.abs(tau[:, None] - self.schedule.end_s[None, :]) < 1e-9
        drop = hit @ self.schedule.drop_kg
        self.m[idx] -= drop

    def available_accel(self, t_s: float, idx: np.ndarray,
                        air: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """Largest lateral acceleration each interceptor can make now, m/s^2, shape (k,).

        The largest of the aerodynamic limit ``min(n_max g0, q S C_N,max / m)`` (while
        an airframe flies), thrust vectoring ``T sin(delta_max) / m`` (while a stage
        burns), and divert thrust over mass (kill vehicle with propellant left).
        ``air``, the (density kg/m^3, speed of sound m/s) of
        :func:`~hyperdef.core.atmosphere.ussa76_fast` at the interceptors' altitudes,
        is looked up when not given.
        """
        ic = self.interceptor
        r, v, m = self.r[idx], self.v[idx], self.m[idx]
        tau = t_s - self.t_launch[idx]
        stage = self.schedule.burning_stage(tau)
        burning = stage >= 0
        separated = tau >= self.schedule.end_s[-1] - 1e-9
        aero_on = ~separated | (ic.kill_vehicle.steering == "aero")
        if aero_on.any():
            rho, _ = ussa76_fast(approx_altitude_m(r)) if air is None else air
            q = 0.5 * rho * dot(v, v)
        else:  # kill vehicles on thrusters only
            q = np.zeros_like(m)
        load = ic.airframe.max_load_g * G0_M_S2
        if ic.kill_vehicle.steering == "aero":
            load = np.where(separated, ic.kill_vehicle.max_divert_accel_m_s2, load)
        aero = np.where(aero_on, np.minimum(load, q * ic.airframe.ref_area_m2
                                            * ic.airframe.cn_max / m), 0.0)
        thrust = np.where(burning, self.schedule.thrust_n[np.maximum(stage, 0)], 0.0)
        tvc = thrust * np.sin(ic.tvc_max_rad) / m
        divert = np.zeros_like(m)
        if ic.kill_vehicle.steering == "thrusters":
            divert = np.where(separated & (m > self.dry_mass_kg + 1e-9),
                              self._divert_thrust_n / m, 0.0)
        return np.maximum(np.maximum(aero, tvc), divert)

    def out_of_propellant(self, t_s: float, idx: np.ndarray) -> np.ndarray:
        """True where a thruster kill vehicle has used all its divert propellant."""
        if self.interceptor.kill_vehicle.steering != "thrusters":
            return np.zeros(idx.size, dtype=bool)
        return self.separated(t_s, idx) & (self.m[idx] <= self.dry_mass_kg + 1e-9)

    def held(self, t_s: float, idx: np.ndarray, accel_command: np.ndarray) -> Held:
        """Thrust, mass flow, drag area and divert mode for a step from ``t_s``."""
        ic = self.interceptor
        tau = t_s - self.t_launch[idx]
        stage = self.schedule.burning_stage(tau + 1e-9)
        burning = stage >= 0
        k = np.maximum(stage, 0)
        separated = tau >= self.schedule.end_s[-1] - 1e-9
        aero_body = ~separated | (ic.kill_vehicle.steering == "aero")
        launched = tau >= -1e-9
        drag_area = np.where(aero_body & launched, ic.airframe.ref_area_m2, 0.0)
        return Held(
            thrust_n=np.where(burning, self.schedule.thrust_n[k], 0.0),
            mdot_kg_s=np.where(burning, self.schedule.mdot_kg_s[k], 0.0),
            drag_area_m2=drag_area,
            thruster_divert=separated & (ic.kill_vehicle.steering == "thrusters"),
            accel_command=accel_command,
            any_drag=bool(np.any(drag_area > 0.0)),
            any_divert=bool(np.any(separated & (ic.kill_vehicle.steering == "thrusters"))),
        )

    # ----------------------------------------------------------------- dynamics
    def _lateral(self, a0: np.ndarray, command: np.ndarray, s: float | np.ndarray
                 ) -> np.ndarray:
        """Achieved lateral acceleration ``s`` seconds (scalar or (k, 1)) into a step, exact
        for the lag."""
        tau = self.interceptor.time_constant_s
        if tau <= 0.0:
            return command
        return command + (a0 - command) * np.exp(-s / tau)

    def _derivative(self, r, v, m, a_lat, held: Held, env=None, air=None):
        """(dr/dt, dv/dt, dm/dt) by component: the hot kernel of every run (STYLE 1).

        ``env`` (:func:`environment_acceleration` at ``r, v``) and ``air`` (density and
        speed of sound at ``r``) are computed when not given."""
        ic = self.interceptor
        vx, vy, vz = v[:, 0], v[:, 1], v[:, 2]
        speed2 = vx * vx + vy * vy + vz * vz
        np.maximum(speed2, _SPEED_FLOOR_M_S * _SPEED_FLOOR_M_S, out=speed2)
        inv_speed = 1.0 / np.sqrt(speed2)
        if held.any_drag:
            speed = speed2 * inv_speed
            rho, sound = ussa76_fast(approx_altitude_m(r)) if air is None else air
            drag = 0.5 * rho * speed2 * held.drag_area_m2 * ic.airframe.cd0
            drag *= body_drag_factor(speed / sound)
            axial = (held.thrust_n - drag) / m
        else:  # kill vehicles on thrusters only: no drag modelled, skip the atmosphere
            axial = held.thrust_n / m
        ax, ay, az = a_lat[:, 0], a_lat[:, 1], a_lat[:, 2]
        along = (ax * vx + ay * vy + az * vz) / speed2
        lx = ax - along * vx
        ly = ay - along * vy
        lz = az - along * vz
        push = axial * inv_speed
        if env is None:
            env = environment_acceleration(r, v)
        dv = np.empty_like(v)
        dv[:, 0] = env[:, 0] + push * vx + lx
        dv[:, 1] = env[:, 1] + push * vy + ly
        dv[:, 2] = env[:, 2] + push * vz + lz
        dm = -held.mdot_kg_s
        if held.any_divert:
            use = np.sqrt(lx * lx + ly * ly + lz * lz) * m / (ic.kill_vehicle.divert_isp_s
                                                             * G0_M_S2)
            dm = dm - np.where(held.thruster_divert & (m > self.dry_mass_kg), use, 0.0)
        return v, dv, dm

    def step(self, idx: np.ndarray, h_s: float | np.ndarray, held: Held, *,
             env: np.ndarray | None = None,
             air: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Advance interceptors ``idx`` by one RK4 step of ``h_s`` seconds (one length for
        all, or one per interceptor, shape (k,)).

        ``env`` (:func:`environment_acceleration` at the interceptors' states) and ``air``
        (density and speed of sound at their altitudes) are the first stage's, when the
        caller has them already.

        The autopilot lag is not part of the RK4 state: with the command held over the
        step, the achieved acceleration is ``a_c + (a_0 - a_c) exp(-s/T)`` exactly, and
        RK4 evaluates it at its stage times. So a step longer than T (a coast) stays
        stable, where integrating the stiff lag by RK4 would not. Every operation is
        row by row, so an interceptor's step does not depend on the others stepped with it.
        """
        r0, v0, m0 = self.r[idx], self.v[idx], self.m[idx]
        a0 = self.a_lat[idx]
        cmd = held.accel_command
        # one length per row whatever was given: (k,) against the mass, (k, 1) against
        # vectors, so a row's arithmetic is the same whichever rows share its step
        h = np.broadcast_to(np.asarray(h_s, dtype=float), m0.shape)
        hc = h[:, None]
        half = 0.5 * h
        half_c = half[:, None]
        a_half = self._lateral(a0, cmd, half_c)
        k1 = self._derivative(r0, v0, m0, self._lateral(a0, cmd, 0.0), held, env, air)
        k2 = self._derivative(r0 + half_c * k1[0], v0 + half_c * k1[1], m0 + half * k1[2],
                              a_half, held)
        k3 = self._derivative(r0 + half_c * k2[0], v0 + half_c * k2[1], m0 + half * k2[2],
                              a_half, held)
        a_end = self._lateral(a0, cmd, hc)
        k4 = self._derivative(r0 + hc * k3[0], v0 + hc * k3[1], m0 + h * k3[2], a_end, held)
        sixth = h / 6.0
        sixth_c = sixth[:, None]
        self.r[idx] = r0 + sixth_c * (k1[0] + 2.0 * (k2[0] + k3[0]) + k4[0])
        self.v[idx] = v0 + sixth_c * (k1[1] + 2.0 * (k2[1] + k3[1]) + k4[1])
        m1 = m0 + sixth * (k1[2] + 2.0 * (k2[2] + k3[2]) + k4[2])
        if self.interceptor.kill_vehicle.steering == "thrusters":
            m1 = np.where(held.thruster_divert, np.maximum(m1, self.dry_mass_kg), m1)
        self.m[idx] = m1
        self.a_lat[idx] = a_end

    def acceleration(self, idx: np.ndarray, held: Held) -> np.ndarray:
        """Current acceleration dv/dt of interceptors ``idx``, m/s^2, shape (k, 3)."""
        a0 = self._lateral(self.a_lat[idx], held.accel_command, 0.0)
        return self._derivative(self.r[idx], self.v[idx], self.m[idx], a0, held)[1]
