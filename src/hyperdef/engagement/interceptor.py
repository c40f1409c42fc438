"""Interceptor classes: staged booster, kill vehicle, airframe, autopilot and seeker.

An interceptor is a 3-DOF point mass. Its solid stages burn one after another at constant
thrust along the velocity (the same :class:`~hyperdef.threats.vehicles.Stage` as the
threat boosters); the kill vehicle that remains after the last burnout steers with
divert thrusters (exo-atmospheric, limited by thrust and by the divert propellant) or
with its airframe (endo-atmospheric, limited by dynamic pressure and by the structural
load). While a stage burns, thrust-vector control adds a lateral acceleration
``T sin(delta_max) / m``. The flight control system is a first-order lag of time
constant T between the commanded and the achieved lateral acceleration (Zarchan 2012,
ch. 4), and the available lateral acceleration at each instant is the largest of

* aerodynamic: ``min(n_max g0, q S C_N,max / m)`` while an airframe flies,
* thrust vectoring: ``T sin(delta_max) / m`` while a stage burns,
* divert: ``F_div / m`` while divert propellant remains (kill vehicle only).

The two example classes are illustrative and unclassified: their sizes come from open
press figures of the missiles they resemble (named in each docstring); the splits
between stages, specific impulses and burn times are sized to reproduce those figures,
not taken from any specification.

References
----------
.. [1] P. Zarchan, *Tactical and Strategic Missile Guidance*, 6th ed., AIAA, 2012,
   ch. 4 (single time-constant flight control system) and ch. 21-22 (kill vehicle
   divert and axial propulsion, hit-to-kill).
.. [2] G. P. Sutton and O. Biblarz, *Rocket Propulsion Elements*, 9th ed., Wiley, 2017,
   ch. 2-3 (thrust, specific impulse, the rocket equation).
.. [3] E. L. Fleeman, *Tactical Missile Design*, 2nd ed., AIAA, 2006, ch. 2
   (normal-force coefficient of body-wing-tail missiles, manoeuvrability limited by
   dynamic pressure at altitude).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hyperdef.core.earth import G0_M_S2
from hyperdef.errors import InputError
from hyperdef.threats.vehicles import Stage

#: ways a kill vehicle manoeuvres
STEERING = ("thrusters", "aero")


@dataclass(frozen=True, slots=True)
class KillVehicle:
    """What remains after the last stage burns out.

    Attributes
    ----------
    mass_kg : float
        Mass at separation, divert propellant included, kg.
    steering : str
        ``"thrusters"`` (divert and attitude control system, works in vacuum) or
        ``"aero"`` (fins and body lift: needs dynamic pressure).
    max_divert_accel_m_s2 : float
        Largest lateral acceleration, m/s^2: for thrusters the divert thrust over the
        separation mass; for aero the structural load limit.
    divert_propellant_kg : float
        Propellant of the divert thrusters, kg (0 for aero steering).
    divert_isp_s : float
        Specific impulse of the divert thrusters, s.
    kill_radius_m : float
        Miss distance at or below which the target is killed, m (hit-to-kill: the
        combined body radii; a blast-fragmentation warhead: its lethal radius).
    """

    mass_kg: float
    steering: str
    max_divert_accel_m_s2: float
    divert_propellant_kg: float = 0.0
    divert_isp_s: float = 220.0
    kill_radius_m: float = 1.0

    @property
    def divert_delta_v_m_s(self) -> float:
        """Divert velocity budget by the rocket equation, m/s (infinite for aero)."""
        if self.steering == "aero":
            return math.inf
        dry = self.mass_kg - self.divert_propellant_kg
        return self.divert_isp_s * G0_M_S2 * math.log(self.mass_kg / dry)


@dataclass(frozen=True, slots=True)
class Airframe:
    """Aerodynamics of the stack while the booster flies (and of an aero kill vehicle).

    Attributes
    ----------
    ref_area_m2 : float
        Reference (body cross-section) area, m^2.
    cd0 : float
        Zero-lift drag coefficient at Mach 6 on the reference area; scaled with Mach by
        :func:`hyperdef.threats.aero.body_drag_factor`.
    cn_max : float
        Largest normal-force coefficient (trim limit), on the reference area.
    max_load_g : float
        Structural lateral load limit, g.
    """

    ref_area_m2: float
    cd0: float = 0.25
    cn_max: float = 10.0
    max_load_g: float = 30.0


@dataclass(frozen=True, slots=True)
class Seeker:
    """Homing seeker on the kill vehicle.

    Attributes
    ----------
    acquisition_range_m : float
        Range at which the seeker first locks on to the target, m.
    gimbal_limit_rad : float
        Largest angle between the velocity (the body axis of a point-mass model) and
        the line of sight at which the seeker can look, rad.
    angle_noise_rad : float
        Standard deviation of each line-of-sight angle measurement, rad (0 = ideal).
    frame_rate_hz : float
        Measurements per second.
    """

    acquisition_range_m: float
    gimbal_limit_rad: float
    angle_noise_rad: float
    frame_rate_hz: float = 100.0


@dataclass(frozen=True, slots=True)
class InterceptorClass:
    """An interceptor type: stages fired bottom first, then the kill vehicle.

    Attributes
    ----------
    name : str
    stages : tuple of Stage
        Solid stages, bottom first; each burns right after the one below.
    kill_vehicle : KillVehicle
    airframe : Airframe
        Aerodynamics while stages remain; after separation it applies only to an
        ``aero`` kill vehicle.
    time_constant_s : float
        Flight control system (autopilot) time constant T, s (0 = no lag).
    seeker : Seeker
    tvc_max_rad : float
        Largest thrust-vector deflection while a stage burns, rad.
    intercept_alt_min_m, intercept_alt_max_m : float
        Altitudes between which fire control may place an intercept, m: an aerodynamic
        kill vehicle cannot turn in near-vacuum, and a hit-to-kill seeker window cannot
        take the heating of the lower atmosphere.
    """

    name: str
    stages: tuple[Stage, ...]
    kill_vehicle: KillVehicle
    airframe: Airframe
    time_constant_s: float
    seeker: Seeker
    tvc_max_rad: float = math.radians(5.0)
    intercept_alt_min_m: float = 0.0
    intercept_alt_max_m: float = 1.0e6

    @property
    def launch_mass_kg(self) -> float:
        """Mass at launch, kg."""
        return self.kill_vehicle.mass_kg + sum(s.gross_mass_kg for s in self.stages)

    @property
    def burnout_time_s(self) -> float:
        """Time from launch to the last stage's burnout (kill-vehicle separation), s."""
        return sum(s.burn_time_s for s in self.stages)

    def ideal_delta_v_m_s(self) -> float:
        """Tsiolkovsky velocity of the stages with the kill vehicle as payload, m/s."""
        total = 0.0
        above = self.kill_vehicle.mass_kg
        for stage in reversed(self.stages):
            m0 = above + stage.gross_mass_kg
            total += stage.isp_s * G0_M_S2 * math.log(m0 / (m0 - stage.propellant_mass_kg))
            above = m0
        return total

    def stage_schedule(self) -> StageSchedule:
        """Per-stage start and end times, thrusts and masses as arrays."""
        return StageSchedule.of(self)


def _positive(name: str, value: float, unit: str = "", zero_ok: bool = False) -> None:
    value = float(value)
    if not math.isfinite(value) or value < 0.0 or (value == 0.0 and not zero_ok):
        allowed = ">= 0" if zero_ok else "> 0"
        raise InputError(f"{name}: {value:g}{unit} must be a finite number {allowed}")


def check_interceptor(interceptor: InterceptorClass) -> InterceptorClass:
    """Validate an interceptor class; return it unchanged or raise :class:`InputError`.

    The error names the field at fault, e.g. ``stages[1].propellant_mass_kg``.
    """
    name = interceptor.name
    if not interceptor.stages:
        raise InputError(f"{name}.stages: an interceptor needs at least one stage")
    for i, stage in enumerate(interceptor.stages):
        field = f"{name}.stages[{i}]"
        if not stage.propellant_mass_kg > 0.0:
            raise InputError(
                f"{field}.propellant_mass_kg: {stage.propellant_mass_kg:g} kg, a stage "
                "with no propellant cannot fly (must be > 0)"
            )
        if stage.propellant_mass_kg >= stage.gross_mass_kg:
            raise InputError(
                f"{field}.propellant_mass_kg: {stage.propellant_mass_kg:g} kg must be "
                f"below the stage gross mass {stage.gross_mass_kg:g} kg"
            )
        _positive(f"{field}.isp_s", stage.isp_s, " s")
        _positive(f"{field}.burn_time_s", stage.burn_time_s, " s")
    kv = interceptor.kill_vehicle
    if kv.steering not in STEERING:
        raise InputError(f"{name}.kill_vehicle.steering: {kv.steering!r} is not one of "
                         f"{', '.join(STEERING)}")
    _positive(f"{name}.kill_vehicle.mass_kg", kv.mass_kg, " kg")
    if not kv.max_divert_accel_m_s2 > 0.0:
        raise InputError(
            f"{name}.kill_vehicle.max_divert_accel_m_s2: {kv.max_divert_accel_m_s2:g} m/s^2, "
            "a kill vehicle with no divert cannot home (must be > 0)"
        )
    if kv.steering == "thrusters":
        if not kv.divert_propellant_kg > 0.0:
            raise InputError(
                f"{name}.kill_vehicle.divert_propellant_kg: {kv.divert_propellant_kg:g} kg, "
                "thruster steering needs divert propellant (must be > 0)"
            )
        if kv.divert_propellant_kg >= kv.mass_kg:
            raise InputError(
                f"{name}.kill_vehicle.divert_propellant_kg: {kv.divert_propellant_kg:g} kg "
                f"must be below the kill-vehicle mass {kv.mass_kg:g} kg"
            )
        _positive(f"{name}.kill_vehicle.divert_isp_s", kv.divert_isp_s, " s")
    _positive(f"{name}.kill_vehicle.kill_radius_m", kv.kill_radius_m, " m")
    _positive(f"{name}.airframe.ref_area_m2", interceptor.airframe.ref_area_m2, " m^2")
    _positive(f"{name}.airframe.cd0", interceptor.airframe.cd0, zero_ok=True)
    _positive(f"{name}.airframe.cn_max", interceptor.airframe.cn_max, zero_ok=True)
    _positive(f"{name}.airframe.max_load_g", interceptor.airframe.max_load_g, " g")
    _positive(f"{name}.time_constant_s", interceptor.time_constant_s, " s", zero_ok=True)
    seeker = interceptor.seeker
    _positive(f"{name}.seeker.acquisition_range_m", seeker.acquisition_range_m, " m")
    _positive(f"{name}.seeker.angle_noise_rad", seeker.angle_noise_rad, " rad", zero_ok=True)
    _positive(f"{name}.seeker.frame_rate_hz", seeker.frame_rate_hz, " Hz")
    if not 0.0 < seeker.gimbal_limit_rad <= math.pi:
        raise InputError(f"{name}.seeker.gimbal_limit_rad: {seeker.gimbal_limit_rad:g} rad "
                         "outside (0, pi]")
    if not 0.0 <= interceptor.intercept_alt_min_m < interceptor.intercept_alt_max_m:
        raise InputError(f"{name}.intercept_alt_min_m: {interceptor.intercept_alt_min_m:g} m "
                         f"must be >= 0 and below intercept_alt_max_m "
                         f"{interceptor.intercept_alt_max_m:g} m")
    if not 0.0 <= interceptor.tvc_max_rad < 0.5 * math.pi:
        raise InputError(f"{name}.tvc_max_rad: {interceptor.tvc_max_rad:g} rad outside "
                         "[0, pi/2)")
    return interceptor


@dataclass(frozen=True, slots=True)
class StageSchedule:
    """The burn timeline of an interceptor class as arrays (stage k and, last, the KV).

    Attributes
    ----------
    start_s, end_s : ndarray, shape (S,)
        Ignition and burnout of each stage from launch, s.
    thrust_n, mdot_kg_s : ndarray, shape (S,)
        Constant thrust (N) and mass flow (kg/s) of each stage.
    drop_kg : ndarray, shape (S,)
        Mass dropped at each burnout (the stage's inert mass), kg.
    """

    start_s: np.ndarray
    end_s: np.ndarray
    thrust_n: np.ndarray
    mdot_kg_s: np.ndarray
    drop_kg: np.ndarray

    @classmethod
    def of(cls, interceptor: InterceptorClass) -> StageSchedule:
        burn = np.array([s.burn_time_s for s in interceptor.stages])
        end = np.cumsum(burn)
        return cls(
            start_s=end - burn,
            end_s=end,
            thrust_n=np.array([s.thrust_n for s in interceptor.stages]),
            mdot_kg_s=np.array([s.propellant_mass_kg / s.burn_time_s for s in interceptor.stages]),
            drop_kg=np.array([s.inert_mass_kg for s in interceptor.stages]),
        )

    def burning_stage(self, t_since_launch_s: np.ndarray) -> np.ndarray:
        """Index of the stage burning at each time (-1 before launch or after burnout).

        A time exactly on a burnout belongs to the next stage (or to the coast).
        """
        tau = np.asarray(t_since_launch_s, dtype=float)
        k = np.searchsorted(self.end_s, tau, side="right")
        burning = (tau >= 0.0) & (k < self.end_s.size)
        return np.where(burning, k, -1)


#: Glide-phase interceptor class, sized on open figures of the SM-3 Block IIA (21-inch,
#: three solid stages, about 1,500 kg, burnout near 4.5 km/s: CSIS Missile Defense
#: Project, "SM-3", missilethreat.csis.org, 2021) with a 30 kg kill vehicle whose divert
#: system gives 10 g and about 0.6 km/s (Zarchan 2012 ch. 22 uses kill vehicles of this
#: order). The Glide Phase Interceptor itself is unpublished; this class is what the open
#: literature calls a long-range, upper-atmosphere hit-to-kill interceptor (CRS, "Hypersonic
#: Missile Defense: Issues for Congress", IF11623, 2023). IR seeker locks on at 150 km
#: against a hot glider, 50 urad noise, +-45 deg gimbal. Intercepts from 25 km (below
#: that, window heating) up: the upper-atmosphere band of glide-phase defence.
GPI_CLASS = InterceptorClass(
    name="GPI-class",
    stages=(
        Stage(gross_mass_kg=720.0, propellant_mass_kg=500.0, isp_s=250.0, burn_time_s=6.0,
              diameter_m=0.53),
        Stage(gross_mass_kg=560.0, propellant_mass_kg=420.0, isp_s=265.0, burn_time_s=20.0,
              diameter_m=0.53),
        Stage(gross_mass_kg=190.0, propellant_mass_kg=140.0, isp_s=285.0, burn_time_s=25.0,
              diameter_m=0.53),
    ),
    kill_vehicle=KillVehicle(mass_kg=30.0, steering="thrusters",
                             max_divert_accel_m_s2=10.0 * G0_M_S2,
                             divert_propellant_kg=8.0, divert_isp_s=220.0, kill_radius_m=1.0),
    airframe=Airframe(ref_area_m2=math.pi * 0.265**2, cd0=0.25, cn_max=8.0, max_load_g=20.0),
    time_constant_s=0.1,
    seeker=Seeker(acquisition_range_m=150_000.0, gimbal_limit_rad=math.radians(45.0),
                  angle_noise_rad=50e-6, frame_rate_hz=100.0),
    tvc_max_rad=math.radians(5.0),
    intercept_alt_min_m=25_000.0,
    intercept_alt_max_m=300_000.0,
)

#: Terminal interceptor class, sized on open figures of the SM-6 (Mk 72 booster and a
#: dual-thrust sustainer, 1,500 kg, 0.34 m body, about Mach 3.5, over 240 km range,
#: active radar seeker: U.S. Navy fact file "Standard Missile-6", and CSIS Missile Defense
#: Project, "SM-6", 2021). Aerodynamic steering to 30 g, limited by dynamic pressure at
#: altitude (Fleeman 2006 ch. 2); a blast-fragmentation warhead taken as a 5 m lethal
#: radius (illustrative). Radar seeker: 40 km acquisition, 1 mrad noise, +-60 deg gimbal.
#: Intercepts below 35 km, where the airframe can still pull several g.
SM6_CLASS = InterceptorClass(
    name="SM-6-class",
    stages=(
        Stage(gross_mass_kg=720.0, propellant_mass_kg=500.0, isp_s=250.0, burn_time_s=6.0,
              diameter_m=0.53),
        Stage(gross_mass_kg=600.0, propellant_mass_kg=250.0, isp_s=250.0, burn_time_s=25.0,
              diameter_m=0.34),
    ),
    kill_vehicle=KillVehicle(mass_kg=180.0, steering="aero",
                             max_divert_accel_m_s2=30.0 * G0_M_S2, kill_radius_m=5.0),
    airframe=Airframe(ref_area_m2=math.pi * 0.17**2, cd0=0.3, cn_max=12.0, max_load_g=30.0),
    time_constant_s=0.3,
    seeker=Seeker(acquisition_range_m=40_000.0, gimbal_limit_rad=math.radians(60.0),
                  angle_noise_rad=1e-3, frame_rate_hz=100.0),
    tvc_max_rad=math.radians(5.0),
    intercept_alt_min_m=500.0,
    intercept_alt_max_m=35_000.0,
)

#: the example classes by name (the CLI's ``--interceptor`` choices)
INTERCEPTORS: dict[str, InterceptorClass] = {"gpi": GPI_CLASS, "sm6": SM6_CLASS}
