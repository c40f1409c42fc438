"""Unit and property tests for hyperdef.core.frames."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyperdef.core.earth import R_EARTH_MEAN_M, WGS84_A_M, WGS84_B_M
from hyperdef.core.frames import (
    aer_to_ecef,
    aer_to_enu,
    ecef_to_aer,
    ecef_to_enu,
    ecef_to_lla,
    ecef_vector_to_enu,
    enu_rotation,
    enu_to_aer,
    enu_to_ecef,
    enu_vector_to_ecef,
    geodesic_distance_m,
    geodetic_up_ecef,
    great_circle_distance_m,
    initial_bearing_rad,
    lla_to_ecef,
    local_east_ecef,
    local_north_ecef,
    local_up_ecef,
)
from hyperdef.errors import InputError

HALF_PI = np.pi / 2
SEED = 7


def random_lla(n, seed=SEED, alt_range=(-5e3, 1e5)):
    rng = np.random.default_rng(seed)
    return np.stack(
        (
            np.arcsin(rng.uniform(-1.0, 1.0, n)),
            rng.uniform(-np.pi, np.pi, n),
            rng.uniform(*alt_range, n),
        ),
        axis=-1,
    )


def wrap(angle):
    return (np.asarray(angle) + np.pi) % (2 * np.pi) - np.pi


latitudes = st.one_of(st.floats(-HALF_PI, HALF_PI), st.sampled_from([-HALF_PI, 0.0, HALF_PI]))
longitudes = st.one_of(
    st.floats(-np.pi, np.pi), st.sampled_from([-np.pi, np.pi, 0.0, np.nextafter(np.pi, 0)])
)
surface_altitudes = st.floats(-5e3, 1e5)
lla_points = st.tuples(latitudes, longitudes, surface_altitudes)


# ------------------------------------------------------------ batch vs single


def test_batch_equals_single_calls():
    lla = random_lla(30)
    r = lla_to_ecef(lla)
    ref = lla[0]
    np.testing.assert_array_equal(r, np.array([lla_to_ecef(p) for p in lla]))
    np.testing.assert_array_equal(ecef_to_lla(r), np.array([ecef_to_lla(p) for p in r]))
    enu = ecef_to_enu(r, ref)
    np.testing.assert_array_equal(enu, np.array([ecef_to_enu(p, ref) for p in r]))
    np.testing.assert_array_equal(enu_to_aer(enu), np.array([enu_to_aer(p) for p in enu]))
    np.testing.assert_array_equal(
        geodesic_distance_m(lla, ref), np.array([geodesic_distance_m(p, ref) for p in lla])
    )
    assert np.ndim(geodesic_distance_m(lla[0], lla[1])) == 0


def test_broadcasting_reference_points():
    lla = random_lla(20).reshape(4, 5, 3)
    r = lla_to_ecef(lla)
    refs = random_lla(5, seed=8)
    assert ecef_to_enu(r, refs[0]).shape == (4, 5, 3)  # one reference for all
    per_column = ecef_to_enu(r, refs)  # (4, 5, 3) against (5, 3)
    assert per_column.shape == (4, 5, 3)
    np.testing.assert_array_equal(per_column[:, 2], ecef_to_enu(r[:, 2], refs[2]))
    per_point = ecef_to_enu(r, np.broadcast_to(refs, (4, 5, 3)))
    np.testing.assert_array_equal(per_point, per_column)
    # One point seen from many references.
    assert ecef_to_aer(r[0, 0], refs).shape == (5, 3)
    assert enu_rotation(refs).shape == (5, 3, 3)
    assert enu_rotation(refs[0]).shape == (3, 3)
    assert geodesic_distance_m(lla, refs).shape == (4, 5)
    assert lla_to_ecef(lla).shape == (4, 5, 3)
    assert ecef_to_lla(r).shape == (4, 5, 3)


# --------------------------------------------------------------- round trips


@settings(max_examples=300, deadline=None, derandomize=True)
@given(lla_points)
def test_lla_ecef_round_trip_near_surface(lla):
    back = ecef_to_lla(lla_to_ecef(lla))
    assert abs(back[0] - lla[0]) < 1e-13
    assert abs(back[2] - lla[2]) < 1e-8
    if abs(lla[0]) < HALF_PI:
        assert abs(wrap(back[1] - lla[1])) < 1e-13


@settings(max_examples=200, deadline=None, derandomize=True)
@given(lla_points, st.tuples(st.floats(-2e6, 2e6), st.floats(-2e6, 2e6), st.floats(-1e5, 1e6)))
def test_enu_ecef_round_trip(ref, enu):
    enu = np.array(enu)
    back = ecef_to_enu(enu_to_ecef(enu, ref), ref)
    np.testing.assert_allclose(back, enu, rtol=0.0, atol=1e-8)
    vec = enu_vector_to_ecef(enu, ref)
    np.testing.assert_allclose(np.linalg.norm(vec), np.linalg.norm(enu), rtol=1e-14)
    np.testing.assert_allclose(ecef_vector_to_enu(vec, ref), enu, rtol=0.0, atol=1e-9)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.floats(0.0, 5e7),
    st.floats(0.0, 2 * np.pi, exclude_max=True),
    st.floats(-HALF_PI + 1e-6, HALF_PI - 1e-6),
)
def test_aer_enu_round_trip(slant_range, azimuth, elevation):
    aer = enu_to_aer(aer_to_enu([slant_range, azimuth, elevation]))
    assert aer[0] == pytest.approx(slant_range, rel=1e-14, abs=1e-9)
    if slant_range > 1e-3:
        assert abs(aer[2] - elevation) < 1e-12
        assert abs(wrap(aer[1] - azimuth)) < 1e-12 / np.cos(elevation)
    assert 0.0 <= aer[1] < 2 * np.pi


@settings(max_examples=100, deadline=None, derandomize=True)
@given(lla_points, st.tuples(st.floats(1.0, 4e6), st.floats(0.0, 6.28), st.floats(-1.5, 1.5)))
def test_aer_ecef_round_trip(ref, aer):
    back = ecef_to_aer(aer_to_ecef(aer, ref), ref)
    assert back[0] == pytest.approx(aer[0], rel=1e-12, abs=1e-8)
    assert abs(back[2] - aer[2]) < 1e-9
    assert abs(wrap(back[1] - aer[1])) * np.cos(aer[2]) < 1e-9


# ------------------------------------------------------- poles and date line


def test_poles():
    north = lla_to_ecef([HALF_PI, 1.234, 0.0])
    np.testing.assert_allclose(north, [0.0, 0.0, WGS84_B_M], atol=1e-8)
    for z, lat in ((WGS84_B_M + 1000.0, HALF_PI), (-(WGS84_B_M + 1000.0), -HALF_PI)):
        lla = ecef_to_lla([0.0, 0.0, z])
        np.testing.assert_array_equal(lla[:2], [lat, 0.0])
        assert lla[2] == pytest.approx(1000.0, abs=1e-8)
        np.testing.assert_array_equal(geodetic_up_ecef([0.0, 0.0, z]), [0.0, 0.0, np.sign(z)])
    # ENU at the pole is well defined (east follows the reference longitude).
    rot = enu_rotation([HALF_PI, 0.0, 0.0])
    np.testing.assert_allclose(rot, [[0, 1, 0], [-1, 0, 0], [0, 0, 1]], atol=1e-15)
    aer = ecef_to_aer(lla_to_ecef([HALF_PI, 0.0, 1e5]), [HALF_PI, 0.0, 0.0])
    assert aer[0] == pytest.approx(1e5, abs=1e-7)
    assert aer[2] == pytest.approx(HALF_PI, abs=1e-12)


def test_equator_and_date_line():
    np.testing.assert_allclose(lla_to_ecef([0.0, 0.0, 0.0]), [WGS84_A_M, 0.0, 0.0], atol=1e-9)
    east, west = lla_to_ecef([0.3, np.pi, 10.0]), lla_to_ecef([0.3, -np.pi, 10.0])
    np.testing.assert_allclose(east, west, atol=1e-8)
    lla = ecef_to_lla([-WGS84_A_M, 0.0, 0.0])
    assert (
        lla[0] == 0.0
        and abs(lla[1]) == pytest.approx(np.pi)
        and lla[2] == pytest.approx(0, abs=1e-8)
    )
    # Across the date line: 0.2 deg of longitude on the equator, not 359.8.
    a, b = [0.0, np.radians(179.9), 0.0], [0.0, np.radians(-179.9), 0.0]
    expected = WGS84_A_M * np.radians(0.2)
    assert geodesic_distance_m(a, b) == pytest.approx(expected, rel=1e-9)
    assert great_circle_distance_m(0.0, a[1], 0.0, b[1]) == pytest.approx(
        R_EARTH_MEAN_M * np.radians(0.2), rel=1e-12
    )
    assert initial_bearing_rad(0.0, a[1], 0.0, b[1]) == pytest.approx(HALF_PI, abs=1e-12)
    enu = ecef_to_enu(lla_to_ecef(b), a)
    assert enu[0] > 0.0 and abs(enu[1]) < 1.0  # the point is due east


# ---------------------------------------------------------------- zero range


def test_zero_range_enu_and_aer():
    ref = np.array([0.6, -2.0, 1234.0])
    np.testing.assert_allclose(ecef_to_enu(lla_to_ecef(ref), ref), [0, 0, 0], atol=1e-9)
    np.testing.assert_array_equal(enu_to_aer([0.0, 0.0, 0.0]), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(aer_to_enu([0.0, 1.0, 0.5]), [0.0, 0.0, 0.0])
    np.testing.assert_allclose(aer_to_ecef([0.0, 1.0, 0.5], ref), lla_to_ecef(ref), atol=1e-9)
    assert geodesic_distance_m(ref, ref) == 0.0
    assert great_circle_distance_m(0.3, 0.4, 0.3, 0.4) == 0.0
    assert initial_bearing_rad(0.3, 0.4, 0.3, 0.4) == 0.0


# ------------------------------------------------------------ ENU geometry


def test_enu_rotation_is_orthonormal_and_matches_unit_vectors():
    lla = random_lla(50)
    rot = enu_rotation(lla)
    eye = np.broadcast_to(np.eye(3), rot.shape)
    np.testing.assert_allclose(rot @ np.swapaxes(rot, -1, -2), eye, atol=1e-15)
    np.testing.assert_allclose(np.linalg.det(rot), 1.0, rtol=1e-14)
    np.testing.assert_allclose(rot[:, 0], local_east_ecef(lla), atol=1e-16)
    np.testing.assert_allclose(rot[:, 1], local_north_ecef(lla), atol=1e-16)
    np.testing.assert_allclose(rot[:, 2], local_up_ecef(lla), atol=1e-16)
    v = np.random.default_rng(SEED).normal(size=(50, 3))
    np.testing.assert_allclose(
        ecef_vector_to_enu(v, lla), np.einsum("nij,nj->ni", rot, v), atol=1e-14
    )


def test_up_is_the_ellipsoid_normal():
    # Raising the altitude moves the point exactly along the local up vector.
    lla = random_lla(100)
    step = lla_to_ecef(lla + [0.0, 0.0, 1000.0]) - lla_to_ecef(lla)
    np.testing.assert_allclose(step / 1000.0, local_up_ecef(lla), atol=1e-11)
    np.testing.assert_allclose(geodetic_up_ecef(lla_to_ecef(lla)), local_up_ecef(lla), atol=1e-14)
    # The ENU up coordinate of a point straight above is its height difference.
    enu = ecef_to_enu(lla_to_ecef(lla + [0.0, 0.0, 500.0]), lla)
    np.testing.assert_allclose(enu, np.broadcast_to([0.0, 0.0, 500.0], enu.shape), atol=1e-8)


def test_azimuth_conventions():
    az = enu_to_aer([[0, 1, 0], [1, 0, 0], [0, -1, 0], [-1, 0, 0], [-1e-20, 1, 0], [0, 0, 5]])[:, 1]
    np.testing.assert_allclose(az[:4], [0.0, HALF_PI, np.pi, 1.5 * np.pi], atol=1e-15)
    assert 0.0 <= az[4] < 2 * np.pi  # just west of north stays below 2 pi
    assert az[5] == 0.0  # zenith
    el = enu_to_aer([[0, 0, 5], [0, 0, -5], [3, 4, 0]])[:, 2]
    np.testing.assert_allclose(el, [HALF_PI, -HALF_PI, 0.0])


# ------------------------------------------------------------- input checks


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: lla_to_ecef([np.radians(95.0), 0.0, 0.0]), "lat: 95.0 deg outside [-90, 90]"),
        (lambda: lla_to_ecef([[0, 0, 0], [np.radians(-90.5), 0, 0]]), "lat[1]: -90.5 deg outside"),
        (lambda: lla_to_ecef([np.nan, 0.0, 0.0]), "lat: nan deg outside"),
        (lambda: lla_to_ecef([0.0, np.inf, 0.0]), "lon: inf is not finite"),
        (lambda: lla_to_ecef([0.0, 0.0]), "lla: got last axis of length 2"),
        (lambda: ecef_to_enu([1e7, 0, 0], [2.0, 0.0, 0.0]), "ref_lla lat: 114.59"),
        (lambda: enu_rotation([-2.0, 0.0, 0.0]), "ref_lla lat: -114.59"),
        (lambda: aer_to_ecef([1, 0, 0], [4.0, 0.0, 0.0]), "ref_lla lat"),
        (lambda: local_up_ecef([3.0, 0.0, 0.0]), "lat: 171.88"),
        (lambda: geodesic_distance_m([0, 0, 0], [1.6, 0, 0]), "lla2 lat: 91.67"),
    ],
)
def test_input_errors_name_the_field_and_range(call, message):
    with pytest.raises(InputError) as info:
        call()
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_latitude_tolerance_and_unchecked_path():
    lla_to_ecef([HALF_PI + 1e-12, 0.0, 0.0])  # rounding noise is accepted
    with pytest.raises(InputError):
        lla_to_ecef([HALF_PI + 1e-6, 0.0, 0.0])
    # check=False trusts the caller: no error, same numbers as the checked path.
    lla = random_lla(10)
    np.testing.assert_array_equal(lla_to_ecef(lla, check=False), lla_to_ecef(lla))
    lla_to_ecef([2.0, 0.0, 0.0], check=False)
    ecef_to_enu([1e7, 0.0, 0.0], [2.0, 0.0, 0.0], check=False)


# ------------------------------------------------------ sphere and ellipsoid


def test_great_circle_basics():
    quarter = great_circle_distance_m(0.0, 0.0, HALF_PI, 0.7)
    assert quarter == pytest.approx(HALF_PI * R_EARTH_MEAN_M, rel=1e-15)
    assert great_circle_distance_m(0.2, 0.0, -0.2, np.pi) == pytest.approx(
        np.pi * R_EARTH_MEAN_M, rel=1e-15
    )
    # 1 m apart at mid latitude: the haversine form keeps the metre.
    dlat = 1.0 / R_EARTH_MEAN_M
    assert great_circle_distance_m(0.7, 1.0, 0.7 + dlat, 1.0) == pytest.approx(1.0, rel=1e-9)
    assert great_circle_distance_m(0.0, 0.0, 0.0, 1.0, radius_m=1.0) == pytest.approx(1.0)
    lat1, lon1, lat2, lon2 = random_lla(40).T[:2].tolist() + random_lla(40, seed=9).T[:2].tolist()
    np.testing.assert_allclose(
        great_circle_distance_m(lat1, lon1, lat2, lon2),
        great_circle_distance_m(lat2, lon2, lat1, lon1),
    )


def test_initial_bearing_conventions():
    assert initial_bearing_rad(0.0, 0.0, 0.1, 0.0) == pytest.approx(0.0, abs=1e-15)
    assert initial_bearing_rad(0.0, 0.0, 0.0, 0.1) == pytest.approx(HALF_PI)
    assert initial_bearing_rad(0.0, 0.0, -0.1, 0.0) == pytest.approx(np.pi)
    assert initial_bearing_rad(0.0, 0.0, 0.0, -0.1) == pytest.approx(1.5 * np.pi)
    lla1, lla2 = random_lla(200), random_lla(200, seed=11)
    bearing = initial_bearing_rad(lla1[:, 0], lla1[:, 1], lla2[:, 0], lla2[:, 1])
    assert np.all((bearing >= 0.0) & (bearing < 2 * np.pi))


def test_geodesic_basics():
    # Pole to pole: half the meridian; symmetric in its arguments; short lines on the
    # equator are a * dlon.
    half_meridian = geodesic_distance_m([HALF_PI, 0, 0], [-HALF_PI, 0, 0])
    assert half_meridian == pytest.approx(20003931.4586, abs=1e-3)
    lla1, lla2 = random_lla(300), random_lla(300, seed=12)
    np.testing.assert_allclose(
        geodesic_distance_m(lla1, lla2), geodesic_distance_m(lla2, lla1), rtol=1e-12
    )
    assert geodesic_distance_m([0, 0, 0], [0, 1e-3, 0]) == pytest.approx(
        WGS84_A_M * 1e-3, rel=1e-12
    )
    # Altitude is ignored; the antipodal fallback gives a finite answer everywhere.
    assert geodesic_distance_m([0.1, 0.2, 0.0], [0.3, 0.4, 5e4]) == geodesic_distance_m(
        [0.1, 0.2, 0.0], [0.3, 0.4, 0.0]
    )
    antipodal = geodesic_distance_m(lla1, lla1 * [-1, 1, 1] + [0.0, np.pi, 0.0])
    assert np.all(np.isfinite(antipodal))
    assert np.all(antipodal <= half_meridian + 1e-6)
    assert np.all(antipodal > 19.9e6)
