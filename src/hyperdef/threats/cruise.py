"""Hypersonic cruise missile: solid boost to cruise, scramjet cruise holding altitude
and Mach, terminal dive.

The cruiser holds its commanded altitude with lift (a damped second-order loop on
altitude error and sink rate), its commanded Mach number with scramjet thrust (drag
plus a proportional speed correction, limited to the engine's maximum and cut when
the fuel is spent), and its heading along the great circle to the aim point. When
the fuel runs out it glides on; near the aim it dives with proportional navigation.

References
----------
.. [1] W. H. Heiser, D. T. Pratt, *Hypersonic Airbreathing Propulsion*, AIAA, 1994,
   ch. 1 (cruise performance; Breguet range ``R = V Isp (L/D) ln(m0 / m1)``).
.. [2] P. Zarchan, *Tactical and Strategic Missile Guidance*, 6th ed., AIAA, 2012, ch. 2.
.. [3] Air & Space Forces Magazine, "X-51A Sets Air-Breathing Hypersonic Record", May
   2013 (Mach 5.1 near 18 km, about 240 s of scramjet flight, over 230 nmi).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hyperdef.core.atmosphere import ussa76
from hyperdef.core.dynamics import GROUND_IMPACT, approx_altitude_m, point_mass_derivative
from hyperdef.core.earth import G0_M_S2
from hyperdef.core.integrate import Controls, Event
from hyperdef.threats.boost import fly_after_boost, fly_boost, pitch_programme
from hyperdef.threats.guidance import (
    alpha_bank_from_lift,
    dive_due,
    dot,
    flight_state,
    heading_error_rad,
    steer_dives,
    unit,
)
from hyperdef.threats.launch import assemble, launch_geometry, pad_state
from hyperdef.threats.trajectory import PHASE_CODE, Trajectory
from hyperdef.threats.vehicles import HCM_BOOSTER, HCM_CRUISER, Booster, Cruiser

MODE_CRUISE, MODE_DIVE, MODE_GLIDE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class CruiseGuidance:
    """Gains of the cruise and dive guidance.

    Attributes
    ----------
    altitude_omega_rad_s, altitude_zeta : float
        Natural frequency (rad/s) and damping of the altitude loop.
    max_vertical_cmd_m_s2 : float
        Limit of the altitude loop's correction, m/s^2.
    speed_gain_per_s : float
        Thrust per unit mass per m/s of speed error, 1/s.
    heading_gain_per_s : float
        Turn rate per radian of heading error, 1/s.
    max_lateral_m_s2 : float
        Limit of the heading loop, m/s^2.
    dive_turn_margin : float
        Fraction of the turn capability the dive may plan to use (see ``dive_due``).
    nav_gain : float
        Navigation ratio of the dive.
    """

    altitude_omega_rad_s: float = 0.03
    altitude_zeta: float = 0.8
    max_vertical_cmd_m_s2: float = 15.0
    speed_gain_per_s: float = 0.05
    heading_gain_per_s: float = 0.03
    max_lateral_m_s2: float = 15.0
    dive_turn_margin: float = 0.5
    nav_gain: float = 4.0


@dataclass(frozen=True, slots=True)
class CruiseSystem:
    """Powered cruise, glide and dive of a batch of cruise missiles (an integrator System)."""

    cruiser: Cruiser
    aim_ecef_m: np.ndarray
    aim_unit: np.ndarray
    aim_radius_m: np.ndarray
    cruise_speed_m_s: np.ndarray
    guidance: CruiseGuidance
    impact_alt_m: np.ndarray
    events: tuple[Event, ...] = (GROUND_IMPACT,)

    def controls(
        self, t: np.ndarray, y: np.ndarray, idx: np.ndarray, mode: np.ndarray
    ) -> tuple[Controls, np.ndarray]:
        g = self.guidance
        c = self.cruiser
        st = flight_state(y, self.aim_unit[:, idx], self.aim_radius_m[idx])
        area = np.full(idx.size, c.ref_area_m2)
        mass, alt, speed, mach, q = st.mass, st.alt, st.speed, st.mach, st.dynamic_pressure
        range_to_go, sink = st.range_to_go, st.sink
        fuel_left = mass > c.dry_mass_kg + 1e-6
        dive = dive_due(
            range_to_go,
            alt,
            speed,
            q * c.aero.max_lift_coefficient(mach) * area / mass,
            g.dive_turn_margin,
        )
        mode = np.where(
            (mode == MODE_DIVE) | dive, MODE_DIVE, np.where(fuel_left, MODE_CRUISE, MODE_GLIDE)
        )
        w = g.altitude_omega_rad_s
        correction = np.clip(
            w * w * (c.cruise_alt_m - alt) - 2.0 * g.altitude_zeta * w * sink,
            -g.max_vertical_cmd_m_s2,
            g.max_vertical_cmd_m_s2,
        )
        a_up = (st.hold_alt_accel + correction) / np.maximum(dot(st.e_up, st.up), 0.1)
        a_side = np.clip(
            g.heading_gain_per_s * speed * heading_error_rad(st.v, st.to_aim, st.up),
            -g.max_lateral_m_s2,
            g.max_lateral_m_s2,
        )
        diving = np.flatnonzero(mode == MODE_DIVE)
        steer_dives(st, diving, self.aim_ecef_m[idx[diving]], g.nav_gain, a_up, a_side)
        u = alpha_bank_from_lift(
            a_up, a_side, q, mass, area, lambda cl: c.aero.alpha_for_lift_coefficient(cl, mach)
        )
        _, cd = c.aero.coefficients(u["alpha"], mach)
        thrust = q * area * cd + mass * g.speed_gain_per_s * (self.cruise_speed_m_s[idx] - speed)
        u["thrust_n"] = np.where(mode == MODE_CRUISE, np.clip(thrust, 0.0, c.max_thrust_n), 0.0)
        u["isp_s"] = np.full(idx.size, c.isp_s)
        u["thrust_dir"] = st.u.T
        return u, mode

    def derivative(self, t: np.ndarray, y: np.ndarray, idx: np.ndarray, u: Controls) -> np.ndarray:
        out = point_mass_derivative(
            t, y, np.full(idx.size, self.cruiser.ref_area_m2), self.cruiser.aero, u
        )
        empty = y[:, 6] <= self.cruiser.dry_mass_kg  # no thrust without fuel
        if empty.any():
            out[empty, 3:6] -= (u["thrust_n"][empty] / y[empty, 6])[:, None] * u["thrust_dir"][
                empty
            ]
            out[empty, 6] = 0.0
        return out

    def event_values(self, t: np.ndarray, y: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return (approx_altitude_m(y[:, 0:3]) - self.impact_alt_m[idx])[:, None]


@dataclass(frozen=True, slots=True)
class CruiseBoostPlan:
    """Pitch programme of the cruise missile's booster.

    Attributes
    ----------
    vertical_s : float
        Vertical rise, s.
    pitch_end_fraction : float
        Fraction of the burn time at which the pitch programme ends.
    final_pitch_deg : float
        Final thrust pitch above the horizon, deg.
    """

    vertical_s: float = 3.0
    pitch_end_fraction: float = 0.7
    final_pitch_deg: float = 4.0


def fly_hcm(
    launch_lla: np.ndarray,
    aim_lla: np.ndarray,
    t_launch_s: np.ndarray,
    *,
    cruiser: Cruiser = HCM_CRUISER,
    booster: Booster = HCM_BOOSTER,
    plan: CruiseBoostPlan = CruiseBoostPlan(),
    guidance: CruiseGuidance = CruiseGuidance(),
    dt_s: float = 0.25,
    record_dt_s: float = 1.0,
    isp_scale: np.ndarray | None = None,
    max_flight_s: float = 7_200.0,
) -> Trajectory:
    """Fly a batch of hypersonic cruise missiles from launch to impact.

    Parameters
    ----------
    launch_lla, aim_lla : ndarray, shape (B, 3)
        Launch and aim points (lat rad, lon rad, alt m).
    t_launch_s : ndarray, shape (B,)
        Launch times, s from the epoch.
    cruiser, booster, plan, guidance
        Vehicle and guidance parameters.
    dt_s : float
        Integration step, s.
    record_dt_s : float
        Interval of the recorded samples, s.
    isp_scale : ndarray, shape (B,), optional
        Booster specific-impulse multiplier per vehicle (dispersions).
    max_flight_s : float
        Flight-time limit, s.
    """
    launch_ecef, aim_ecef, _ = launch_geometry(launch_lla, aim_lla)
    n = launch_ecef.shape[0]
    t_launch_s = np.asarray(t_launch_s, float)
    programme = pitch_programme(
        booster, n, plan.vertical_s, plan.pitch_end_fraction, plan.final_pitch_deg
    )
    mass0 = booster.launch_mass_kg(cruiser.dry_mass_kg + cruiser.fuel_mass_kg)
    record_every = max(1, round(record_dt_s / dt_s))
    boost = fly_boost(
        booster,
        "pitch",
        t_launch_s,
        pad_state(launch_ecef, mass0),
        aim_ecef,
        programme,
        dt_s,
        record_every,
        isp_scale=isp_scale,
    )
    cruise_speed = cruiser.cruise_mach * float(ussa76(cruiser.cruise_alt_m).speed_of_sound)
    system = CruiseSystem(
        cruiser=cruiser,
        aim_ecef_m=aim_ecef,
        aim_unit=unit(aim_ecef.T),
        aim_radius_m=np.sqrt(np.einsum("ij,ij->i", aim_ecef, aim_ecef)),
        cruise_speed_m_s=np.full(n, cruise_speed),
        guidance=guidance,
        impact_alt_m=np.asarray(aim_lla, float)[:, 2],
    )
    res = fly_after_boost(
        system,
        boost,
        cruiser.dry_mass_kg + cruiser.fuel_mass_kg,
        t_launch_s,
        max_flight_s,
        dt_s,
        record_every=record_every,
    )
    codes = np.array([PHASE_CODE["cruise"], PHASE_CODE["dive"], PHASE_CODE["glide"]])
    parts = [(p.samples, PHASE_CODE["boost"]) for p in boost.phases]
    parts.append((res.samples, codes[res.samples.mode]))
    impact = boost.crashed | (res.status == 0)
    return assemble(
        np.full(n, "hcm"), parts, np.full(n, cruiser.nose_radius_m), launch_lla, aim_lla, impact
    )


def breguet_range_m(
    speed_m_s: float,
    isp_s: float,
    lift_to_drag: float,
    mass_ratio: float,
    effective_gravity_m_s2: float = G0_M_S2,
) -> float:
    """Breguet cruise range ``V Isp (g0 / g_eff) (L/D) ln(m0 / m1)``, m ([1] ch. 1).

    Level cruise with thrust equal to drag and lift equal to the effective weight
    ``m g_eff``; over a round Earth ``g_eff = g - V^2 / r``.
    """
    return (
        speed_m_s * isp_s * (G0_M_S2 / effective_gravity_m_s2) * lift_to_drag * np.log(mass_ratio)
    )
