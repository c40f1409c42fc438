"""Ballistic missile: staged boost steered onto a minimum-energy arc, then a free-falling
re-entry vehicle through the atmosphere.

The booster rises vertically, then steers along the velocity to be gained towards the
minimum-energy Kepler arc to the (Earth-rotated) aim point and terminates thrust when
it is reached ([1]). Drag on re-entry and the J2 and rotating-frame terms that the
Kepler arc leaves out shift the impact by kilometres; a few batched shooting passes
move the guidance's aim point by the miss, as a missile's targeting tables would.

References
----------
.. [1] R. H. Battin, *An Introduction to the Mathematics and Methods of
   Astrodynamics*, rev. ed., AIAA, 1999, section 14.8.
.. [2] R. R. Bate, D. D. Mueller, J. E. White, *Fundamentals of Astrodynamics*, Dover,
   1971, ch. 6 (minimum-energy trajectory).
.. [3] F. J. Regan, S. M. Anandakrishnan, *Dynamics of Atmospheric Re-Entry*, AIAA,
   1993, ch. 2 (ballistic re-entry of a non-lifting body).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hyperdef.core.dynamics import GROUND_IMPACT, approx_altitude_m, point_mass_derivative
from hyperdef.core.frames import ecef_to_lla, lla_to_ecef
from hyperdef.core.integrate import Controls, Event
from hyperdef.threats.aero import BodyAero
from hyperdef.threats.boost import fly_after_boost, fly_boost, pitch_programme
from hyperdef.threats.launch import assemble, launch_geometry, pad_state
from hyperdef.threats.trajectory import PHASE_CODE, Trajectory
from hyperdef.threats.vehicles import MRBM_BOOSTER, MRBM_RV, Booster, ReentryVehicle

#: altitude below which a falling object is in the re-entry phase, m
REENTRY_ALTITUDE_M = 100_000.0
MODE_COAST, MODE_REENTRY = 0, 1


@dataclass(frozen=True, slots=True)
class FreeFallSystem:
    """Unpowered, non-lifting flight of a batch of bodies (an integrator System)."""

    aero: BodyAero
    ref_area_m2: np.ndarray
    impact_alt_m: np.ndarray
    events: tuple[Event, ...] = (GROUND_IMPACT,)

    def controls(
        self, t: np.ndarray, y: np.ndarray, idx: np.ndarray, mode: np.ndarray
    ) -> tuple[Controls, np.ndarray]:
        zeros = np.zeros(idx.size)
        falling_low = (approx_altitude_m(y[:, 0:3]) < REENTRY_ALTITUDE_M) & (
            np.einsum("ij,ij->i", y[:, 0:3], y[:, 3:6]) < 0.0
        )
        return {"alpha": zeros, "bank": zeros}, np.where(falling_low, MODE_REENTRY, mode)

    def derivative(self, t: np.ndarray, y: np.ndarray, idx: np.ndarray, u: Controls) -> np.ndarray:
        return point_mass_derivative(t, y, self.ref_area_m2[idx], self.aero, u)

    def event_values(self, t: np.ndarray, y: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return (approx_altitude_m(y[:, 0:3]) - self.impact_alt_m[idx])[:, None]


def fly_ballistic(
    launch_lla: np.ndarray,
    aim_lla: np.ndarray,
    t_launch_s: np.ndarray,
    *,
    booster: Booster = MRBM_BOOSTER,
    rv: ReentryVehicle = MRBM_RV,
    vertical_s: float = 8.0,
    dt_s: float = 0.5,
    boost_dt_s: float = 0.2,
    record_dt_s: float = 1.0,
    isp_scale: np.ndarray | None = None,
    shooting_passes: int = 3,
    max_flight_s: float = 7_200.0,
) -> Trajectory:
    """Fly a batch of ballistic missiles from launch to impact.

    Parameters
    ----------
    launch_lla, aim_lla : ndarray, shape (B, 3)
        Launch and aim points (lat rad, lon rad, alt m).
    t_launch_s : ndarray, shape (B,)
        Launch times, s from the epoch.
    booster, rv
        Booster stack and re-entry vehicle.
    vertical_s : float
        Vertical rise before steering, s.
    dt_s, boost_dt_s : float
        Integration steps of free flight and of the boost, s.
    record_dt_s : float
        Interval of the recorded samples, s.
    isp_scale : ndarray, shape (B,), optional
        Booster specific-impulse multiplier per vehicle (dispersions).
    shooting_passes : int
        Nominal flights that correct the guidance aim point by the previous miss (the
        targeting); one more flight with the vehicle's own booster follows.
    max_flight_s : float
        Flight-time limit, s.
    """
    launch_lla = np.asarray(launch_lla, float)
    aim_lla = np.asarray(aim_lla, float)
    launch_ecef, _, _ = launch_geometry(launch_lla, aim_lla)
    n = launch_ecef.shape[0]
    t_launch_s = np.asarray(t_launch_s, float)
    # vertical rise, then velocity-to-be-gained steering (the pitch part is unused)
    programme = pitch_programme(booster, n, vertical_s, 0.0, 0.0)
    y0 = pad_state(launch_ecef, booster.launch_mass_kg(rv.mass_kg))
    guide_lla = aim_lla.copy()
    for k in range(shooting_passes + 1):
        guide_ecef = lla_to_ecef(guide_lla)
        # targeting is computed for the nominal booster; the last flight flies the real one
        scale = isp_scale if k == shooting_passes else None
        boost = fly_boost(
            booster,
            "vtbg",
            t_launch_s,
            y0,
            guide_ecef,
            programme,
            boost_dt_s,
            max(1, round(record_dt_s / boost_dt_s)),
            isp_scale=scale,
        )
        system = FreeFallSystem(
            aero=BodyAero(cd_hypersonic=rv.cd_hypersonic),
            ref_area_m2=np.full(n, rv.ref_area_m2),
            impact_alt_m=aim_lla[:, 2],
        )
        fall = fly_after_boost(
            system,
            boost,
            rv.mass_kg,
            t_launch_s,
            max_flight_s,
            dt_s,
            record_every=max(1, round(record_dt_s / dt_s)),
        )
        impact_lla = ecef_to_lla(fall.y[:, 0:3])
        miss = impact_lla[:, 0:2] - aim_lla[:, 0:2]
        miss[:, 1] = (miss[:, 1] + np.pi) % (2 * np.pi) - np.pi
        if k < shooting_passes - 1:
            guide_lla[:, 0:2] -= miss
    codes = np.array([PHASE_CODE["coast"], PHASE_CODE["reentry"]])
    parts = [(p.samples, PHASE_CODE["boost"]) for p in boost.phases]
    parts.append((fall.samples, codes[fall.samples.mode]))
    impact = boost.crashed | (fall.status == 0)
    return assemble(
        np.full(n, "ballistic"), parts, np.full(n, rv.nose_radius_m), launch_lla, aim_lla, impact
    )
