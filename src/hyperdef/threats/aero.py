"""Aerodynamic and aerothermal models of the threat vehicles.

Coefficient models are small frozen dataclasses with a batched ``coefficients``
method (angle of attack in radians, Mach number) -> ``(cl, cd)``; the dynamics in
:mod:`hyperdef.core.dynamics` call them inside every Runge-Kutta stage.

References
----------
.. [1] T. H. Phillips, "A Common Aero Vehicle (CAV) Model, Description, and
   Employment Guide", Schafer Corporation for AFRL and AFSPC, 27 January 2003
   (CAV-H mass, reference area and the lift/drag curve fits, alpha in degrees).
.. [2] K. Sutton, R. A. Graves, "A General Stagnation-Point Convective-Heating
   Equation for Arbitrary Gas Mixtures", NASA TR R-376, 1971 (k = 1.7415e-4
   kg^0.5/m for air, SI units).
.. [3] J. D. Anderson, *Hypersonic and High-Temperature Gas Dynamics*, 2nd ed.,
   AIAA, 2006, section 6.8 (radiative-equilibrium wall temperature).
.. [4] E. L. Fleeman, *Tactical Missile Design*, 2nd ed., AIAA, 2006, ch. 2 (zero-lift
   body drag rising through the transonic peak and falling with supersonic Mach).
.. [5] D. Küchemann, *The Aerodynamic Design of Aircraft*, Pergamon, 1978: the
   empirical "L/D barrier" (L/D)max = 4 (M + 3) / M for hypersonic aircraft.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SUTTON_GRAVES_K_AIR = 1.7415e-4  # kg^0.5 / m, [2]
STEFAN_BOLTZMANN_W_M2_K4 = 5.670374419e-8  # CODATA 2018


@dataclass(frozen=True, slots=True)
class CavHAero:
    """CAV-H hypersonic glider aerodynamics (curve fits of [1], alpha in degrees).

    ``CL = -0.2317 + 0.0513 alpha + 0.2945 exp(-0.1028 M)``,
    ``CD = 0.024 + 7.24e-4 alpha^2 + 0.406 exp(-0.323 M)``.
    Maximum L/D is 3.44 at Mach 10 (alpha 10.3 deg). The fits were made over about
    8-20 deg; the linear lift curve is extended down to ``alpha_min_deg`` (0) for
    the terminal dive, where the vehicle must unload, and clamped above 20 deg.

    Attributes
    ----------
    alpha_min_deg, alpha_max_deg : float
        Angle-of-attack limits, deg.
    """

    alpha_min_deg: float = 0.0
    alpha_max_deg: float = 20.0

    # fit constants of [1]
    cl0: float = -0.2317
    cl_alpha_per_deg: float = 0.0513
    cl_mach_amp: float = 0.2945
    cl_mach_decay: float = 0.1028
    cd0: float = 0.024
    cd_alpha2_per_deg2: float = 7.24e-4
    cd_mach_amp: float = 0.406
    cd_mach_decay: float = 0.323

    def at_mach(self, mach: np.ndarray) -> CavHPolar:
        """The polar at given Mach numbers (n,): its Mach terms are computed once."""
        a0 = self.cl0 + self.cl_mach_amp * np.exp(-self.cl_mach_decay * mach)
        c0 = self.cd0 + self.cd_mach_amp * np.exp(-self.cd_mach_decay * mach)
        return CavHPolar(self, a0, c0)

    def coefficients(
        self, alpha_rad: np.ndarray, mach: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Lift and drag coefficients, shape (n,), for alpha (rad) and Mach, shape (n,)."""
        return self.at_mach(mach).coefficients(alpha_rad)

    def max_lift_coefficient(self, mach: np.ndarray) -> np.ndarray:
        """Lift coefficient at the maximum angle of attack."""
        return self.at_mach(mach).max_lift_coefficient()

    def max_lift_to_drag_alpha_rad(self, mach: np.ndarray) -> np.ndarray:
        """Angle of attack of maximum L/D, rad: root of d(CL/CD)/d(alpha) = 0."""
        return self.at_mach(mach).max_lift_to_drag_alpha_rad()

    def lift_to_drag(self, alpha_rad: np.ndarray, mach: np.ndarray) -> np.ndarray:
        """L/D at angle of attack (rad) and Mach."""
        cl, cd = self.coefficients(alpha_rad, mach)
        return cl / cd

    def alpha_for_lift_to_drag(self, lift_to_drag: np.ndarray, mach: np.ndarray) -> np.ndarray:
        """Angle of attack (rad) on the high-alpha side of the L/D curve (see CavHPolar)."""
        return self.at_mach(mach).alpha_for_lift_to_drag(lift_to_drag)

    def alpha_for_lift_coefficient(self, cl: np.ndarray, mach: np.ndarray) -> np.ndarray:
        """Angle of attack (rad) giving lift coefficient ``cl``, clamped to the limits."""
        return self.at_mach(mach).alpha_for_lift_coefficient(cl)


@dataclass(frozen=True, slots=True)
class CavHPolar:
    """The CAV-H polar at fixed Mach numbers: ``CL = a0 + a1 alpha``, ``CD = c0 + c2 alpha^2``.

    ``a0`` and ``c0`` (n,) hold the Mach terms of the fits (alpha in degrees), so a
    guidance step that asks several questions of the polar evaluates them once.
    """

    aero: CavHAero
    a0: np.ndarray
    c0: np.ndarray

    def coefficients(self, alpha_rad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lift and drag coefficients at angle of attack ``alpha_rad`` (n,)."""
        m = self.aero
        a = np.clip(np.degrees(alpha_rad), m.alpha_min_deg, m.alpha_max_deg)
        return self.a0 + m.cl_alpha_per_deg * a, self.c0 + m.cd_alpha2_per_deg2 * a * a

    def max_lift_coefficient(self) -> np.ndarray:
        """Lift coefficient at the maximum angle of attack."""
        return self.a0 + self.aero.cl_alpha_per_deg * self.aero.alpha_max_deg

    def _max_lift_to_drag_alpha_deg(self) -> np.ndarray:
        a1, c2 = self.aero.cl_alpha_per_deg, self.aero.cd_alpha2_per_deg2
        a0c2 = self.a0 * c2
        alpha = (-a0c2 + np.sqrt(a0c2 * a0c2 + a1 * a1 * c2 * self.c0)) / (a1 * c2)
        return np.clip(alpha, self.aero.alpha_min_deg, self.aero.alpha_max_deg)

    def max_lift_to_drag_alpha_rad(self) -> np.ndarray:
        """Angle of attack of maximum L/D, rad: root of d(CL/CD)/d(alpha) = 0."""
        return np.radians(self._max_lift_to_drag_alpha_deg())

    def alpha_for_lift_to_drag(self, lift_to_drag: np.ndarray) -> np.ndarray:
        """Angle of attack (rad) on the high-alpha side of the L/D curve giving ``lift_to_drag``.

        Solves ``a0 + a1 alpha = k (c0 + c2 alpha^2)`` for the larger root; a value
        above the maximum L/D returns the max-L/D angle, and the result is clamped to
        ``alpha_max_deg``.
        """
        m = self.aero
        a1, c2 = m.cl_alpha_per_deg, m.cd_alpha2_per_deg2
        k = np.maximum(lift_to_drag, 1e-3)
        disc = a1 * a1 - 4.0 * k * c2 * (k * self.c0 - self.a0)
        alpha = (a1 + np.sqrt(np.maximum(disc, 0.0))) / (2.0 * k * c2)
        alpha_star = self._max_lift_to_drag_alpha_deg()
        alpha = np.where(disc > 0.0, np.maximum(alpha, alpha_star), alpha_star)
        return np.radians(np.clip(alpha, m.alpha_min_deg, m.alpha_max_deg))

    def alpha_for_lift_coefficient(self, cl: np.ndarray) -> np.ndarray:
        """Angle of attack (rad) giving lift coefficient ``cl``, clamped to the limits."""
        m = self.aero
        alpha = (cl - self.a0) / m.cl_alpha_per_deg
        return np.radians(np.clip(alpha, m.alpha_min_deg, m.alpha_max_deg))


@dataclass(frozen=True, slots=True)
class LiftingBodyAero:
    """Parabolic-polar lifting body: ``CL = CL_alpha alpha``, ``CD = CD0(M) + K CL^2``.

    Used for the hypersonic cruise missile, whose open data give only its cruise
    condition. With the defaults, (L/D)max = 1 / (2 sqrt(CD0 K)) = 4.1 at Mach 6,
    under Küchemann's empirical barrier 4 (M + 3) / M = 6 ([5]).

    Attributes
    ----------
    cl_alpha_per_rad : float
        Lift-curve slope, 1/rad.
    cd0 : float
        Hypersonic zero-lift drag coefficient.
    k_induced : float
        Drag-due-to-lift factor K.
    alpha_max_deg : float
        Angle-of-attack limit, deg (symmetric).
    """

    cl_alpha_per_rad: float = 1.6
    cd0: float = 0.025
    k_induced: float = 0.6
    alpha_max_deg: float = 12.0

    def coefficients(
        self, alpha_rad: np.ndarray, mach: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Lift and drag coefficients, shape (n,)."""
        a = np.clip(alpha_rad, -np.radians(self.alpha_max_deg), np.radians(self.alpha_max_deg))
        cl = self.cl_alpha_per_rad * a
        return cl, self.cd0 * body_drag_factor(mach) + self.k_induced * cl * cl

    def max_lift_coefficient(self, mach: np.ndarray) -> np.ndarray:
        """Lift coefficient at the maximum angle of attack."""
        return np.full(np.shape(mach), self.cl_alpha_per_rad * np.radians(self.alpha_max_deg))

    def alpha_for_lift_coefficient(self, cl: np.ndarray, mach: np.ndarray) -> np.ndarray:
        """Angle of attack (rad) giving ``cl``, clamped to the limits."""
        limit = np.radians(self.alpha_max_deg)
        return np.clip(cl / self.cl_alpha_per_rad, -limit, limit)


# Zero-lift drag of a slender missile body relative to its hypersonic value: flat
# subsonic, transonic peak near Mach 1.1, then falling towards the Newtonian limit ([4]).
_BODY_DRAG_MACH = np.array([0.0, 0.8, 1.0, 1.15, 1.5, 2.0, 3.0, 4.0, 6.0, 10.0, 30.0])
_BODY_DRAG_FACTOR = np.array([1.0, 1.05, 1.8, 2.0, 1.8, 1.55, 1.3, 1.15, 1.0, 0.95, 0.9])


def body_drag_factor(mach: np.ndarray) -> np.ndarray:
    """Zero-lift drag relative to its Mach 6 value for a slender body ([4] trend)."""
    return np.interp(mach, _BODY_DRAG_MACH, _BODY_DRAG_FACTOR)


@dataclass(frozen=True, slots=True)
class BodyAero:
    """Non-lifting body (booster stack, re-entry vehicle): ``CD = cd_hypersonic * f(M)``.

    Attributes
    ----------
    cd_hypersonic : float
        Zero-lift drag coefficient at Mach 6 on the reference area.
    """

    cd_hypersonic: float = 0.25

    def coefficients(
        self, alpha_rad: np.ndarray, mach: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Zero lift and the Mach-dependent drag coefficient, shape (n,)."""
        return np.zeros_like(mach), self.cd_hypersonic * body_drag_factor(mach)


def stagnation_heat_flux_w_m2(
    density_kg_m3: np.ndarray, speed_m_s: np.ndarray, nose_radius_m: float | np.ndarray
) -> np.ndarray:
    """Sutton-Graves convective stagnation-point heat flux, W/m^2 ([2]).

    ``q = k sqrt(rho / Rn) V^3`` with ``k = 1.7415e-4`` in SI units: rho = 1e-3 kg/m^3,
    Rn = 0.1 m, V = 6000 m/s gives 3.76e6 W/m^2.

    Parameters
    ----------
    density_kg_m3 : ndarray
        Free-stream density, kg/m^3.
    speed_m_s : ndarray
        Air-relative speed, m/s.
    nose_radius_m : float or ndarray
        Effective nose radius, m.
    """
    return SUTTON_GRAVES_K_AIR * np.sqrt(density_kg_m3 / nose_radius_m) * speed_m_s**3


def radiative_equilibrium_temperature_k(
    heat_flux_w_m2: np.ndarray, emissivity: float = 0.85
) -> np.ndarray:
    """Wall temperature at which re-radiation balances the heat flux, K ([3]).

    ``T = (q / (eps sigma))^(1/4)``.
    """
    return (np.maximum(heat_flux_w_m2, 0.0) / (emissivity * STEFAN_BOLTZMANN_W_M2_K4)) ** 0.25
