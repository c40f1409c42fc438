"""Unit tests for hyperdef.core.earth: constants, gravity kernels, Earth rotation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyperdef.core import earth
from hyperdef.core.earth import (
    GM_EARTH_M3_S2,
    J2_EARTH,
    OMEGA_EARTH_RAD_S,
    WGS84_A_M,
    WGS84_B_M,
    WGS84_E2,
    WGS84_F,
    ecef_to_eci,
    ecef_to_eci_rotation,
    ecef_to_eci_velocity,
    eci_to_ecef,
    eci_to_ecef_velocity,
    gravity_j2_ecef,
    gravity_point_mass_ecef,
    normal_gravity_surface,
    rotating_frame_acceleration,
)

RNG_SEED = 20240601
coordinate = st.floats(-5e7, 5e7, allow_nan=False)
speed = st.floats(-1e4, 1e4, allow_nan=False)
vectors = st.tuples(coordinate, coordinate, coordinate)
velocities = st.tuples(speed, speed, speed)
times = st.floats(-1e5, 1e5, allow_nan=False)


def positions(n: int, seed: int = RNG_SEED) -> np.ndarray:
    """Random positions between the surface and GEO radius, m."""
    rng = np.random.default_rng(seed)
    direction = rng.normal(size=(n, 3))
    direction /= np.linalg.norm(direction, axis=-1, keepdims=True)
    return direction * rng.uniform(WGS84_B_M, 4.3e7, size=(n, 1))


def cross_rotating(r, v, omega):
    w = np.array([0.0, 0.0, omega])
    return -2.0 * np.cross(w, v) - np.cross(w, np.cross(w, r))


# --------------------------------------------------------------------- constants


def test_derived_constants_match_tr8350_tables():
    # NIMA TR8350.2 (3rd ed.) derived geometric constants, printed values.
    assert WGS84_B_M == pytest.approx(6356752.3142, abs=1e-4)
    assert WGS84_E2 == pytest.approx(6.69437999014e-3, rel=1e-12)
    assert WGS84_F == pytest.approx(1.0 / 298.257223563, rel=1e-15)
    assert earth.WGS84_EP2 == pytest.approx(6.73949674228e-3, rel=1e-11)
    # J2 from the EGM96 normalised C20 = -0.484165371736e-3: J2 = -sqrt(5) C20.
    assert J2_EARTH == pytest.approx(np.sqrt(5.0) * 0.484165371736e-3, rel=1e-8)
    assert earth.R_EARTH_MEAN_M == pytest.approx((2 * WGS84_A_M + WGS84_B_M) / 3, abs=0.05)


# ----------------------------------------------------------------------- gravity


def test_gravity_batch_equals_single_calls():
    r = positions(50)
    batch = gravity_j2_ecef(r)
    singles = np.array([gravity_j2_ecef(p) for p in r])
    np.testing.assert_array_equal(batch, singles)
    assert gravity_j2_ecef(r[0]).shape == (3,)


def test_gravity_broadcasts_over_leading_shape():
    r = positions(24).reshape(2, 3, 4, 3)
    g = gravity_j2_ecef(r)
    assert g.shape == (2, 3, 4, 3)
    np.testing.assert_array_equal(g.reshape(-1, 3), gravity_j2_ecef(r.reshape(-1, 3)))
    assert gravity_point_mass_ecef(r).shape == (2, 3, 4, 3)


def test_point_mass_magnitude_and_direction():
    r = positions(100)
    g = gravity_point_mass_ecef(r)
    rn = np.linalg.norm(r, axis=-1)
    np.testing.assert_allclose(np.linalg.norm(g, axis=-1), GM_EARTH_M3_S2 / rn**2, rtol=1e-14)
    np.testing.assert_allclose(
        g / np.linalg.norm(g, axis=-1, keepdims=True), -r / rn[:, None], atol=1e-15
    )
    custom = gravity_point_mass_ecef(r, gm=1.0)
    np.testing.assert_allclose(custom * GM_EARTH_M3_S2, g, rtol=1e-14)


def test_j2_term_is_small_and_has_the_textbook_sign():
    # On the equator J2 adds to the pull (1 + 1.5 J2), over the pole it weakens it
    # (1 - 3 J2), at the reference radius a.
    g_eq = gravity_j2_ecef([WGS84_A_M, 0.0, 0.0])
    g_pole = gravity_j2_ecef([0.0, 0.0, WGS84_A_M])
    g0 = GM_EARTH_M3_S2 / WGS84_A_M**2
    assert g_eq == pytest.approx([-g0 * (1 + 1.5 * J2_EARTH), 0.0, 0.0], rel=1e-15)
    assert g_pole == pytest.approx([0.0, 0.0, -g0 * (1 - 3.0 * J2_EARTH)], rel=1e-15)
    r = positions(200)
    rel = np.linalg.norm(gravity_j2_ecef(r) - gravity_point_mass_ecef(r), axis=-1) / np.linalg.norm(
        gravity_point_mass_ecef(r), axis=-1
    )
    assert rel.max() < 3.5 * J2_EARTH


def test_gravity_is_symmetric_about_the_axis_and_the_equator():
    r = positions(100)
    g = gravity_j2_ecef(r)
    mirrored = gravity_j2_ecef(r * [1.0, 1.0, -1.0])
    np.testing.assert_allclose(mirrored, g * [1.0, 1.0, -1.0], rtol=1e-15, atol=0.0)
    angle = 0.7
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(gravity_j2_ecef(r @ rot.T), g @ rot.T, rtol=1e-12, atol=1e-14)


# --------------------------------------------------------- rotating-frame terms


@settings(max_examples=200, deadline=None, derandomize=True)
@given(vectors, velocities, st.floats(-1e-3, 1e-3, allow_nan=False))
def test_rotating_frame_acceleration_matches_cross_products(r, v, omega):
    got = rotating_frame_acceleration(np.array(r), np.array(v), omega)
    want = cross_rotating(np.array(r), np.array(v), omega)
    scale = 1e-12 * (omega**2 * np.linalg.norm(r) + abs(omega) * np.linalg.norm(v)) + 1e-20
    np.testing.assert_allclose(got, want, rtol=0.0, atol=scale)


def test_rotating_frame_acceleration_batch_and_broadcast():
    rng = np.random.default_rng(RNG_SEED)
    r = positions(40).reshape(4, 10, 3)
    v = rng.normal(0.0, 3000.0, size=(4, 10, 3))
    a = rotating_frame_acceleration(r, v)
    assert a.shape == (4, 10, 3)
    np.testing.assert_allclose(a, cross_rotating(r, v, OMEGA_EARTH_RAD_S), rtol=1e-13, atol=1e-18)
    single = np.array(
        [
            rotating_frame_acceleration(p, q)
            for p, q in zip(r.reshape(-1, 3), v.reshape(-1, 3), strict=True)
        ]
    )
    np.testing.assert_array_equal(a.reshape(-1, 3), single)
    # One velocity for many positions.
    assert rotating_frame_acceleration(r, v[0, 0]).shape == (4, 10, 3)


def test_rotating_frame_acceleration_special_cases():
    # At rest on the axis: nothing. At rest on the equator: centrifugal omega^2 a outward.
    np.testing.assert_array_equal(rotating_frame_acceleration([0, 0, 7e6], [0, 0, 0]), [0, 0, 0])
    a = rotating_frame_acceleration([WGS84_A_M, 0, 0], [0, 0, 0])
    assert a == pytest.approx([OMEGA_EARTH_RAD_S**2 * WGS84_A_M, 0.0, 0.0], rel=1e-15)
    # Moving east on the equator: Coriolis pushes up (away from the axis).
    a = rotating_frame_acceleration([WGS84_A_M, 0, 0], [0, 1000.0, 0])
    assert a[0] > OMEGA_EARTH_RAD_S**2 * WGS84_A_M


# ----------------------------------------------------------------- normal gravity


def test_normal_gravity_endpoints_and_symmetry():
    # TR8350.2 derived physical constants: gamma_e and gamma_p.
    assert normal_gravity_surface(0.0) == pytest.approx(9.7803253359, abs=1e-10)
    assert normal_gravity_surface(np.pi / 2) == pytest.approx(9.8321849378, abs=1e-9)
    lat = np.linspace(-np.pi / 2, np.pi / 2, 37)
    g = normal_gravity_surface(lat)
    np.testing.assert_allclose(g, g[::-1], rtol=1e-15)
    assert np.all(np.diff(g[18:]) > 0)  # increases towards the pole


# ------------------------------------------------------------------ ECI <-> ECEF


@settings(max_examples=200, deadline=None, derandomize=True)
@given(vectors, times, st.floats(-7.0, 7.0, allow_nan=False))
def test_eci_ecef_position_round_trip(r, t, theta0):
    r = np.array(r)
    back = eci_to_ecef(ecef_to_eci(r, t, theta0), t, theta0)
    np.testing.assert_allclose(back, r, rtol=0.0, atol=4e-15 * np.linalg.norm(r) + 1e-12)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(vectors, velocities, times)
def test_eci_ecef_velocity_round_trip(r, v, t):
    r, v = np.array(r), np.array(v)
    v_eci = ecef_to_eci_velocity(r, v, t)
    back = eci_to_ecef_velocity(ecef_to_eci(r, t), v_eci, t)
    atol = 1e-13 * (np.linalg.norm(v) + OMEGA_EARTH_RAD_S * np.linalg.norm(r)) + 1e-12
    np.testing.assert_allclose(back, v, rtol=0.0, atol=atol)


def test_eci_rotation_matrix_properties_and_consistency():
    t = np.linspace(-5000.0, 5000.0, 7)
    rot = ecef_to_eci_rotation(t, theta0_rad=0.3)
    assert rot.shape == (7, 3, 3)
    np.testing.assert_allclose(
        rot @ np.swapaxes(rot, -1, -2), np.broadcast_to(np.eye(3), rot.shape), atol=1e-15
    )
    np.testing.assert_allclose(np.linalg.det(rot), 1.0, rtol=1e-15)
    r = positions(7)
    np.testing.assert_allclose(
        ecef_to_eci(r, t, 0.3), np.einsum("nij,nj->ni", rot, r), rtol=1e-15, atol=1e-8
    )
    np.testing.assert_array_equal(ecef_to_eci_rotation(0.0), np.eye(3))


def test_earth_fixed_point_moves_east_in_eci():
    # After a quarter sidereal rotation, Greenwich on the equator sits on ECI +y.
    quarter = 0.5 * np.pi / OMEGA_EARTH_RAD_S
    r_eci = ecef_to_eci([WGS84_A_M, 0.0, 0.0], quarter)
    np.testing.assert_allclose(r_eci, [0.0, WGS84_A_M, 0.0], atol=1e-8)
    v_eci = ecef_to_eci_velocity([WGS84_A_M, 0.0, 0.0], [0.0, 0.0, 0.0], 0.0)
    np.testing.assert_allclose(v_eci, [0.0, OMEGA_EARTH_RAD_S * WGS84_A_M, 0.0], rtol=1e-15)


def test_eci_velocity_is_time_derivative_of_eci_position():
    rng = np.random.default_rng(RNG_SEED)
    r0 = positions(20)
    v = rng.normal(0.0, 3000.0, size=(20, 3))
    t, dt = 1234.5, 1e-3

    def p(time):
        return ecef_to_eci(r0 + v * time, time)

    numeric = (p(t + dt) - p(t - dt)) / (2 * dt)
    analytic = ecef_to_eci_velocity(r0 + v * t, v, t)
    np.testing.assert_allclose(numeric, analytic, rtol=0.0, atol=1e-4)


def test_eci_functions_broadcast_times_against_positions():
    r = positions(5)
    t = np.array([[0.0], [100.0], [200.0]])  # (3, 1) against (5, 3) -> (3, 5, 3)
    out = ecef_to_eci(r, t[..., 0][:, None])
    assert out.shape == (3, 5, 3)
    np.testing.assert_allclose(out[1], ecef_to_eci(r, 100.0), rtol=1e-15)
    assert ecef_to_eci_velocity(r, np.zeros(3), np.zeros((3, 5))).shape == (3, 5, 3)
    assert eci_to_ecef_velocity(r, np.zeros(3), np.zeros((3, 5))).shape == (3, 5, 3)
