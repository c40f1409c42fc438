"""Reach of each threat kind: the ground ranges its default booster and guidance can fly.

The limits are closed-form estimates (Tsiolkovsky velocity less an ascent loss, then
the Eggers glide range, the Breguet cruise range or the minimum-energy ballistic range),
with the ascent losses measured on the default vehicles (``tests/validation`` flies the
limits). They let :func:`hyperdef.threats.fly` refuse an aim point it cannot reach
before it spends time flying it.

References
----------
.. [1] D. R. Eggers, H. J. Allen, S. E. Neice, NACA Report 1382, 1958.
.. [2] R. R. Bate, D. D. Mueller, J. E. White, *Fundamentals of Astrodynamics*, Dover,
   1971, ch. 6.
.. [3] W. H. Heiser, D. T. Pratt, *Hypersonic Airbreathing Propulsion*, AIAA, 1994, ch. 1.
"""

from __future__ import annotations

import numpy as np

from hyperdef.core.earth import GM_EARTH_M3_S2, R_EARTH_MEAN_M
from hyperdef.threats.guidance import eggers_range_m
from hyperdef.threats.hgv import BoostPlan, GlideGuidance
from hyperdef.threats.launch import launch_geometry
from hyperdef.threats.vehicles import MRBM_BOOSTER, STARS_BOOSTER

#: ascent velocity losses (gravity, drag, steering) of the default boosters, m/s
HGV_ASCENT_LOSS_M_S = 1_000.0
BALLISTIC_ASCENT_LOSS_M_S = 1_000.0
#: fraction of the closed-form maximum that the guided flights reliably reach
REACH_MARGIN = 0.97
#: minimum ranges, m
MIN_RANGE_M = {"hgv": 700_000.0, "hcm": 100_000.0, "ballistic": 150_000.0}
#: maximum HCM range of the default cruiser (flown: see tests/validation), m
HCM_MAX_RANGE_M = 1_650_000.0


def hgv_max_range_m(
    glider, plan: BoostPlan = BoostPlan(), guidance: GlideGuidance = GlideGuidance()
) -> float:
    """Boost range plus the Eggers glide at the glider's Mach-10 maximum L/D, m."""
    v_max = STARS_BOOSTER.ideal_delta_v_m_s(glider.mass_kg) - HGV_ASCENT_LOSS_M_S
    ld = float(glider.aero.lift_to_drag(glider.aero.max_lift_to_drag_alpha_rad(10.0), 10.0))
    glide = eggers_range_m(
        np.array(ld),
        np.array(v_max),
        np.array(guidance.terminal_speed_m_s),
        np.array(R_EARTH_MEAN_M),
    )
    return REACH_MARGIN * (plan.boost_range_per_speed2 * v_max**2 + float(glide))


def ballistic_max_range_m(rv) -> float:
    """Minimum-energy range of the burnout speed (Tsiolkovsky less losses), m ([2] ch. 6).

    Inverts ``Q = 2 sin(psi/2) / (1 + sin(psi/2))`` for the range angle.
    """
    v_max = MRBM_BOOSTER.ideal_delta_v_m_s(rv.mass_kg) - BALLISTIC_ASCENT_LOSS_M_S
    q = v_max**2 * R_EARTH_MEAN_M / GM_EARTH_M3_S2
    s = q / (2.0 - q)
    return REACH_MARGIN * 2.0 * np.arcsin(min(s, 1.0)) * R_EARTH_MEAN_M


def hcm_max_range_m(cruiser) -> float:
    """Maximum range of the cruise missile, scaled with fuel by the Breguet log law ([3])."""
    ref = np.log(1.0 + HCM_CRUISER_FUEL_FRACTION)
    own = np.log((cruiser.dry_mass_kg + cruiser.fuel_mass_kg) / cruiser.dry_mass_kg)
    return HCM_MAX_RANGE_M * own / ref


HCM_CRUISER_FUEL_FRACTION = 200.0 / 1_100.0  # fuel / dry mass of the default cruiser


def reach_limits_m(kind: str, vehicle, launch_lla: np.ndarray, aim_lla: np.ndarray):
    """Minimum and maximum reach (m) and the asked ground range (m), each shape (B,)."""
    _, _, range_m = launch_geometry(launch_lla, aim_lla)
    if kind == "hgv":
        hi = hgv_max_range_m(vehicle)
    elif kind == "ballistic":
        hi = ballistic_max_range_m(vehicle)
    else:
        hi = hcm_max_range_m(vehicle)
    return np.full(range_m.shape, MIN_RANGE_M[kind]), np.full(range_m.shape, hi), range_m
