"""Unit tests of the batched guidance kernels (component-major (3, n) vectors)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyperdef.threats.aero import CavHAero, LiftingBodyAero
from hyperdef.threats.guidance import (
    alpha_bank_from_lift,
    cross,
    dive_due,
    dot,
    eggers_range_m,
    eggers_speed_for_range,
    great_circle_to_aim,
    heading_error_rad,
    kepler_time_of_flight_s,
    kepler_velocity_for_range,
    minimum_energy_flight_path_rad,
    minimum_energy_speed_m_s,
    proportional_navigation,
    required_lift_to_drag,
    unit,
    wind_axes,
)

finite = st.floats(-1e7, 1e7, allow_nan=False)
vec = st.tuples(finite, finite, finite)


@settings(max_examples=60)
@given(st.lists(st.tuples(vec, vec), min_size=1, max_size=8))
def test_cross_and_dot_match_numpy(pairs):
    a = np.array([p[0] for p in pairs]).T
    b = np.array([p[1] for p in pairs]).T
    np.testing.assert_allclose(cross(a, b), np.cross(a.T, b.T).T, rtol=1e-12, atol=1e-3)
    np.testing.assert_allclose(dot(a, b), np.einsum("ij,ij->i", a.T, b.T), rtol=1e-12, atol=1e-3)


def test_unit_keeps_zero_vectors_zero():
    a = np.array([[3.0, 0.0], [4.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(unit(a), [[0.6, 0.0], [0.8, 0.0], [0.0, 0.0]])


def test_great_circle_and_heading_on_the_equator():
    r = np.array([[6.4e6], [0.0], [0.0]])
    aim_east = np.array([[0.0], [1.0], [0.0]])
    psi, direction, up = great_circle_to_aim(r, aim_east)
    assert psi[0] == pytest.approx(np.pi / 2)
    np.testing.assert_allclose(direction[:, 0], [0.0, 1.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(up[:, 0], [1.0, 0.0, 0.0])
    # flying north with the aim to the east: the aim is 90 deg to the right
    v_north = np.array([[0.0], [0.0], [100.0]])
    assert heading_error_rad(v_north, direction, up)[0] == pytest.approx(np.pi / 2)
    v_south = -v_north
    assert heading_error_rad(v_south, direction, up)[0] == pytest.approx(-np.pi / 2)


def test_wind_axes_and_bank_convention():
    # level flight north on the equator: lift at zero bank is up, at +90 deg it is east (right)
    up = np.array([[1.0], [0.0], [0.0]])
    v = np.array([[0.0], [0.0], [3_000.0]])
    u, e_up, e_side, speed = wind_axes(v, up)
    np.testing.assert_allclose(e_up[:, 0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(e_side[:, 0], [0.0, 1.0, 0.0])  # +y is east at lon 0
    assert speed[0] == 3_000.0
    controls = alpha_bank_from_lift(
        np.array([0.0]),
        np.array([5.0]),
        np.array([5e4]),
        np.array([900.0]),
        np.array([0.5]),
        CavHAero().at_mach(np.array([10.0])).alpha_for_lift_coefficient,
    )
    assert np.degrees(controls["bank"][0]) == pytest.approx(90.0)
    assert controls["sin_bank"][0] == pytest.approx(1.0)


def test_alpha_from_lift_inverts_the_lift_curve_and_clamps():
    aero = CavHAero()
    mach = np.array([8.0, 8.0, 8.0])
    alpha = np.radians([5.0, 12.0, 19.0])
    cl, _ = aero.coefficients(alpha, mach)
    np.testing.assert_allclose(aero.alpha_for_lift_coefficient(cl, mach), alpha, atol=1e-12)
    assert np.degrees(aero.alpha_for_lift_coefficient(np.array([5.0]), np.array([8.0]))[0]) == 20.0
    body = LiftingBodyAero()
    assert body.alpha_for_lift_coefficient(np.array([-9.0]), np.array([6.0]))[0] == pytest.approx(
        -np.radians(body.alpha_max_deg)
    )


def test_eggers_speed_inverts_eggers_range():
    r = np.full(3, 6.42e6)
    v0 = np.array([3_000.0, 4_500.0, 6_500.0])
    rng = eggers_range_m(np.full(3, 3.0), v0, np.full(3, 1_500.0), r)
    np.testing.assert_allclose(
        eggers_speed_for_range(rng, np.full(3, 3.0), np.full(3, 1_500.0), r), v0, rtol=1e-10
    )
    ld = required_lift_to_drag(rng, v0, np.full(3, 1_500.0), r)
    np.testing.assert_allclose(ld, 3.0, rtol=1e-10)
    assert (
        required_lift_to_drag(
            np.array([1e6]), np.array([1_400.0]), np.array([1_500.0]), np.array([6.42e6])
        )[0]
        == np.inf
    )


def test_kepler_arc_helpers_reproduce_the_minimum_energy_case():
    # Bate, Mueller & White ch. 6: 1,000 km -> 3.013 km/s and 7.9 min on a 6,378 km sphere
    psi = np.array([1_000e3 / 6_378e3])
    gamma = minimum_energy_flight_path_rad(psi)
    v = kepler_velocity_for_range(np.array([6_378e3]), np.array([6_378e3]), psi, gamma, gm=3.986e14)
    assert v[0] == pytest.approx(minimum_energy_speed_m_s(psi, 6_378e3, gm=3.986e14)[0], rel=1e-12)
    assert v[0] / 1e3 == pytest.approx(3.013, rel=1e-3)
    tof = kepler_time_of_flight_s(np.array([6_378e3]), v, gamma, psi, gm=3.986e14)
    assert tof[0] / 60 == pytest.approx(7.9, rel=0.01)


def test_proportional_navigation_is_perpendicular_to_the_line_of_sight():
    rng = np.random.default_rng(0)
    r = rng.normal(size=(3, 20)) * 1e4 + np.array([[6.4e6], [0.0], [0.0]])
    v = rng.normal(size=(3, 20)) * 2e3
    aim = np.tile(np.array([[6.37e6], [5e4], [0.0]]), (1, 20))
    a = proportional_navigation(r, v, aim, 4.0)
    los = unit(aim - r)
    np.testing.assert_allclose(dot(a, los), 0.0, atol=1e-9 * np.abs(a).max())
    # on a collision course there is no command
    v_hit = (aim - r) * 0.01
    np.testing.assert_allclose(proportional_navigation(r, v_hit, aim, 4.0), 0.0, atol=1e-9)


def test_dive_starts_when_the_arc_needs_the_turn_capability():
    alt = np.full(3, 30e3)
    speed = np.full(3, 2_000.0)
    accel = np.full(3, 15.0)
    ranges = np.array([300e3, 120e3, 60e3])
    due = dive_due(ranges, alt, speed, accel, margin=0.5)
    assert due.tolist() == [False, True, True]
