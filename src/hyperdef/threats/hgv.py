"""Hypersonic boost-glide vehicle: booster, pull-out, guided equilibrium glide, terminal dive.

The glide guidance is a predictor-corrector on the Eggers equilibrium-glide range:
every guidance step it finds the lift-to-drag ratio that spends the vehicle's speed
exactly over the range left ([1]), takes the angle of attack of that L/D on the
high-alpha side of the polar (the energy-wasting side, so the vehicle can always
stretch by returning to max L/D), and flies the altitude at which that angle of attack
holds equilibrium glide. A second-order loop on altitude error and sink rate commands
the vertical lift (it damps the phugoid); heading to the aim point is held by the
lateral lift. Manoeuvre plans add bank-angle S-turns (``weave``) or a pull-up of the
reference altitude (``skip``). Near the aim, proportional navigation with gravity
compensation dives onto it ([2]).

References
----------
.. [1] D. R. Eggers, H. J. Allen, S. E. Neice, NACA Report 1382, 1958.
.. [2] P. Zarchan, *Tactical and Strategic Missile Guidance*, 6th ed., AIAA, 2012, ch. 2.
.. [3] N. X. Vinh, A. Busemann, R. D. Culp, *Hypersonic and Planetary Entry Flight
   Mechanics*, University of Michigan Press, 1980, ch. 7 (phugoid of the glide).
.. [4] C. Acton, "Hypersonic Boost-Glide Weapons", Science & Global Security 23,
   2015, doi:10.1080/08929882.2015.1087242 (boost, pull-up and glide phases).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hyperdef.core.dynamics import GROUND_IMPACT, approx_altitude_m, point_mass_derivative
from hyperdef.core.integrate import Controls, Event
from hyperdef.threats.aero import CavHAero
from hyperdef.threats.boost import fly_after_boost, fly_boost, pitch_programme
from hyperdef.threats.guidance import (
    alpha_bank_from_lift,
    dive_due,
    dot,
    eggers_speed_for_range,
    flight_state,
    heading_error_rad,
    reference_glide_altitude_and_slope,
    required_lift_to_drag,
    steer_dives,
    unit,
)
from hyperdef.threats.launch import assemble, launch_geometry, pad_state
from hyperdef.threats.trajectory import PHASE_CODE, Trajectory
from hyperdef.threats.vehicles import CAV_H, STARS_BOOSTER, Booster, Glider

MANEUVERS = ("none", "weave", "skip")
MODE_GLIDE, MODE_DIVE, MODE_PULLOUT = 0, 1, 2
_SETTLED_ALT_M = 3_000.0
_SETTLED_SINK_M_S = 100.0
_FULL_LIFT_M_S2 = 1e3  # a command the angle-of-attack limit always caps
_SKIP_SINK_PART = 0.35  # fraction of the skip window spent sinking before the pull-up
_SPEED_ITERATIONS = 12


@dataclass(frozen=True, slots=True)
class GlideGuidance:
    """Gains and settings of the glide and dive guidance.

    Attributes
    ----------
    update_period_s : float
        Interval between guidance updates, s; commands are held in between. Entry
        guidance computers cycle on this order (the Space Shuttle's entry guidance ran
        every 1.92 s: J. C. Harpold, C. A. Graves, "Shuttle Entry Guidance", J.
        Astronautical Sciences 27(3), 1979).
    terminal_speed_m_s : float
        Speed the range predictor plans to reach at the start of the dive, m/s.
    dive_range_per_alt : float
        Ground range of the dive per unit altitude, used by the range predictor.
    dive_turn_margin : float
        Fraction of the turn capability the dive may plan to use (see ``dive_due``).
    altitude_omega_rad_s, altitude_zeta : float
        Natural frequency (rad/s) and damping of the altitude loop.
    max_vertical_cmd_m_s2 : float
        Limit on the altitude loop's correction, m/s^2.
    max_sink_rate_m_s : float
        Limit on the climb or sink rate the altitude loop asks for, m/s.
    heading_gain_per_s : float
        Turn rate commanded per radian of heading error, 1/s.
    max_lateral_m_s2 : float
        Limit on the heading-hold lateral acceleration, m/s^2.
    nav_gain : float
        Effective navigation ratio N' of the terminal dive.
    weave_amplitude_rad, weave_period_s : float
        Bank amplitude and period of the ``weave`` S-turns.
    skip_dip_m, skip_rise_m : float
        How far the ``skip`` manoeuvre first lowers, then raises the reference altitude, m.
    skip_climb_rate_m_s : float
        Climb rate the altitude loop may ask for during the skip, m/s (a steep pull-up
        that coasts the vehicle above the air that could hold it).
    skip_window : tuple of float
        Fractions of the glide range over which the skip's reference rises and falls.
    """

    update_period_s: float = 1.0
    terminal_speed_m_s: float = 1_600.0
    dive_range_per_alt: float = 2.0
    dive_turn_margin: float = 0.5
    altitude_omega_rad_s: float = 0.02
    altitude_zeta: float = 0.8
    max_vertical_cmd_m_s2: float = 10.0
    max_sink_rate_m_s: float = 150.0
    heading_gain_per_s: float = 0.02
    max_lateral_m_s2: float = 10.0
    nav_gain: float = 4.0
    weave_amplitude_rad: float = np.radians(40.0)
    weave_period_s: float = 150.0
    skip_dip_m: float = 8_000.0
    skip_rise_m: float = 20_000.0
    skip_climb_rate_m_s: float = 600.0
    skip_window: tuple[float, float] = (0.4, 0.7)


@dataclass(frozen=True, slots=True)
class GlideSystem:
    """Unpowered glide and dive of a batch of gliders (an integrator ``System``).

    Attributes are per-vehicle arrays of shape (B,) or (B, 3); ``aim_unit`` is the
    geocentric unit vector of the aim point, component-major (3, B), and
    ``aim_radius_m`` its distance from the Earth's centre (B,); the flight ends when the
    altitude falls to ``impact_alt_m`` (B,), the aim point's altitude (m).
    """

    aero: CavHAero
    ref_area_m2: np.ndarray
    aim_ecef_m: np.ndarray
    aim_unit: np.ndarray
    aim_radius_m: np.ndarray
    maneuver: np.ndarray
    t_glide_start_s: np.ndarray
    glide_range_m: np.ndarray
    guidance: GlideGuidance
    impact_alt_m: np.ndarray
    events: tuple[Event, ...] = (GROUND_IMPACT,)

    def controls(
        self, t: np.ndarray, y: np.ndarray, idx: np.ndarray, mode: np.ndarray
    ) -> tuple[Controls, np.ndarray]:
        g = self.guidance
        st = flight_state(y, self.aim_unit[:, idx], self.aim_radius_m[idx])
        area = self.ref_area_m2[idx]
        mass, alt, speed, mach, q = st.mass, st.alt, st.speed, st.mach, st.dynamic_pressure
        range_to_go, sink, radius, hold_alt = st.range_to_go, st.sink, st.radius, st.hold_alt_accel

        # range predictor: L/D that spends the speed over the range left
        glide_left = np.maximum(range_to_go - g.dive_range_per_alt * alt, 0.0)
        ld_req = required_lift_to_drag(glide_left, speed, g.terminal_speed_m_s, radius)
        polar = self.aero.at_mach(mach)
        alpha_cmd = polar.alpha_for_lift_to_drag(np.minimum(ld_req, 50.0))
        cl_cmd, cd_cmd = polar.coefficients(alpha_cmd)
        # the reference falls as the vehicle slows (drag = lift / (L/D) in equilibrium);
        # feeding its rate forward removes the lag of the altitude loop behind it
        h_ref, dh_dv = reference_glide_altitude_and_slope(cl_cmd, hold_alt, speed, mass, area)
        sink_ref = dh_dv * (-hold_alt * cd_cmd / cl_cmd)
        # pull-out until the vehicle first settles near its reference, then glide, then dive
        settled = (np.abs(alt - h_ref) < _SETTLED_ALT_M) & (np.abs(sink) < _SETTLED_SINK_M_S)
        mode = np.where((mode == MODE_PULLOUT) & settled, MODE_GLIDE, mode)
        cl_max = polar.max_lift_coefficient()
        dive = dive_due(range_to_go, alt, speed, q * cl_max * area / mass, g.dive_turn_margin)
        mode = np.where(dive, MODE_DIVE, mode)
        man = self.maneuver[idx]
        flown = 1.0 - range_to_go / np.maximum(self.glide_range_m[idx], 1.0)
        lo, hi = g.skip_window
        # the skip: over the window, first sink into denser air (where the lift to pull up
        # is), then pull up and coast above the reference, then settle back
        x = (flown - lo) / (hi - lo)
        skipping = (man == MANEUVERS.index("skip")) & (x > 0.0) & (x < 1.0) & (mode == MODE_GLIDE)
        sinking = x < _SKIP_SINK_PART
        climb_limit = g.max_sink_rate_m_s
        if skipping.any():
            offset = np.where(
                sinking,
                -g.skip_dip_m * np.sin(np.pi * x / _SKIP_SINK_PART),
                g.skip_rise_m * np.sin(np.pi * (x - _SKIP_SINK_PART) / (1.0 - _SKIP_SINK_PART)),
            )
            h_ref = h_ref + np.where(skipping, offset, 0.0)
            climb_limit = np.where(skipping, g.skip_climb_rate_m_s, g.max_sink_rate_m_s)
        w = g.altitude_omega_rad_s
        # altitude error -> sink-rate demand (limited, so a vehicle far above its reference
        # descends at a bounded rate instead of diving into dense air), then sink-rate loop;
        # for small errors this is the PD law w^2 dh + 2 zeta w (dh/dt)
        sink_demand = sink_ref + np.clip(
            w / (2.0 * g.altitude_zeta) * (h_ref - alt), -g.max_sink_rate_m_s, climb_limit
        )
        correction = np.clip(
            2.0 * g.altitude_zeta * w * (sink_demand - sink),
            -g.max_vertical_cmd_m_s2,
            g.max_vertical_cmd_m_s2,
        )
        # the skip's pull-up: all the lift the vehicle has, until it climbs at the skip rate
        pulling = (
            skipping
            & ~sinking
            & (x < 0.5 * (1.0 + _SKIP_SINK_PART))
            & (sink < g.skip_climb_rate_m_s)
        )
        correction = np.where(pulling, _FULL_LIFT_M_S2, correction)
        # vertical lift along e_up (tilted from the vertical by the flight-path angle)
        a_up = (hold_alt + correction) / np.maximum(dot(st.e_up, st.up), 0.1)
        a_side = np.clip(
            g.heading_gain_per_s * speed * heading_error_rad(st.v, st.to_aim, st.up),
            -g.max_lateral_m_s2,
            g.max_lateral_m_s2,
        )
        weaving = man == MANEUVERS.index("weave")
        if weaving.any():
            weave_bank = g.weave_amplitude_rad * np.sin(
                2.0 * np.pi * (t - self.t_glide_start_s[idx]) / g.weave_period_s
            )
            a_side = a_side + np.where(weaving, np.maximum(a_up, 0.0) * np.tan(weave_bank), 0.0)
        # terminal dive: proportional navigation plus gravity compensation
        diving = np.flatnonzero(mode == MODE_DIVE)
        steer_dives(st, diving, self.aim_ecef_m[idx[diving]], g.nav_gain, a_up, a_side)
        u = alpha_bank_from_lift(a_up, a_side, q, mass, area, polar.alpha_for_lift_coefficient)
        return u, mode

    def derivative(self, t: np.ndarray, y: np.ndarray, idx: np.ndarray, u: Controls) -> np.ndarray:
        return point_mass_derivative(t, y, self.ref_area_m2[idx], self.aero, u)

    def event_values(self, t: np.ndarray, y: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return (approx_altitude_m(y[:, 0:3]) - self.impact_alt_m[idx])[:, None]


@dataclass(frozen=True, slots=True)
class BoostPlan:
    """How the booster delivers the glider (per-class constants).

    Attributes
    ----------
    vertical_s : float
        Vertical rise, s.
    pitch_end_fraction : float
        Fraction of the total burn time at which the pitch programme ends.
    final_pitch_deg : float
        Final thrust pitch above the horizon, deg.
    boost_range_per_speed2 : float
        Ground range covered from launch to the start of the glide per square of the
        glide start speed, m/(m/s)^2 (the boost range grows with the energy given; 0.0255
        puts 450 km behind a 4.2 km/s burnout, as flown with the default programme).
    planning_lift_to_drag : float
        L/D at which the glide start speed is sized: below the glider's maximum so the
        guidance can both stretch and shorten the glide.
    """

    vertical_s: float = 6.0
    pitch_end_fraction: float = 0.55
    final_pitch_deg: float = 5.0
    boost_range_per_speed2: float = 0.0255
    planning_lift_to_drag: float = 2.9


def fly_hgv(
    launch_lla: np.ndarray,
    aim_lla: np.ndarray,
    t_launch_s: np.ndarray,
    maneuver: np.ndarray,
    *,
    glider: Glider = CAV_H,
    booster: Booster = STARS_BOOSTER,
    plan: BoostPlan = BoostPlan(),
    guidance: GlideGuidance = GlideGuidance(),
    dt_s: float = 0.5,
    boost_dt_s: float = 0.25,
    record_dt_s: float = 1.0,
    isp_scale: np.ndarray | None = None,
    max_flight_s: float = 7_200.0,
) -> Trajectory:
    """Fly a batch of boost-glide vehicles from launch to impact.

    Parameters
    ----------
    launch_lla, aim_lla : ndarray, shape (B, 3)
        Launch and aim points (lat rad, lon rad, alt m).
    t_launch_s : ndarray, shape (B,)
        Launch times, s from the epoch.
    maneuver : ndarray of int, shape (B,)
        Index into :data:`MANEUVERS`.
    glider, booster, plan, guidance
        Vehicle and guidance parameters.
    dt_s, boost_dt_s : float
        Integration steps of the glide and of the boost, s.
    record_dt_s : float
        Interval of the recorded samples, s.
    isp_scale : ndarray, shape (B,), optional
        Booster specific-impulse multiplier per vehicle (dispersions).
    max_flight_s : float
        Flight-time limit, s.

    Returns
    -------
    Trajectory
    """
    launch_ecef, aim_ecef, range_m = launch_geometry(launch_lla, aim_lla)
    n = range_m.size
    radius = np.sqrt(np.einsum("ij,ij->i", aim_ecef, aim_ecef))
    v0, glide_range = glide_start_speed(range_m, radius, plan, guidance.terminal_speed_m_s)
    programme = pitch_programme(
        booster,
        n,
        plan.vertical_s,
        plan.pitch_end_fraction,
        plan.final_pitch_deg,
        cutoff_speed_m_s=v0,
    )
    y0 = pad_state(launch_ecef, booster.launch_mass_kg(glider.mass_kg))
    t_launch_s = np.asarray(t_launch_s, float)
    boost = fly_boost(
        booster,
        "pitch",
        t_launch_s,
        y0,
        aim_ecef,
        programme,
        boost_dt_s,
        max(1, round(record_dt_s / boost_dt_s)),
        isp_scale=isp_scale,
    )
    system = GlideSystem(
        aero=glider.aero,
        ref_area_m2=np.full(n, glider.ref_area_m2),
        aim_ecef_m=aim_ecef,
        aim_unit=unit(aim_ecef.T),
        aim_radius_m=radius,
        maneuver=np.asarray(maneuver, np.int64),
        t_glide_start_s=boost.t,
        glide_range_m=glide_range,
        guidance=guidance,
        impact_alt_m=np.asarray(aim_lla, float)[:, 2],
    )
    glide = fly_after_boost(
        system,
        boost,
        glider.mass_kg,
        t_launch_s,
        max_flight_s,
        dt_s,
        mode0=np.full(n, MODE_PULLOUT),
        record_every=max(1, round(record_dt_s / dt_s)),
        control_every=max(1, round(guidance.update_period_s / dt_s)),
    )
    parts = [(res.samples, PHASE_CODE["boost"]) for res in boost.phases]
    codes = np.empty(3, np.int64)
    codes[[MODE_GLIDE, MODE_DIVE, MODE_PULLOUT]] = [
        PHASE_CODE["glide"],
        PHASE_CODE["dive"],
        PHASE_CODE["pullout"],
    ]
    glide_phase = codes[glide.samples.mode]
    glide_phase[coasting_up(glide.samples, n)] = PHASE_CODE["coast"]
    impact = boost.crashed | (glide.status == 0)
    return assemble(
        np.full(n, "hgv"),
        parts + [(glide.samples, glide_phase)],
        np.full(n, glider.nose_radius_m),
        launch_lla,
        aim_lla,
        impact,
    )


def glide_start_speed(
    range_m: np.ndarray, radius_m: np.ndarray, plan: BoostPlan, terminal_speed_m_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Glide start speed (m/s) and glide range (m) that together cover ``range_m``.

    Solves ``range = k V0^2 + R_Eggers(V0)`` (boost range plus equilibrium-glide range at
    the planning L/D) by fixed-point iteration.
    """
    vf = np.full(range_m.shape, terminal_speed_m_s)
    v0 = np.full(range_m.shape, 3_000.0)
    for _ in range(_SPEED_ITERATIONS):
        glide_range = np.maximum(range_m - plan.boost_range_per_speed2 * v0**2, 0.0)
        v0 = eggers_speed_for_range(glide_range, plan.planning_lift_to_drag, vf, radius_m)
    return v0, glide_range


def coasting_up(samples, n_objects: int) -> np.ndarray:
    """Rows of the pull-out phase that lie before its highest point: the unpowered arc
    that carries the glider up after burnout, before it falls back into the air.

    ``samples`` are sorted by object and time (as :func:`integrate` returns them).
    """
    pullout = samples.mode == MODE_PULLOUT
    radius = np.sqrt(np.einsum("ij,ij->i", samples.y[:, 0:3], samples.y[:, 0:3]))
    height = np.where(pullout, radius, -np.inf)
    # time of each object's highest pull-out sample: the first row reaching its maximum
    top = np.full(n_objects, -np.inf)
    np.maximum.at(top, samples.index, height)
    is_top = pullout & (height == top[samples.index])
    t_top = np.full(n_objects, -np.inf)
    np.maximum.at(t_top, samples.index[is_top], samples.t[is_top])
    return pullout & (samples.t < t_top[samples.index])
