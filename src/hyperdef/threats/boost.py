"""Powered ascent of a batch of missiles: staged solid boosters with two steering laws.

``pitch`` flies a pitch programme (vertical rise, then the thrust pitch above the local
horizontal falls linearly to a final value, in the vertical plane towards the aim
point) and can terminate thrust at a commanded speed. ``vtbg`` steers along the
velocity to be gained towards a minimum-energy Kepler arc to the aim point and
terminates thrust when that velocity is reached (ballistic missiles).

References
----------
.. [1] G. P. Sutton, O. Biblarz, *Rocket Propulsion Elements*, 9th ed., Wiley, 2017,
   ch. 4 (flight performance, staging, gravity turn and pitch programmes).
.. [2] R. H. Battin, *An Introduction to the Mathematics and Methods of
   Astrodynamics*, rev. ed., AIAA, 1999, section 14.8 (velocity-to-be-gained steering
   and cut-off).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hyperdef.core.dynamics import GROUND_IMPACT, approx_altitude_m, point_mass_derivative
from hyperdef.core.earth import OMEGA_EARTH_RAD_S
from hyperdef.core.integrate import Controls, Event, IntegrationResult, integrate
from hyperdef.threats.aero import BodyAero
from hyperdef.threats.guidance import (
    components,
    dot,
    great_circle_to_aim,
    kepler_time_of_flight_s,
    kepler_velocity_for_range,
    minimum_energy_flight_path_rad,
    pitch_programme_direction,
    unit,
)
from hyperdef.threats.vehicles import Booster

THRUST_TERMINATION = Event("thrust_termination", terminal=True, direction=-1)
_VTBG_ITERATIONS = 3


@dataclass(frozen=True, slots=True)
class PitchProgramme:
    """Per-vehicle pitch programme, arrays of shape (B,).

    Attributes
    ----------
    vertical_s : ndarray
        Vertical rise after launch, s.
    pitch_end_s : ndarray
        Time after launch when the pitch reaches ``final_pitch_rad``, s.
    final_pitch_rad : ndarray
        Final thrust pitch above the local horizontal, rad.
    cutoff_speed_m_s : ndarray
        Thrust is terminated when the speed reaches this value (inf: burn out).
    """

    vertical_s: np.ndarray
    pitch_end_s: np.ndarray
    final_pitch_rad: np.ndarray
    cutoff_speed_m_s: np.ndarray


def required_velocity(
    r_m: np.ndarray, aim_m: np.ndarray, *, iterations: int = _VTBG_ITERATIONS
) -> tuple[np.ndarray, np.ndarray]:
    """Inertial velocity (in axes aligned with ECEF now) of a minimum-energy arc to the aim.

    The aim point turns with the Earth during the time of flight: it is rotated by
    ``omega * tof`` about the polar axis, with the time of flight from the Kepler
    conic, iterated a few times.

    Parameters
    ----------
    r_m, aim_m : ndarray, shape (3, n)
        ECEF position and aim point, m (component-major).

    Returns
    -------
    v_required : ndarray, shape (3, n)
        Inertial velocity needed now, m/s.
    tof_s : ndarray, shape (n,)
        Time of flight to the aim point on that arc, s.
    """
    r1 = np.sqrt(dot(r_m, r_m))
    r2 = np.sqrt(dot(aim_m, aim_m))
    tof = np.zeros(r1.shape)
    aim = np.empty_like(aim_m)
    for _ in range(iterations):
        ang = OMEGA_EARTH_RAD_S * tof
        c, s = np.cos(ang), np.sin(ang)
        aim[0] = c * aim_m[0] - s * aim_m[1]
        aim[1] = s * aim_m[0] + c * aim_m[1]
        aim[2] = aim_m[2]
        psi, horizontal, up = great_circle_to_aim(r_m, aim * (1.0 / r2))
        gamma = minimum_energy_flight_path_rad(psi)
        speed = kepler_velocity_for_range(r1, r2, psi, gamma)
        tof = kepler_time_of_flight_s(r1, speed, gamma, psi)
    return speed * (np.cos(gamma) * horizontal + np.sin(gamma) * up), tof


def inertial_velocity(r_m: np.ndarray, v_m_s: np.ndarray) -> np.ndarray:
    """``v + omega x r``, (3, n): velocity in inertial axes momentarily aligned with ECEF."""
    out = v_m_s.copy()
    out[0] -= OMEGA_EARTH_RAD_S * r_m[1]
    out[1] += OMEGA_EARTH_RAD_S * r_m[0]
    return out


@dataclass(frozen=True, slots=True)
class BoostSystem:
    """One burning stage for a batch of vehicles (see :class:`hyperdef.core.integrate.System`).

    Attributes
    ----------
    steering : str
        ``pitch`` or ``vtbg``.
    """

    steering: str
    aero: BodyAero
    ref_area_m2: np.ndarray
    thrust_n: np.ndarray
    isp_s: np.ndarray
    t_launch_s: np.ndarray
    aim_ecef_m: np.ndarray
    programme: PitchProgramme
    events: tuple[Event, ...] = (GROUND_IMPACT, THRUST_TERMINATION)

    def _direction(self, t, y, idx):
        """Thrust direction (n, 3) of the steering law."""
        s = components(y)
        r, v = s[0:3], s[3:6]
        aim = self.aim_ecef_m[idx].T
        tau = t - self.t_launch_s[idx]
        p = self.programme
        if self.steering == "pitch":
            _, horizontal, up = great_circle_to_aim(r, unit(aim))
            frac = np.clip(
                (tau - p.vertical_s[idx]) / (p.pitch_end_s[idx] - p.vertical_s[idx]), 0.0, 1.0
            )
            pitch = 0.5 * np.pi - (0.5 * np.pi - p.final_pitch_rad[idx]) * frac
            return pitch_programme_direction(up, horizontal, pitch).T
        v_req, _ = required_velocity(r, aim)
        v_go = unit(v_req - inertial_velocity(r, v))
        return np.where(tau < p.vertical_s[idx], unit(r), v_go).T

    def controls(
        self, t: np.ndarray, y: np.ndarray, idx: np.ndarray, mode: np.ndarray
    ) -> tuple[Controls, np.ndarray]:
        zeros = np.zeros(idx.size)
        return (
            {
                "alpha": zeros,
                "bank": zeros,
                "thrust_n": self.thrust_n[idx],
                "isp_s": self.isp_s[idx],
                "thrust_dir": self._direction(t, y, idx),
            },
            mode,
        )

    def derivative(self, t: np.ndarray, y: np.ndarray, idx: np.ndarray, u: Controls) -> np.ndarray:
        return point_mass_derivative(t, y, self.ref_area_m2[idx], self.aero, u)

    def event_values(self, t: np.ndarray, y: np.ndarray, idx: np.ndarray) -> np.ndarray:
        s = components(y)
        r, v = s[0:3], s[3:6]
        if self.steering == "pitch":
            cutoff = self.programme.cutoff_speed_m_s[idx] - np.sqrt(dot(v, v))
        else:
            v_req, _ = required_velocity(r, self.aim_ecef_m[idx].T)
            cutoff = dot(v_req - inertial_velocity(r, v), unit(v_req))
            # no cut-off during the vertical rise, where the gap only grows
            cutoff = np.where(
                t - self.t_launch_s[idx] < self.programme.vertical_s[idx],
                np.abs(cutoff) + 1.0,
                cutoff,
            )
        return np.stack([approx_altitude_m(y[:, 0:3]), cutoff], axis=1)


def pitch_programme(
    booster: Booster,
    n: int,
    vertical_s: float,
    pitch_end_fraction: float,
    final_pitch_deg: float,
    cutoff_speed_m_s: np.ndarray | float = np.inf,
) -> PitchProgramme:
    """The same pitch programme for n vehicles: vertical rise, then the pitch falls to
    ``final_pitch_deg`` at ``pitch_end_fraction`` of the booster's total burn time."""
    burn = sum(stage.burn_time_s for stage in booster.stages)
    return PitchProgramme(
        vertical_s=np.full(n, vertical_s),
        pitch_end_s=np.full(n, pitch_end_fraction * burn),
        final_pitch_rad=np.full(n, np.radians(final_pitch_deg)),
        cutoff_speed_m_s=np.broadcast_to(np.asarray(cutoff_speed_m_s, float), (n,)).copy(),
    )


@dataclass(slots=True)
class BoostOutcome:
    """End of the boost for a batch: state, time, and per-stage integration results."""

    t: np.ndarray
    y: np.ndarray
    terminated: np.ndarray  # thrust terminated before the last stage burnt out
    crashed: np.ndarray
    phases: list[IntegrationResult]


def fly_boost(
    booster: Booster,
    steering: str,
    t_launch_s: np.ndarray,
    y0: np.ndarray,
    aim_ecef_m: np.ndarray,
    programme: PitchProgramme,
    dt_s: float,
    record_every: int,
    isp_scale: np.ndarray | None = None,
) -> BoostOutcome:
    """Fly every stage of ``booster`` for a batch; a stage starts when the one below ends.

    Vehicles whose thrust is terminated (or that hit the ground) skip the stages left.
    The spent stage's inert mass is dropped at each staging; the unburnt propellant of
    a terminated stage stays with the vehicle until the caller separates the payload.
    ``isp_scale`` (B,) multiplies each vehicle's specific impulse and thrust (same
    propellant flow), for performance dispersions.
    """
    n = t_launch_s.size
    scale = np.ones(n) if isp_scale is None else np.asarray(isp_scale, float)
    t = t_launch_s.astype(float).copy()
    y = y0.copy()
    going = np.ones(n, dtype=bool)
    terminated = np.zeros(n, dtype=bool)
    crashed = np.zeros(n, dtype=bool)
    phases = []
    for k, stage in enumerate(booster.stages):
        idx = np.flatnonzero(going)
        if not idx.size:
            break
        system = BoostSystem(
            steering=steering,
            aero=booster.aero,
            ref_area_m2=np.full(idx.size, np.pi * 0.25 * stage.diameter_m**2),
            thrust_n=stage.thrust_n * scale[idx],
            isp_s=stage.isp_s * scale[idx],
            t_launch_s=t_launch_s[idx],
            aim_ecef_m=aim_ecef_m[idx],
            programme=PitchProgramme(
                *(
                    np.asarray(a)[idx]
                    for a in (
                        programme.vertical_s,
                        programme.pitch_end_s,
                        programme.final_pitch_rad,
                        programme.cutoff_speed_m_s,
                    )
                )
            ),
        )
        res = integrate(
            system, t[idx], y[idx], t[idx] + stage.burn_time_s, dt_s, record_every=record_every
        )
        res.samples.index = idx[res.samples.index]
        res.events.index = idx[res.events.index]
        phases.append(res)
        t[idx] = res.t
        y[idx] = res.y
        crashed[idx] = res.status == 0
        terminated[idx] = res.status == 1
        going[idx] = res.status < 0
        last = k == len(booster.stages) - 1
        if not last:  # drop the spent stage of those that burnt out
            y[idx[res.status < 0], 6] -= stage.inert_mass_kg
    return BoostOutcome(t=t, y=y, terminated=terminated, crashed=crashed, phases=phases)


def fly_after_boost(
    system,
    boost: BoostOutcome,
    payload_mass_kg: float,
    t_launch_s: np.ndarray,
    max_flight_s: float,
    dt_s: float,
    **options,
) -> IntegrationResult:
    """Separate the payload at the end of the boost and fly it to impact with ``system``.

    Vehicles that hit the ground during the boost are not flown; the others stop at
    ``t_launch_s + max_flight_s`` if they have not landed. ``options`` go to
    :func:`hyperdef.core.integrate.integrate` (``record_every``, ``mode0``...).
    """
    y = boost.y.copy()
    y[:, 6] = payload_mass_kg
    t_end = np.where(boost.crashed, boost.t, t_launch_s + max_flight_s)
    return integrate(system, boost.t, y, t_end, dt_s, **options)
