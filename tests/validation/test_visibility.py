"""Validation of line of sight and the radar horizon against closed-form geometry.

Sources:
- M. I. Skolnik, Introduction to Radar Systems, 3rd ed., McGraw-Hill, 2001, ch. 8: the
  4/3 effective Earth and the radar horizon ``d = sqrt(2 k R h1) + sqrt(2 k R h2)``.
- A. W. Doerry, SAND2012-10690, Sandia National Laboratories, 2013: exact horizon
  over the effective sphere, ``k R (acos(kR/(kR+h1)) + acos(kR/(kR+h2)))``.
- WGS-84 (NIMA TR8350.2): the equator is a circle of radius a, so on it the exact
  ellipsoid test and the sphere of radius a must agree.
"""

import math

import numpy as np
import pytest

from hyperdef.core.earth import R_EARTH_MEAN_M, WGS84_A_M
from hyperdef.core.frames import lla_to_ecef
from hyperdef.errors import InputError
from hyperdef.sensors.visibility import horizon_range, line_of_sight

K43 = 4.0 / 3.0


def horizon_alt_m(ground_range_m, sensor_alt_m, k, radius_m):
    """Target altitude whose line to the sensor grazes a sphere of radius k R."""
    rho = k * radius_m
    return rho / math.cos(ground_range_m / rho - math.acos(rho / (rho + sensor_alt_m))) - rho


def test_horizon_range_matches_the_classic_approximation():
    """10 m antenna, 40 km target: Skolnik's sqrt(2 k R h) sum within 1 %."""
    exact = horizon_range(10.0, 40e3)
    approx = math.sqrt(2 * K43 * R_EARTH_MEAN_M * 10.0) + math.sqrt(2 * K43 * R_EARTH_MEAN_M * 40e3)
    assert exact == pytest.approx(approx, rel=0.01), (exact, approx)
    # the familiar rule of thumb: 4.12 km x (sqrt(h1 m) + sqrt(h2 m)) for k = 4/3
    assert exact / 1e3 == pytest.approx(4.12 * (math.sqrt(10.0) + math.sqrt(40e3)), rel=0.01)


def test_horizon_range_vectorised_and_geometric():
    h = np.array([0.0, 10.0, 1e3, 100e3])
    d = horizon_range(h[:, None], h[None, :], 1.0)
    assert d.shape == (4, 4)
    np.testing.assert_allclose(d, d.T)
    assert d[0, 0] == 0.0
    # geometric horizon from 100 km: R acos(R / (R + h))
    expected = R_EARTH_MEAN_M * math.acos(R_EARTH_MEAN_M / (R_EARTH_MEAN_M + 100e3))
    assert d[3, 0] == pytest.approx(expected, rel=1e-12)
    # refraction lengthens low horizons by about sqrt(k)
    assert horizon_range(10.0, 0.0) / horizon_range(10.0, 0.0, 1.0) == pytest.approx(
        math.sqrt(K43), rel=1e-5
    )


@pytest.mark.parametrize("ground_range_m", [50e3, 300e3, 800e3, 1500e3])
@pytest.mark.parametrize("k", [K43, 1.0])
def test_target_just_above_and_below_the_horizon_on_the_equator(ground_range_m, k):
    """Along the equator the ellipsoid section is a circle of radius a: the line clears
    a target 0.5 % above the horizon altitude and is blocked 0.5 % below it."""
    sensor_alt = 10.0
    h = horizon_alt_m(ground_range_m, sensor_alt, k, WGS84_A_M)
    sensor = lla_to_ecef([0.0, 0.3, sensor_alt])
    lon = 0.3 + ground_range_m / WGS84_A_M
    above = lla_to_ecef([0.0, lon, 1.005 * h])
    below = lla_to_ecef([0.0, lon, 0.995 * h])
    assert line_of_sight(sensor, above, k_factor=k), f"blocked {0.005 * h:.1f} m above horizon"
    assert not line_of_sight(sensor, below, k_factor=k), f"clear {0.005 * h:.1f} m below horizon"
    # the horizon range of that altitude is the ground range (sphere of radius a)
    assert horizon_range(sensor_alt, h, k, radius_m=WGS84_A_M) == pytest.approx(
        ground_range_m, rel=1e-9
    )


def test_refraction_extends_the_view():
    """A target between the geometric and the 4/3 horizon: seen by radar, not by optics."""
    sensor = lla_to_ecef([0.0, 0.0, 20.0])
    ground_range = 400e3
    h_radar = horizon_alt_m(ground_range, 20.0, K43, WGS84_A_M)
    h_optical = horizon_alt_m(ground_range, 20.0, 1.0, WGS84_A_M)
    target = lla_to_ecef([0.0, ground_range / WGS84_A_M, 0.5 * (h_radar + h_optical)])
    assert line_of_sight(sensor, target, k_factor=K43)
    assert not line_of_sight(sensor, target)


def test_blocked_and_clear_across_the_earth():
    deg = math.pi / 180
    pairs = [
        # antipodal points on the surface and at 1,000 km: blocked
        ([10 * deg, 20 * deg, 0.0], [-10 * deg, -160 * deg, 0.0], False),
        ([10 * deg, 20 * deg, 1e6], [-10 * deg, -160 * deg, 1e6], False),
        # two satellites above the same point (LEO and GEO altitude): clear
        ([40 * deg, -100 * deg, 500e3], [40 * deg, -100 * deg, 35_786e3], True),
        # a ground station and a satellite overhead: clear; one 90 deg away in LEO: blocked
        ([51 * deg, 0.0, 100.0], [51 * deg, 0.0, 700e3], True),
        ([51 * deg, 0.0, 100.0], [-39 * deg, 0.0, 700e3], False),
        # across the pole: two LEO satellites 20 deg apart along a meridian: clear
        ([80 * deg, 0.0, 800e3], [80 * deg, 180 * deg, 800e3], True),
        # same place twice
        ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], True),
    ]
    a = lla_to_ecef([p[0] for p in pairs])
    b = lla_to_ecef([p[1] for p in pairs])
    expected = np.array([p[2] for p in pairs])
    for k in (1.0, K43):
        np.testing.assert_array_equal(line_of_sight(a, b, k_factor=k), expected)
        np.testing.assert_array_equal(line_of_sight(b, a, k_factor=k), expected)


def test_grazing_altitude_limits_lines_through_the_limb():
    """Two LEO satellites whose chord passes 50 km above the equator."""
    r_sat = WGS84_A_M + 800e3
    half_angle = math.acos((WGS84_A_M + 50e3) / r_sat)
    a = np.array([r_sat * math.cos(half_angle), r_sat * math.sin(half_angle), 0.0])
    b = np.array([a[0], -a[1], 0.0])
    assert line_of_sight(a, b)
    assert line_of_sight(a, b, grazing_alt_m=45e3)
    assert not line_of_sight(a, b, grazing_alt_m=55e3)
    # a satellite looking down at a low target is not looking through the limb
    satellite = lla_to_ecef([0.0, 0.0, 800e3])
    target = lla_to_ecef([0.0, 0.05, 10e3])
    assert line_of_sight(satellite, target, grazing_alt_m=20e3)
    # ... but a target beyond the limb behind a low tangent point is hidden
    far = lla_to_ecef([0.0, half_angle * 2, 800e3])
    assert not line_of_sight(satellite, far, grazing_alt_m=100e3)


def test_batches_broadcast_and_nan_is_not_visible():
    sensor = lla_to_ecef([0.0, 0.0, 10.0])  # (3,)
    lon = np.linspace(0.001, 0.2, 5)
    alt = np.array([0.0, 100e3])
    lla = np.stack(np.broadcast_arrays(0.0, lon[None, :], alt[:, None]), axis=-1)
    targets = lla_to_ecef(lla)  # (2, 5, 3)
    seen = line_of_sight(sensor, targets, k_factor=K43)
    assert seen.shape == (2, 5)
    assert np.all(seen[1])  # 100 km up, within 1,300 km
    assert seen[0, 0] and not seen[0, -1]  # sea level: 6 km yes, 1,270 km no
    targets[0, 0] = np.nan
    assert not line_of_sight(sensor, targets)[0, 0]


def test_effective_earth_follows_the_ellipsoid_curvature():
    """With k = 1 the effective-Earth path (osculating sphere along the line) and the
    exact ellipsoid test find the same horizon altitude (within 0.2 %, a 12.5 m grid),
    north-south and east-west at 45 deg latitude, where the two radii of curvature
    differ by 0.7 %."""
    lat0 = math.radians(45.0)
    sensor = lla_to_ecef([lat0, 0.0, 20.0])
    arc = 600e3 / R_EARTH_MEAN_M
    for lat, lon in ((lat0 + arc, 0.0), (lat0, arc / math.cos(lat0))):
        altitudes = np.linspace(15e3, 40e3, 2001)
        targets = lla_to_ecef(np.column_stack((np.full(2001, lat), np.full(2001, lon), altitudes)))
        exact = altitudes[np.argmax(line_of_sight(sensor, targets))]
        nearly_one = altitudes[np.argmax(line_of_sight(sensor, targets, k_factor=1.0 + 1e-12))]
        assert nearly_one == pytest.approx(exact, rel=0.002), (lat, lon, exact, nearly_one)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: horizon_range(-1.0, 10.0), "sensor_alt_m"),
        (lambda: horizon_range(1.0, np.nan), "target_alt_m"),
        (lambda: horizon_range(1.0, 1.0, 0.0), "k"),
        (lambda: line_of_sight(np.zeros(3), np.ones(3), k_factor=-1.0), "k_factor"),
        (lambda: line_of_sight(np.zeros(3), np.ones(3), grazing_alt_m=np.inf), "grazing_alt_m"),
        (lambda: line_of_sight(np.zeros(2), np.ones(2)), "r_a_ecef_m"),
    ],
)
def test_bad_input(call, field):
    with pytest.raises(InputError, match=field):
        call()
