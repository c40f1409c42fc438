"""Validation of the point-mass dynamics and the batched RK4 integrator.

Sources:
- Bate, Mueller & White, *Fundamentals of Astrodynamics*, Dover 1971, ch. 6: minimum-energy
  trajectory, Q = v^2 r / mu = 2 sin(psi/2) / (1 + sin(psi/2)), flight-path angle
  (pi - psi) / 4 (VALIDATION.md [F]; the 1,000 and 3,000 km figures are evaluated there).
- Energy conservation of a Kepler orbit (any mechanics text): E = v^2/2 - mu/r is constant.
- scipy.integrate.solve_ivp (DOP853 at rtol 1e-12) as the reference integrator.
"""

from dataclasses import dataclass

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from hyperdef.core.dynamics import KeplerSystem, point_mass_derivative
from hyperdef.core.earth import GM_EARTH_M3_S2
from hyperdef.core.frames import lla_to_ecef
from hyperdef.core.integrate import Event, integrate
from hyperdef.threats.guidance import minimum_energy_flight_path_rad
from hyperdef.threats.vehicles import CAV_H

R_BMW_M = 6_378_000.0  # spherical Earth radius of the textbook example
MU_BMW = 3.986e14  # BMW's mu to four figures (3.986012e14 m^3/s^2)


def launch_state(range_km: float, speed_m_s: float | None = None):
    """Burnout at the surface on the equator, heading east, on the minimum-energy arc."""
    psi = range_km * 1e3 / R_BMW_M
    gamma = minimum_energy_flight_path_rad(psi)
    q = 2.0 * np.sin(psi / 2) / (1.0 + np.sin(psi / 2))
    v = np.sqrt(q * MU_BMW / R_BMW_M) if speed_m_s is None else speed_m_s
    y = np.zeros((1, 7))
    y[0, 0] = R_BMW_M
    y[0, 3] = v * np.sin(gamma)  # radial
    y[0, 4] = v * np.cos(gamma)  # east
    y[0, 6] = 1.0
    return y, v


@pytest.mark.parametrize(
    "range_km, speed_km_s, apogee_km, minutes",
    [(1000.0, 3.013, 240.0, 7.9), (3000.0, 4.860, 655.0, 14.9)],
)
def test_minimum_energy_range_matches_bate_mueller_white(range_km, speed_km_s, apogee_km, minutes):
    # BMW ch. 6 closed form, figures from VALIDATION.md: burnout speed, apogee and flight time
    y0, v = launch_state(range_km)
    assert v / 1e3 == pytest.approx(speed_km_s, rel=1e-3), "closed-form burnout speed"
    system = KeplerSystem(gm=MU_BMW, rotating=False, surface_radius_m=R_BMW_M - 1e-6)
    y0[0, 0] += 1e-3  # start just above the impact sphere
    res = integrate(system, np.zeros(1), y0, np.full(1, 5_000.0), 1.0, record_every=1)
    r_end = res.y[0, :3]
    flown_km = np.arctan2(r_end[1], r_end[0]) * R_BMW_M / 1e3
    apogee = (np.sqrt((res.samples.y[:, :3] ** 2).sum(1)).max() - R_BMW_M) / 1e3
    assert res.status[0] == 0, "the flight must end at the surface"
    assert flown_km == pytest.approx(range_km, rel=0.01), (
        f"range {flown_km:.1f} km vs BMW minimum-energy {range_km} km"
    )
    assert apogee == pytest.approx(apogee_km, rel=0.01), f"apogee {apogee:.1f} km"
    assert res.t[0] / 60 == pytest.approx(minutes, rel=0.01), f"flight time {res.t[0] / 60:.2f} min"


def test_vacuum_energy_is_conserved_without_rotation():
    # E = v^2/2 - mu/r on an eccentric orbit through perigee: drift below 1e-6 over 1,000 s
    y0 = np.zeros((3, 7))
    y0[:, 0] = [7.0e6, 7.2e6, 6.8e6]
    y0[:, 4] = [8_000.0, 7_000.0, 8_500.0]
    y0[:, 5] = [500.0, -300.0, 1_000.0]
    y0[:, 6] = 1.0
    system = KeplerSystem(gm=GM_EARTH_M3_S2, rotating=False, surface_radius_m=1.0e6)
    res = integrate(system, np.zeros(3), y0, np.full(3, 1_000.0), 1.0, record_every=1)

    def energy(y):
        return 0.5 * (y[:, 3:6] ** 2).sum(1) - GM_EARTH_M3_S2 / np.sqrt((y[:, :3] ** 2).sum(1))

    drift = np.abs(energy(res.y) / energy(y0) - 1.0)
    assert np.all(drift < 1e-6), f"relative energy drift {drift}"
    assert np.all(res.t == 1_000.0)


@dataclass(frozen=True)
class FixedControls:
    """CAV-H at a fixed angle of attack and bank: the full rotating-Earth, J2, USSA76 dynamics."""

    alpha_rad: float
    bank_rad: float
    events: tuple = ()

    def controls(self, t, y, idx, mode):
        n = idx.size
        return {"alpha": np.full(n, self.alpha_rad), "bank": np.full(n, self.bank_rad)}, mode

    def derivative(self, t, y, idx, u):
        return point_mass_derivative(t, y, np.full(idx.size, CAV_H.ref_area_m2), CAV_H.aero, u)

    def event_values(self, t, y, idx):
        return np.zeros((idx.size, 0))


def glide_start():
    r = lla_to_ecef(np.array([[np.radians(20.0), np.radians(-150.0), 45_000.0]]))
    east = np.array([-np.sin(np.radians(-150.0)), np.cos(np.radians(-150.0)), 0.0])
    y = np.zeros((1, 7))
    y[0, :3] = r[0]
    y[0, 3:6] = 5_000.0 * east
    y[0, 6] = CAV_H.mass_kg
    return y


def solve_reference(system, y0, t_end):
    def rhs(t, y):
        yy = y[None, :]
        u, _ = system.controls(np.array([t]), yy, np.arange(1), np.zeros(1, int))
        return system.derivative(np.array([t]), yy, np.arange(1), u)[0]

    sol = solve_ivp(rhs, (0.0, t_end), y0[0], method="DOP853", rtol=1e-12, atol=1e-9)
    return sol.y[:, -1]


def test_rk4_matches_solve_ivp_and_converges_at_fourth_order():
    # 300 s of banked CAV-H glide in the full dynamics; reference: DOP853 at rtol 1e-12.
    # Below dt = 2 s the error reaches the floor set by the piecewise-linear atmosphere
    # table (its derivative jumps every 50 m), so the order is measured at 8, 4 and 2 s.
    system = FixedControls(alpha_rad=np.radians(12.0), bank_rad=np.radians(30.0))
    y0 = glide_start()
    ref = solve_reference(system, y0, 300.0)
    errors = {}
    for dt in (8.0, 4.0, 2.0, 0.5):
        res = integrate(system, np.zeros(1), y0, np.full(1, 300.0), dt, record_every=0)
        errors[dt] = np.linalg.norm(res.y[0, :3] - ref[:3])
    assert errors[0.5] < 1e-3, f"position error {errors[0.5]:.3g} m at dt = 0.5 s over 300 s"
    for coarse, fine in ((8.0, 4.0), (4.0, 2.0)):
        order = np.log2(errors[coarse] / errors[fine])
        assert 3.5 < order < 4.5, f"observed order {order:.2f} between dt {coarse} and {fine} s"


def test_batch_equals_single_vehicle_runs():
    system = FixedControls(alpha_rad=np.radians(10.0), bank_rad=np.radians(-20.0))
    y0 = np.repeat(glide_start(), 4, axis=0)
    y0[:, 3:6] *= np.array([1.0, 0.9, 1.1, 0.8])[:, None]
    t_end = np.array([100.0, 150.0, 120.0, 60.0])
    batch = integrate(system, np.zeros(4), y0, t_end, 0.5, record_every=1)
    for i in range(4):
        single = integrate(
            system, np.zeros(1), y0[i : i + 1], t_end[i : i + 1], 0.5, record_every=1
        )
        np.testing.assert_allclose(batch.y[i], single.y[0], rtol=0, atol=1e-6)
        assert batch.t[i] == single.t[0] == t_end[i]
        rows = batch.samples.index == i
        np.testing.assert_allclose(batch.samples.y[rows], single.samples.y, atol=1e-6)


def test_event_time_does_not_depend_on_the_step():
    # impact time of a ballistic arc located inside the step to far below the step size
    y0, _ = launch_state(1500.0)
    y0[0, 0] += 1e-3
    system = KeplerSystem(gm=MU_BMW, rotating=True, surface_radius_m=R_BMW_M - 1e-6)
    times = [
        integrate(system, np.zeros(1), y0, np.full(1, 5e3), dt, record_every=0).t[0]
        for dt in (2.0, 0.5, 0.1)
    ]
    assert max(times) - min(times) < 1e-4, f"impact times {times}"


def test_terminal_event_direction_and_nonterminal_record():
    @dataclass(frozen=True)
    class Rising:
        events: tuple = (
            Event("crosses_5", terminal=False, direction=+1),
            Event("crosses_8", terminal=True, direction=+1),
        )

        def controls(self, t, y, idx, mode):
            return {}, mode

        def derivative(self, t, y, idx, u):
            out = np.zeros_like(y)
            out[:, 0] = 1.0  # x = t
            return out

        def event_values(self, t, y, idx):
            return np.stack([y[:, 0] - 5.0, y[:, 0] - 8.0], axis=1)

    res = integrate(Rising(), np.zeros(2), np.zeros((2, 7)), np.array([20.0, 6.0]), 0.7)
    assert res.status.tolist() == [1, -1]
    assert res.t[0] == pytest.approx(8.0, abs=1e-9)
    assert res.t[1] == pytest.approx(6.0)
    fired = sorted(zip(res.events.index.tolist(), res.events.event.tolist(), strict=True))
    assert fired == [(0, 0), (0, 1), (1, 0)]
    np.testing.assert_allclose(res.events.t[res.events.event == 0], 5.0, atol=1e-9)


def test_staged_boost_obeys_the_rocket_equation():
    # Sutton & Biblarz eq. 2-5 and the Tsiolkovsky equation: every stage burns its
    # propellant at mdot = T / (Isp g0), so at each staging the mass is m0 - m_prop, and the
    # thrust acceleration integrates to Isp g0 ln(m0 / m1) per stage
    from hyperdef.core.frames import lla_to_ecef
    from hyperdef.threats.boost import PitchProgramme, fly_boost
    from hyperdef.threats.launch import pad_state
    from hyperdef.threats.vehicles import CAV_H, STARS_BOOSTER

    pad = lla_to_ecef(np.array([[np.radians(22.0), np.radians(-159.8), 0.0]]))
    aim = lla_to_ecef(np.array([[np.radians(9.4), np.radians(167.5), 0.0]]))
    programme = PitchProgramme(np.array([6.0]), np.array([80.0]), np.radians([5.0]),
                               np.array([np.inf]))
    m0 = STARS_BOOSTER.launch_mass_kg(CAV_H.mass_kg)
    out = fly_boost(STARS_BOOSTER, "pitch", np.zeros(1), pad_state(pad, m0), aim, programme,
                    0.1, 1)
    dv_ideal = 0.0
    for stage, phase in zip(STARS_BOOSTER.stages, out.phases, strict=True):
        m_start, m_end = phase.samples.y[0, 6], phase.samples.y[-1, 6]
        assert m_start - m_end == pytest.approx(stage.propellant_mass_kg, rel=1e-9)
        t = phase.samples.t
        accel = stage.thrust_n / phase.samples.y[:, 6]
        # trapezoid of T/m over the burn against the closed form
        integral = np.sum(0.5 * (accel[1:] + accel[:-1]) * np.diff(t))
        closed = stage.isp_s * 9.80665 * np.log(m_start / m_end)
        assert integral == pytest.approx(closed, rel=1e-4), f"stage burn {integral} vs {closed}"
        dv_ideal += closed
    assert dv_ideal == pytest.approx(STARS_BOOSTER.ideal_delta_v_m_s(CAV_H.mass_kg), rel=1e-9)
