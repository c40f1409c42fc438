"""Open-literature parameter sets of the threat vehicles.

Every number here is illustrative and unclassified: it comes from open literature or
open-press figures named in each docstring, or is sized to reproduce an open-press
performance figure. None describes a fielded system exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hyperdef.core.earth import G0_M_S2
from hyperdef.threats.aero import BodyAero, CavHAero, LiftingBodyAero


@dataclass(frozen=True, slots=True)
class Stage:
    """One solid rocket stage burning at constant thrust.

    Attributes
    ----------
    gross_mass_kg : float
        Stage mass at ignition without the stages above it, kg.
    propellant_mass_kg : float
        Propellant burnt, kg.
    isp_s : float
        Specific impulse, s (a flight-average between sea level and vacuum).
    burn_time_s : float
        Burn time, s.
    diameter_m : float
        Body diameter, m (sets the drag reference area while this stage burns).
    """

    gross_mass_kg: float
    propellant_mass_kg: float
    isp_s: float
    burn_time_s: float
    diameter_m: float

    @property
    def thrust_n(self) -> float:
        """Constant thrust ``mdot Isp g0``, N."""
        return self.propellant_mass_kg / self.burn_time_s * self.isp_s * G0_M_S2

    @property
    def inert_mass_kg(self) -> float:
        """Mass dropped at staging, kg."""
        return self.gross_mass_kg - self.propellant_mass_kg


@dataclass(frozen=True, slots=True)
class Booster:
    """A stack of stages fired one after another, bottom stage first."""

    name: str
    stages: tuple[Stage, ...]
    aero: BodyAero = field(default_factory=lambda: BodyAero(cd_hypersonic=0.25))

    def ideal_delta_v_m_s(self, payload_kg: float) -> float:
        """Tsiolkovsky velocity gain of the stack with a payload, m/s."""
        total = 0.0
        above = payload_kg
        for stage in reversed(self.stages):
            m0 = above + stage.gross_mass_kg
            total += stage.isp_s * G0_M_S2 * np.log(m0 / (m0 - stage.propellant_mass_kg))
            above = m0
        return total

    def launch_mass_kg(self, payload_kg: float) -> float:
        """Mass at lift-off with the payload, kg."""
        return payload_kg + sum(s.gross_mass_kg for s in self.stages)


#: Three-stage solid booster of the 2011 Advanced Hypersonic Weapon test (STARS: two
#: Polaris A3 stages and an Orbus-1A). Total propellant 13,853 kg and about 334 kN
#: thrust are in U.S. Army SMDC/ARSTRAT, "Advanced Hypersonic Weapon Program
#: Environmental Assessment", June 2011, section 2.1.2; the split between stages, the
#: Isp and burn times follow public fly-out models of that EA and are approximate (the
#: Orbus-1A stage is taken as 450 kg of propellant in a 50 kg case).
STARS_BOOSTER = Booster(
    name="STARS-class three-stage solid",
    stages=(
        Stage(
            gross_mass_kg=10_592.0,
            propellant_mass_kg=9_322.0,
            isp_s=250.0,
            burn_time_s=68.5,
            diameter_m=1.37,
        ),
        Stage(
            gross_mass_kg=4_898.0,
            propellant_mass_kg=4_082.0,
            isp_s=280.0,
            burn_time_s=65.0,
            diameter_m=1.37,
        ),
        Stage(
            gross_mass_kg=500.0,
            propellant_mass_kg=450.0,
            isp_s=290.0,
            burn_time_s=14.6,
            diameter_m=0.71,
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class Glider:
    """A hypersonic glide vehicle.

    Attributes
    ----------
    mass_kg, ref_area_m2 : float
        Mass (kg) and aerodynamic reference area (m^2).
    nose_radius_m : float
        Effective stagnation-point radius for heating, m.
    aero : CavHAero
        Lift and drag model.
    """

    name: str
    mass_kg: float
    ref_area_m2: float
    nose_radius_m: float
    aero: CavHAero


#: CAV-H: 907.2 kg, 0.4839 m^2 and the aerodynamic fits of T. H. Phillips, "A Common
#: Aero Vehicle (CAV) Model, Description, and Employment Guide", Schafer Corp., 2003,
#: as used across the open entry-guidance literature. Leading-edge radius 0.034 m as in
#: Tracy & Wright, Science & Global Security 28(3), 2020, doi:10.1080/08929882.2020.1864945.
CAV_H = Glider(
    name="CAV-H", mass_kg=907.2, ref_area_m2=0.4839, nose_radius_m=0.034, aero=CavHAero()
)


@dataclass(frozen=True, slots=True)
class Cruiser:
    """An air-breathing hypersonic cruise missile after its booster separates.

    Attributes
    ----------
    dry_mass_kg, fuel_mass_kg : float
        Mass without fuel, and fuel, kg.
    ref_area_m2 : float
        Reference area, m^2.
    isp_s : float
        Scramjet fuel specific impulse, s.
    max_thrust_n : float
        Thrust limit, N.
    cruise_mach : float
        Commanded cruise Mach number.
    cruise_alt_m : float
        Commanded cruise altitude, m.
    nose_radius_m : float
        Stagnation radius for heating, m.
    """

    name: str
    dry_mass_kg: float
    fuel_mass_kg: float
    ref_area_m2: float
    isp_s: float
    max_thrust_n: float
    cruise_mach: float
    cruise_alt_m: float
    nose_radius_m: float
    aero: LiftingBodyAero


#: Hypersonic cruise missile sized on the open X-51A WaveRider flight 4 profile
#: (1 May 2013: boost to Mach 4.8, scramjet cruise at Mach 5.1 near 18 km, about 240 s
#: of fuel, 230-240 nmi; USAF release quoted by Air & Space Forces Magazine, May 2013)
#: and scaled up to a weapon of about 1,000 km range. Hydrocarbon scramjet Isp about
#: 1,000-1,200 s: W. H. Heiser, D. T. Pratt, *Hypersonic Airbreathing Propulsion*,
#: AIAA, 1994, ch. 1. Masses are illustrative.
HCM_CRUISER = Cruiser(
    name="HCM (X-51A-derived, illustrative)",
    dry_mass_kg=1_100.0,
    fuel_mass_kg=200.0,
    ref_area_m2=0.6,
    isp_s=1_100.0,
    max_thrust_n=20_000.0,
    cruise_mach=6.0,
    cruise_alt_m=25_000.0,
    nose_radius_m=0.02,
    aero=LiftingBodyAero(),
)

#: Single-stage solid booster of the cruise missile, sized like the ATACMS-derived
#: booster of the X-51A (which reached Mach 4.8 from a B-52 release); ground launched
#: here, so larger. Illustrative.
HCM_BOOSTER = Booster(
    name="HCM single-stage solid",
    stages=(
        Stage(
            gross_mass_kg=2_800.0,
            propellant_mass_kg=2_400.0,
            isp_s=265.0,
            burn_time_s=45.0,
            diameter_m=0.8,
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class ReentryVehicle:
    """A non-manoeuvring ballistic re-entry vehicle.

    Attributes
    ----------
    mass_kg : float
        Mass, kg.
    ref_area_m2 : float
        Base area, m^2.
    cd_hypersonic : float
        Hypersonic drag coefficient; the ballistic coefficient is m / (CD A).
    nose_radius_m : float
        Nose radius, m.
    """

    name: str
    mass_kg: float
    ref_area_m2: float
    cd_hypersonic: float
    nose_radius_m: float

    @property
    def ballistic_coefficient_kg_m2(self) -> float:
        """``m / (CD A)``, kg/m^2."""
        return self.mass_kg / (self.cd_hypersonic * self.ref_area_m2)


#: Medium-range ballistic missile of the Pershing II class (two solid stages, about
#: 7.4 t at launch, about 1,800 km range, about 11 min flight; open press, e.g. Orlando
#: Sentinel, 27 June 1986). Stage split, Isp and burn times are illustrative values for
#: solid motors of that size (G. P. Sutton, O. Biblarz, *Rocket Propulsion Elements*,
#: 9th ed., 2017, table 12-3: composite propellant Isp 260-290 s).
MRBM_BOOSTER = Booster(
    name="MRBM two-stage solid",
    stages=(
        Stage(
            gross_mass_kg=4_600.0,
            propellant_mass_kg=4_000.0,
            isp_s=265.0,
            burn_time_s=55.0,
            diameter_m=1.02,
        ),
        Stage(
            gross_mass_kg=2_200.0,
            propellant_mass_kg=1_850.0,
            isp_s=280.0,
            burn_time_s=50.0,
            diameter_m=1.02,
        ),
    ),
)

#: Conical re-entry vehicle, 650 kg, base diameter 0.5 m, CD 0.1: ballistic coefficient
#: about 33,000 kg/m^2, inside the 10,000-100,000 kg/m^2 span of modern RVs in
#: F. J. Regan, S. M. Anandakrishnan, *Dynamics of Atmospheric Re-Entry*, AIAA, 1993, ch. 1.
MRBM_RV = ReentryVehicle(
    name="MRBM RV",
    mass_kg=650.0,
    ref_area_m2=np.pi * 0.25**2,
    cd_hypersonic=0.1,
    nose_radius_m=0.05,
)
