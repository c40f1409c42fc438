"""Validation of the WGS-84 frames and J2 gravity against published values.

Sources, each cited where used:
- IOGP Guidance Note 7-2 (EPSG methods 9602 and 9836), worked examples [T].
- D. A. Vallado, Fundamentals of Astrodynamics and Applications, 4th ed., 2013,
  Examples 3-3 and 7-1 [T].
- Geocentric Datum of Australia Technical Manual (ICSM), worked example of Vincenty's
  inverse formula, Flinders Peak to Buninyong [T].
- T. Vincenty, Survey Review 23(176), 88-93, 1975, test lines (b)-(e) [T].
- C. F. F. Karney, J. Geodesy 87, 43-55, 2013, Table 5 (nearly antipodal line) [T].
- NIMA TR8350.2, 3rd ed., 2000, eq. (4-1), Somigliana normal gravity [F].
- pymap3d 3.x as an independent implementation of the same conversions.
"""

import numpy as np
import pymap3d
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyperdef.core.earth import (
    GM_EARTH_M3_S2,
    J2_EARTH,
    OMEGA_EARTH_RAD_S,
    WGS84_A_M,
    gravity_j2_ecef,
    gravity_point_mass_ecef,
    normal_gravity_surface,
    rotating_frame_acceleration,
)
from hyperdef.core.frames import (
    ecef_to_aer,
    ecef_to_enu,
    ecef_to_lla,
    enu_to_ecef,
    geodesic_distance_m,
    lla_to_ecef,
    local_up_ecef,
)

HALF_PI = np.pi / 2
N_POINTS = 3000


def dms(degrees, minutes=0.0, seconds=0.0):
    """Degrees, minutes, seconds (sign on the first non-zero field) to radians."""
    sign = -1.0 if (degrees < 0 or (degrees == 0 and minutes < 0)) else 1.0
    return sign * np.radians(abs(degrees) + abs(minutes) / 60.0 + seconds / 3600.0)


def wrap(angle):
    return (np.asarray(angle) + np.pi) % (2 * np.pi) - np.pi


@pytest.fixture(scope="module")
def random_points():
    rng = np.random.default_rng(1975)
    lat_deg = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, N_POINTS)))
    lon_deg = rng.uniform(-180.0, 180.0, N_POINTS)
    alt_m = rng.uniform(-5e3, 1e5, N_POINTS)
    return lat_deg, lon_deg, alt_m


# ------------------------------------------------------------ against pymap3d


def test_lla_to_ecef_matches_pymap3d(random_points):
    lat, lon, alt = random_points
    ours = lla_to_ecef(np.stack((np.radians(lat), np.radians(lon), alt), axis=-1))
    theirs = np.stack(pymap3d.geodetic2ecef(lat, lon, alt), axis=-1)
    err = np.abs(ours - theirs).max()
    assert err < 1e-6, f"lla_to_ecef differs from pymap3d.geodetic2ecef by {err:.3g} m"


def test_ecef_to_lla_matches_pymap3d_below_100_km(random_points):
    # pymap3d's ecef2geodetic loses accuracy with altitude (2e-6 rad at GEO, i.e.
    # tens of metres; found while writing this test), so the comparison stops at
    # 100 km, where it agrees to 1e-13 rad. Above that our own round trip is the
    # check (test_round_trip_mm_accuracy below).
    lat, lon, alt = random_points
    r = np.stack(pymap3d.geodetic2ecef(lat, lon, alt), axis=-1)
    ours = ecef_to_lla(r)
    p_lat, p_lon, p_alt = pymap3d.ecef2geodetic(r[:, 0], r[:, 1], r[:, 2])
    lat_err = np.abs(ours[:, 0] - np.radians(p_lat)).max()
    lon_err = np.abs(wrap(ours[:, 1] - np.radians(p_lon))).max()
    alt_err = np.abs(ours[:, 2] - p_alt).max()
    assert lat_err < 1e-11, f"latitude differs from pymap3d by {lat_err:.3g} rad"
    assert lon_err < 1e-11, f"longitude differs from pymap3d by {lon_err:.3g} rad"
    assert alt_err < 1e-3, f"altitude differs from pymap3d by {alt_err:.3g} m"


@pytest.mark.parametrize(
    "ref_deg", [(35.0, 139.0, 50.0), (-89.9, -179.5, 0.0), (0.0, 180.0, 3000.0)]
)
def test_enu_and_aer_match_pymap3d(random_points, ref_deg):
    lat, lon, alt = random_points
    lat0, lon0, h0 = ref_deg
    ref = (np.radians(lat0), np.radians(lon0), h0)
    r = np.stack(pymap3d.geodetic2ecef(lat, lon, alt), axis=-1)

    enu = ecef_to_enu(r, ref)
    p_enu = np.stack(pymap3d.ecef2enu(r[:, 0], r[:, 1], r[:, 2], lat0, lon0, h0), axis=-1)
    err = np.abs(enu - p_enu).max()
    assert err < 1e-6, f"ecef_to_enu differs from pymap3d.ecef2enu by {err:.3g} m"

    back = enu_to_ecef(p_enu, ref)
    p_back = np.stack(
        pymap3d.enu2ecef(p_enu[:, 0], p_enu[:, 1], p_enu[:, 2], lat0, lon0, h0), axis=-1
    )
    err = np.abs(back - p_back).max()
    assert err < 1e-6, f"enu_to_ecef differs from pymap3d.enu2ecef by {err:.3g} m"

    aer = ecef_to_aer(r, ref)
    p_az, p_el, p_range = pymap3d.ecef2aer(r[:, 0], r[:, 1], r[:, 2], lat0, lon0, h0)
    assert np.abs(aer[:, 0] - p_range).max() < 1e-6, "slant range differs from pymap3d.ecef2aer"
    assert np.abs(wrap(aer[:, 1] - np.radians(p_az))).max() < 1e-12, "azimuth differs from pymap3d"
    assert np.abs(aer[:, 2] - np.radians(p_el)).max() < 1e-12, "elevation differs from pymap3d"


# ------------------------------------------------------ published test points


def test_epsg_9602_geographic_geocentric_example():
    # IOGP Guidance Note 7-2, EPSG method 9602, WGS 84 example:
    # 53 48' 33.820" N, 2 07' 46.380" E, h = 73.000 m
    # -> X = 3771793.968, Y = 140253.342, Z = 5124304.349 m (printed to mm).
    lla = np.array([dms(53, 48, 33.820), dms(2, 7, 46.380), 73.0])
    xyz = np.array([3771793.968, 140253.342, 5124304.349])
    err = np.abs(lla_to_ecef(lla) - xyz).max()
    assert err < 1e-3, f"EPSG 9602 forward example off by {err:.3g} m"
    back = ecef_to_lla(xyz)
    # The printed XYZ is rounded to 0.5 mm, i.e. about 1e-10 rad of latitude.
    assert abs(back[0] - lla[0]) < 2e-10, "EPSG 9602 reverse latitude"
    assert abs(back[1] - lla[1]) < 2e-10, "EPSG 9602 reverse longitude"
    assert abs(back[2] - lla[2]) < 1e-3, "EPSG 9602 reverse height"


def test_epsg_9836_geocentric_topocentric_example():
    # IOGP Guidance Note 7-2, EPSG method 9836, WGS 84 example: topocentric origin
    # Xo = 3652755.3058, Yo = 319574.6799, Zo = 5201547.3536 m, whose geodetic
    # position is printed as Po = 0.9599310885 rad, Lo = 0.0872664625 rad (55 N, 5 E);
    # the point X = 3771793.968, Y = 140253.342, Z = 5124304.349 m gives
    # U = -189013.869, V = -128642.040, W = -4220.171 m.
    origin = ecef_to_lla([3652755.3058, 319574.6799, 5201547.3536])
    # Po and Lo are printed cut (not rounded) to 10 decimals: 5 deg = 0.08726646260 rad.
    assert origin[0] == pytest.approx(0.9599310885, abs=2e-10)
    assert origin[1] == pytest.approx(0.0872664625, abs=2e-10)
    enu = ecef_to_enu([3771793.968, 140253.342, 5124304.349], origin)
    expected = np.array([-189013.869, -128642.040, -4220.171])
    err = np.abs(enu - expected).max()
    assert err < 1e-3, f"EPSG 9836 example off by {err:.3g} m: got {enu}"
    back = enu_to_ecef(expected, origin)
    assert np.abs(back - [3771793.968, 140253.342, 5124304.349]).max() < 1e-3


def test_vallado_example_7_1_site_position():
    # Vallado (4th ed.), Example 7-1: site at 39.007 deg N, 104.883 deg W, 2187 m
    # -> r_ECEF = (-1275.1219, -4797.9890, 3994.2975) km, printed to 0.1 m. Vallado's
    # e = 0.081819221456 differs slightly from WGS-84's (a few cm here).
    r = lla_to_ecef([np.radians(39.007), np.radians(-104.883), 2187.0])
    expected = np.array([-1275.1219, -4797.9890, 3994.2975]) * 1e3
    err = np.abs(r - expected).max()
    assert err < 0.1, f"Vallado Example 7-1 off by {err:.3g} m"


def test_vallado_example_3_3_geodetic_from_ecef():
    # Vallado (4th ed.), Example 3-3: r = (6524.834, 6862.875, 6448.296) km
    # -> geodetic latitude 34.352496 deg, longitude 46.4464 deg, h = 5085.22 km.
    # The printed latitude is 8e-7 deg above the exact value for this input
    # (34.3524952 deg, checked with a 40-digit Newton iteration): the book's method
    # iterates to a tolerance. We therefore allow 1.5e-6 deg (0.3 m at that radius).
    lla = ecef_to_lla(np.array([6524.834, 6862.875, 6448.296]) * 1e3)
    assert np.degrees(lla[0]) == pytest.approx(34.352496, abs=1.5e-6), "geodetic latitude"
    assert np.degrees(lla[1]) == pytest.approx(46.4464, abs=5e-5), "longitude"
    assert lla[2] == pytest.approx(5085.22e3, abs=5.0), "ellipsoidal height"


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    st.one_of(st.floats(-HALF_PI, HALF_PI), st.sampled_from([-HALF_PI, HALF_PI, 0.0])),
    st.one_of(st.floats(-np.pi, np.pi), st.sampled_from([-np.pi, np.pi])),
    st.one_of(st.floats(-5e3, 4e7), st.sampled_from([-5e3, 0.0, 35786e3, 4e7])),
)
def test_round_trip_mm_accuracy(lat, lon, alt):
    # Required accuracy of ecef_to_lla: altitude < 1 mm, angles < 1e-11 rad, from
    # -5 km to 40,000 km, poles and date line included.
    back = ecef_to_lla(lla_to_ecef([lat, lon, alt]))
    assert np.all(np.isfinite(back))
    assert abs(back[2] - alt) < 1e-3, f"altitude error {back[2] - alt:.3g} m"
    assert abs(back[0] - lat) < 1e-11, f"latitude error {back[0] - lat:.3g} rad"
    assert abs(wrap(back[1] - lon)) * np.cos(lat) < 1e-11, "longitude error"


# ----------------------------------------------------------------- geodesics


def test_flinders_peak_to_buninyong():
    # Geocentric Datum of Australia Technical Manual (ICSM), worked example of
    # Vincenty's inverse formula on GRS80 (a = 6378137, 1/f = 298.257222101):
    # Flinders Peak -37 57' 03.72030", 144 25' 29.52440" to Buninyong
    # -37 39' 10.15610", 143 55' 35.38390": s = 54972.271 m.
    flinders = [dms(-37, 57, 3.72030), dms(144, 25, 29.52440), 0.0]
    buninyong = [dms(-37, 39, 10.15610), dms(143, 55, 35.38390), 0.0]
    s = geodesic_distance_m(flinders, buninyong, f=1 / 298.257222101)
    assert s == pytest.approx(54972.271, abs=1e-3), f"got {s:.4f} m"
    # WGS-84 and GRS80 differ in f by 1.6e-14: same distance to well under a mm.
    assert geodesic_distance_m(flinders, buninyong) == pytest.approx(54972.271, abs=1e-3)


# Vincenty (1975), test lines on the International (Hayford) ellipsoid
# a = 6378388 m, f = 1/297: phi1, phi2, L (= lon2 - lon1), s in metres. Line (a)
# (Bessel ellipsoid) is left out: its tabulated distance does not follow from its
# tabulated end points, as other implementations have also found.
VINCENTY_LINES = {
    "b": ((37, 19, 54.95367), (26, 7, 42.83946), (41, 28, 35.50729), 4085966.703),
    "c": ((35, 16, 11.24862), (67, 22, 14.77638), (137, 47, 28.31435), 8084823.839),
    "d": ((1, 0, 0.0), (0, -59, 53.83076), (179, 17, 48.02997), 19960000.000),
    "e": ((1, 0, 0.0), (1, 1, 15.18952), (179, 46, 17.84244), 19780006.558),
}


@pytest.mark.parametrize("line", sorted(VINCENTY_LINES))
def test_vincenty_1975_test_lines(line):
    phi1, phi2, lon_diff, s_printed = VINCENTY_LINES[line]
    s = geodesic_distance_m(
        [dms(*phi1), 0.0, 0.0], [dms(*phi2), dms(*lon_diff), 0.0], a_m=6378388.0, f=1 / 297.0
    )
    # Printed to the mm; the 1975 series and rounding leave up to 0.8 mm (GeographicLib
    # shows the same offsets), hence 1 mm.
    assert s == pytest.approx(s_printed, abs=1e-3), f"line ({line}): got {s:.4f} m"


def test_karney_nearly_antipodal_example():
    # Karney (2013), Table 5: WGS-84, phi1 = -30 deg, phi2 = 29.9 deg, lambda12 = 179.8
    # deg -> s12 = 19989832.827610 m. Vincenty's iteration does not converge here;
    # this exercises the azimuth-bisection fallback.
    s = geodesic_distance_m(
        [np.radians(-30.0), 0.0, 0.0], [np.radians(29.9), np.radians(179.8), 0.0]
    )
    assert s == pytest.approx(19989832.827610, abs=1e-3), f"got {s:.4f} m"


# ------------------------------------------------------------------ J2 gravity


def test_j2_gravity_plus_centrifugal_matches_somigliana():
    # On the ellipsoid the magnitude of gravitation + centrifugal acceleration should
    # equal WGS-84 normal gravity (TR8350.2 eq. 4-1), and point along the normal.
    # J2-only truncation leaves out the ellipsoid's higher zonal terms (J4 ~ -2.4e-6,
    # about 1e-5 of g at the surface); measured worst case 1.2e-5 relative, so we
    # allow 5e-5 (the brief's "about 0.1 %" is much looser than needed).
    lat = np.radians(np.linspace(-90.0, 90.0, 181))
    lla = np.stack((lat, np.radians(np.linspace(-180, 180, 181)), np.zeros_like(lat)), axis=-1)
    r = lla_to_ecef(lla)
    g = gravity_j2_ecef(r) + rotating_frame_acceleration(r, np.zeros_like(r))
    magnitude = np.linalg.norm(g, axis=-1)
    rel = (magnitude - normal_gravity_surface(lat)) / normal_gravity_surface(lat)
    worst = np.abs(rel).max()
    assert worst < 5e-5, f"|g| differs from Somigliana by {worst:.3g} relative"
    for index in (0, 90, 180):  # south pole, equator, north pole
        assert abs(rel[index]) < 5e-5, f"latitude {np.degrees(lat[index]):.0f} deg"
    cos_angle = -(g * local_up_ecef(lla)).sum(axis=-1) / magnitude
    angle = np.arccos(np.clip(cos_angle, -1.0, 1.0))
    assert angle.max() < 2e-5, f"gravity is {angle.max():.3g} rad off the ellipsoid normal"


def j2_potential(r):
    """J2 part of the gravitational potential, m^2/s^2 (positive-potential convention).

    V_J2 = -GM J2 a^2 (3 z^2 / r^2 - 1) / (2 r^3), so that g = grad V.
    """
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    r2 = x * x + y * y + z * z
    return -GM_EARTH_M3_S2 * J2_EARTH * WGS84_A_M**2 * (3.0 * z * z / r2 - 1.0) / (2.0 * r2**1.5)


def test_j2_term_is_gradient_of_j2_potential():
    rng = np.random.default_rng(4)
    n = 500
    direction = rng.normal(size=(n, 3))
    direction /= np.linalg.norm(direction, axis=-1, keepdims=True)
    r = direction * rng.uniform(6.35e6, 4.3e7, size=(n, 1))
    j2_term = gravity_j2_ecef(r) - gravity_point_mass_ecef(r)
    step = 1.0  # m; truncation error ~ step^2 V''' is negligible, rounding ~1e-11 m/s^2
    numeric = np.empty_like(r)
    for axis in range(3):
        dr = np.zeros(3)
        dr[axis] = step
        numeric[:, axis] = (j2_potential(r + dr) - j2_potential(r - dr)) / (2.0 * step)
    scale = np.linalg.norm(j2_term, axis=-1, keepdims=True)
    worst = (np.abs(numeric - j2_term) / scale).max()
    assert worst < 1e-6, f"J2 acceleration differs from -grad potential by {worst:.3g} relative"


def test_centrifugal_part_matches_omega_squared():
    # Sanity link to the WGS-84 rotation rate: on the equator at rest the centrifugal
    # acceleration is omega^2 a = 0.033916 m/s^2.
    a = rotating_frame_acceleration([WGS84_A_M, 0.0, 0.0], [0.0, 0.0, 0.0])
    assert a[0] == pytest.approx(OMEGA_EARTH_RAD_S**2 * WGS84_A_M, rel=1e-15)
    assert a[0] == pytest.approx(0.033916, abs=1e-6)
