"""Validation of the space infrared layer and its orbits against published results.

Sources: the Stefan-Boltzmann law and Widger & Woodall's exact series for the Planck
band integral; Kepler's third law, vis-viva and a numerical two-body integration for
the Keplerian propagator; the sun-synchronous node rate (360 deg per tropical year at
700 km, i = 98.19 deg: Vallado 2013, ch. 11; Wertz 2011, ch. 10) for the J2 drift;
Walker (1984) for the delta pattern; Vallado et al. (2006), "Revisiting Spacetrack
Report #3" (AIAA 2006-6753) for the SGP4 output of TLE 00005 and the TEME-to-PEF example
of 2004-04-06 07:51:28.386009 UTC; and the chain of the infrared model itself, inverted
analytically, for the speed at which detection turns on.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from hyperdef.core.atmosphere import ussa76
from hyperdef.core.earth import GM_EARTH_M3_S2, WGS84_A_M
from hyperdef.core.frames import ecef_to_lla, lla_to_ecef
from hyperdef.sensors.base import Reporting, look_times
from hyperdef.sensors.infrared import (
    InfraredPayload,
    InfraredSignature,
    SpaceInfraredLayer,
    band_radiance_w_m2_sr,
    los_angles,
    los_covariance,
    los_measurement,
)
from hyperdef.sensors.orbits import (
    KeplerConstellation,
    KeplerianElements,
    TleConstellation,
    gmst_iau82_rad,
    julian_date,
    orbital_period_s,
    teme_to_ecef,
    walker_delta,
)
from hyperdef.sensors.truth import TruthSamples, truth_at
from hyperdef.threats import PHASES, fly
from hyperdef.threats.aero import STEFAN_BOLTZMANN_W_M2_K4, stagnation_heat_flux_w_m2

C2_M_K = 6.62607015e-34 * 299792458.0 / 1.380649e-23

TLE_00005 = (
    "1 00005U 58002B   00179.78495062  .00000023  00000-0  28098-4 0  4753",
    "2 00005  34.2682 348.7242 1859667 331.7664  19.3264 10.82419157413667",
)


def _widger_woodall(x: np.ndarray, terms: int = 300) -> np.ndarray:
    """Integral of x^3 / (e^x - 1) from x to infinity (Widger & Woodall 1976)."""
    k = np.arange(1, terms + 1)[:, None]
    return np.sum(np.exp(-k * x) * (x**3 / k + 3 * x**2 / k**2 + 6 * x / k**3 + 6 / k**4), 0)


# ----------------------------------------------------------------- radiometry


def test_planck_integral_over_all_wavelengths_is_stefan_boltzmann():
    temperature = np.array([200.0, 300.0, 1000.0, 2500.0, 5800.0])
    total = band_radiance_w_m2_sr(temperature, (0.05e-6, 5e-3), n_nodes=64)
    expected = STEFAN_BOLTZMANN_W_M2_K4 * temperature**4 / np.pi
    np.testing.assert_allclose(
        total, expected, rtol=1e-3, err_msg="band integral over 0.05 um - 5 mm != sigma T^4/pi"
    )
    assert np.max(np.abs(total / expected - 1.0)) < 1e-6  # measured 1.5e-7 (the tail)


def test_mwir_band_radiance_matches_exact_series():
    temperature = np.array([500.0, 1000.0, 2000.0, 3000.0])
    x_long, x_short = C2_M_K / (5e-6 * temperature), C2_M_K / (3e-6 * temperature)
    fraction = 15.0 / np.pi**4 * (_widger_woodall(x_long) - _widger_woodall(x_short))
    expected = fraction * STEFAN_BOLTZMANN_W_M2_K4 * temperature**4 / np.pi
    np.testing.assert_allclose(
        band_radiance_w_m2_sr(temperature, (3e-6, 5e-6)),
        expected,
        rtol=1e-8,
        err_msg="3-5 um band radiance disagrees with the Widger-Woodall series",
    )


# ------------------------------------------------------- detection turn-on


def test_detection_turns_on_at_the_speed_where_heat_flux_crosses_the_threshold():
    """Invert the chain E_th -> I_th -> L_th -> T_th -> q_th -> V_th and check the flag."""
    payload = InfraredPayload(zenith_optical_depth=0.0, false_alarm_pixels=0.0)
    signature = InfraredSignature(emissivity=0.85, hot_area_m2=0.1)
    sat = KeplerConstellation(walker_delta(1, 1, 0, np.radians(50.0), 1000e3))
    layer = SpaceInfraredLayer(sat, Reporting("ir", "USA"), payload, signature)
    nose_radius_m = 0.1
    alt_m = 40e3
    rho = float(ussa76(alt_m).density)
    t = np.linspace(0.0, 300.0, 301)
    r_sat, _ = layer.position_velocity_ecef(t)
    # target at 40 km below the satellite (same geodetic lat/lon)
    lla = ecef_to_lla(r_sat[0])
    lla[:, 2] = alt_m
    r_tgt = lla_to_ecef(lla)
    slant = np.linalg.norm(r_tgt - r_sat[0], axis=-1)

    # analytic threshold: Pd = 0.5 where E = k NEI_eff (Earth background: look-down)
    e_th = payload.snr_threshold * payload.nei_w_m2 * payload.earth_background_factor
    radiance_th = e_th * slant**2 / (signature.emissivity * signature.hot_area_m2)
    t_th = np.array(
        [
            brentq(lambda T, L=L: band_radiance_w_m2_sr(T) - L, 100.0, 5000.0, xtol=1e-10)
            for L in radiance_th
        ]
    )
    q_th = signature.emissivity * STEFAN_BOLTZMANN_W_M2_K4 * t_th**4
    v_th = (q_th / (1.7415e-4 * np.sqrt(rho / nose_radius_m))) ** (1.0 / 3.0)

    def truth_for(speed):
        q = stagnation_heat_flux_w_m2(rho, speed, nose_radius_m)
        k = speed.size
        return TruthSamples(
            t=t[:k],
            valid=np.ones((1, k), bool),
            r_ecef_m=r_tgt[None, :k],
            v_ecef_m_s=np.zeros((1, k, 3)),
            alt_m=np.full((1, k), alt_m),
            mach=np.zeros((1, k)),
            dynamic_pressure_pa=np.zeros((1, k)),
            heat_flux_w_m2=q[None, :],
            phase=np.full((1, k), PHASES.index("glide")),
        )

    # exactly at the threshold speed: Pd = 0.5
    pd_at = layer.detection_probability(truth_for(v_th))[0]
    np.testing.assert_allclose(pd_at, 0.5, atol=1e-6, err_msg="Pd at the analytic V_th != 0.5")
    # a speed ramp: the flag (Pd >= 0.5) switches where V crosses V_th
    speed = np.linspace(100.0, 1000.0, t.size)
    pd = layer.detection_probability(truth_for(speed))[0]
    assert v_th.min() > speed[0] and v_th.max() < speed[-1], v_th
    np.testing.assert_array_equal(pd >= 0.5, speed >= v_th, err_msg="flag != (V >= V_th)")
    first = int(np.argmax(pd >= 0.5))
    assert speed[first - 1] < v_th[first - 1] and speed[first] >= v_th[first]
    assert 250.0 < v_th.mean() < 450.0  # 333 m/s at 40 km and 960 km range: T_th = 440 K


# ------------------------------------------------------------------- orbits


def _node_and_arg_latitude(r, v):
    h = np.cross(r, v)
    node = np.stack((-h[..., 1], h[..., 0], np.zeros_like(h[..., 0])), axis=-1)
    raan = np.arctan2(node[..., 1], node[..., 0]) % (2 * np.pi)
    inc = np.arccos(h[..., 2] / np.linalg.norm(h, axis=-1))
    n_hat = node / np.linalg.norm(node, axis=-1, keepdims=True)
    cos_u = np.sum(n_hat * r, -1) / np.linalg.norm(r, axis=-1)
    u = np.arccos(np.clip(cos_u, -1, 1))
    return raan, inc, np.where(r[..., 2] < 0, 2 * np.pi - u, u)


def _wrap(angle):
    return (angle + np.pi) % (2 * np.pi) - np.pi


def test_walker_delta_geometry():
    """24/6/1 at 55 deg, 1000 km: radius, inclination, node and in-plane spacing (Walker 1984)."""
    elements = walker_delta(24, 6, 1, np.radians(55.0), 1000e3)
    constellation = KeplerConstellation(elements)
    t = np.array([0.0, 1234.0])
    r, v = constellation.position_velocity_eci(t)
    np.testing.assert_allclose(np.linalg.norm(r, axis=-1), WGS84_A_M + 1000e3, rtol=1e-12)
    raan, inc, u = _node_and_arg_latitude(r, v)
    np.testing.assert_allclose(inc, np.radians(55.0), atol=1e-12)
    plane, slot = np.divmod(np.arange(24), 4)
    np.testing.assert_allclose(_wrap(raan[:, 0] - np.radians(60.0) * plane), 0.0, atol=1e-9)
    expected_u = np.radians(90.0) * slot + np.radians(15.0) * plane
    np.testing.assert_allclose(
        _wrap(u[:, 0] - expected_u), 0.0, atol=1e-9, err_msg="Walker phasing f=1"
    )
    # all satellites advance together at the mean motion
    n = np.sqrt(GM_EARTH_M3_S2 / (WGS84_A_M + 1000e3) ** 3)
    advance = (u[:, 1] - u[:, 0]) % (2 * np.pi)
    np.testing.assert_allclose(advance, n * 1234.0, atol=1e-9)


def test_two_body_period_is_keplers_third_law_and_matches_integration():
    a, e = 8000e3, 0.1
    elements = KeplerianElements(
        np.array([a]),
        np.array([e]),
        np.array([0.9]),
        np.array([0.3]),
        np.array([1.1]),
        np.array([0.2]),
    )
    constellation = KeplerConstellation(elements)
    period = float(orbital_period_s(a))
    assert abs(period - 2 * np.pi * np.sqrt(a**3 / GM_EARTH_M3_S2)) < 1e-9
    t = np.array([0.0, 0.5 * period, period, 2 * period])
    r, v = constellation.position_velocity_eci(t)
    assert np.linalg.norm(r[0, 2] - r[0, 0]) < 1e-4, "not back after one Kepler period"
    assert np.linalg.norm(r[0, 3] - r[0, 0]) < 1e-4
    assert np.linalg.norm(r[0, 1] - r[0, 0]) > 1e6
    # vis-viva at many times
    tt = np.linspace(0.0, period, 97)
    rr, vv = constellation.position_velocity_eci(tt)
    radius, speed = np.linalg.norm(rr[0], axis=-1), np.linalg.norm(vv[0], axis=-1)
    np.testing.assert_allclose(speed**2, GM_EARTH_M3_S2 * (2 / radius - 1 / a), rtol=1e-12)

    # against a tight numerical integration of the two-body problem over 1.5 orbits
    def rhs(_, y):
        rad = np.linalg.norm(y[:3])
        return np.concatenate((y[3:], -GM_EARTH_M3_S2 * y[:3] / rad**3))

    t_eval = np.linspace(0.0, 1.5 * period, 7)
    sol = solve_ivp(
        rhs,
        (0, t_eval[-1]),
        np.concatenate((r[0, 0], v[0, 0])),
        method="DOP853",
        rtol=1e-12,
        atol=1e-6,
        t_eval=t_eval,
    )
    r_kepler, _ = constellation.position_velocity_eci(t_eval)
    err = np.linalg.norm(sol.y[:3].T - r_kepler[0], axis=-1)
    assert err.max() < 0.05, f"Kepler vs numerical two-body: {err.max():.3g} m"


def test_j2_node_drift_of_a_sun_synchronous_orbit():
    """700 km, i = 98.19 deg: the node turns 360 deg per tropical year (Vallado ch. 11)."""
    elements = walker_delta(1, 1, 0, np.radians(98.19), 700e3)
    constellation = KeplerConstellation(elements, j2=True)
    day = 86400.0
    r, v = constellation.position_velocity_eci(np.array([0.0, 10 * day]))
    raan, _, _ = _node_and_arg_latitude(r, v)
    rate_deg_day = np.degrees((raan[0, 1] - raan[0, 0]) % (2 * np.pi)) / 10.0
    assert rate_deg_day == pytest.approx(360.0 / 365.2422, rel=5e-3), rate_deg_day


def test_sgp4_tle_00005_matches_vallado_2006():
    """TEME position and velocity of TLE 00005 at 0 and 360 min (tcppver.out, AIAA 2006-6753)."""
    from sgp4.api import Satrec
    from sgp4.conveniences import sat_epoch_datetime

    epoch = sat_epoch_datetime(Satrec.twoline2rv(*TLE_00005))
    tles = TleConstellation((TLE_00005,), epoch)
    assert abs(tles.epoch_offset_s()[0]) < 1e-5
    r, v = tles.position_velocity_teme(np.array([0.0, 360.0 * 60.0]))
    published_r_km = np.array(
        [
            [7022.46529266, -1400.08296755, 0.03995155],
            [-7154.03120202, -3783.17682504, -3536.19412294],
        ]
    )
    published_v_km_s = np.array(
        [[1.893841015, 6.405893759, 4.534807250], [4.741887409, -4.151817765, -2.093935425]]
    )
    np.testing.assert_allclose(r[0], published_r_km * 1e3, atol=0.1, err_msg="SGP4 r (TEME)")
    np.testing.assert_allclose(v[0], published_v_km_s * 1e3, atol=1e-4, err_msg="SGP4 v (TEME)")
    # the ECEF output is the TEME output turned by GMST
    r_ecef, v_ecef = tles.position_velocity_ecef(np.array([0.0, 360.0 * 60.0]))
    jd, fr = julian_date(epoch, np.array([0.0, 360.0 * 60.0]))
    r_check, v_check = teme_to_ecef(r, v, gmst_iau82_rad(jd, fr))
    np.testing.assert_allclose(r_ecef, r_check, atol=1e-6)
    np.testing.assert_allclose(v_ecef, v_check, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(r_ecef, axis=-1), np.linalg.norm(r, axis=-1))


def test_teme_to_ecef_matches_vallado_example():
    """TEME -> PEF at 2004-04-06 07:51:28.386009 UTC, dUT1 = -0.4399619 s (Vallado 2006)."""
    r_teme = np.array([5094.18016210, 6127.64465950, 6380.34453270]) * 1e3
    v_teme = np.array([-4.7461314870, 0.7858180410, 5.5319312880]) * 1e3
    r_pef = np.array([-1033.47503130, 7901.30558560, 6380.34453270]) * 1e3
    v_pef = np.array([-3.2256327470, -2.8724425110, 5.5319312880]) * 1e3
    jd, fr = julian_date(datetime(2004, 4, 6, 7, 51, 28, 386009, tzinfo=UTC))
    gmst = gmst_iau82_rad(jd, fr - 0.4399619 / 86400.0)
    r, v = teme_to_ecef(r_teme, v_teme, gmst[0])
    np.testing.assert_allclose(r, r_pef, atol=0.01, err_msg="TEME->ECEF position (m)")
    np.testing.assert_allclose(v, v_pef, atol=1e-5, err_msg="TEME->ECEF velocity (m/s)")


def test_gmst_matches_the_sgp4_package():
    from sgp4.propagation import gstime

    jd = np.array([2451545.0, 2453101.5, 2460000.25])
    np.testing.assert_allclose(
        gmst_iau82_rad(jd), [gstime(x) for x in jd], atol=1e-9, err_msg="GMST IAU-82"
    )


# ----------------------------------------------------------------- measurement noise


@pytest.mark.parametrize("target_lla_deg", [(38.0, 128.0, 30e3), (44.0, 126.0, 30e3)])
def test_los_noise_statistics_over_10000_draws(target_lla_deg):
    """Mean and covariance of the (az, el) error against R (4-sigma sampling bounds)."""
    n = 10_000
    sigma = 40e-6
    sensor = lla_to_ecef(np.radians([37.0, 127.0, 0.0]) + [0, 0, 1000e3])
    target = lla_to_ecef(np.radians(target_lla_deg[:2]).tolist() + [target_lla_deg[2]])
    rng = np.random.default_rng(20240611)
    z, R = los_measurement(np.tile(sensor, (n, 1)), np.tile(target, (n, 1)), sigma, rng)
    z_true = np.stack(los_angles(sensor[None], target[None]), axis=-1)
    err = z - z_true
    err[:, 0] = (err[:, 0] + np.pi) % (2 * np.pi) - np.pi
    cov = np.cov(err.T)
    expected = los_covariance(z_true[:, 1], sigma)[0]
    assert abs(expected[0, 0] / sigma**2 - 1 / np.cos(z_true[0, 1]) ** 2) < 1e-12
    sd = np.sqrt(np.diag(expected))
    assert np.all(np.abs(err.mean(axis=0)) < 4 * sd / np.sqrt(n)), err.mean(axis=0) / sd
    ratio = np.diag(cov) / np.diag(expected)
    assert np.all(np.abs(ratio - 1) < 4 * np.sqrt(2 / n)), ratio
    corr = cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])
    assert abs(corr) < 4 / np.sqrt(n), corr
    np.testing.assert_allclose(R, np.broadcast_to(expected, R.shape), rtol=1e-2)


# ---------------------------------------------------------- the layer on real flights


@pytest.fixture(scope="module")
def leo_layer():
    """24 satellites, Walker 55 deg: 24/6/1 at 1000 km."""
    elements = walker_delta(24, 6, 1, np.radians(55.0), 1000e3)
    return SpaceInfraredLayer(
        KeplerConstellation(elements, j2=True), Reporting("hbtss", "USA", ("JPN",), 2.0)
    )


@pytest.fixture(scope="module")
def flights():
    launch = np.radians([40.0, 120.0, 0.0])
    aim = np.radians([35.0, 135.0, 0.0])
    return {kind: fly(kind, launch, aim) for kind in ("ballistic", "hgv")}


def _detections(table, trajectory):
    """Times of the true detections and the object's phase at each."""
    real = ~table.column("false_alarm").to_numpy()
    t = table.column("t").to_numpy()[real]
    return t, truth_at(trajectory, t).phase[0]


def test_layer_sees_ballistic_boost_and_hgv_glide(leo_layer, flights):
    rng = np.random.default_rng(7)
    ballistic = leo_layer.observe(flights["ballistic"], rng)
    t, phase = _detections(ballistic, flights["ballistic"])
    assert np.any(phase == PHASES.index("boost")), "no detection of the ballistic boost"
    assert t.min() <= 10.0, f"first ballistic detection at {t.min()} s"
    # the re-entry vehicle in the vacuum of midcourse (no heat flux) is not seen above
    # 150 km; it is seen again as it heats up on re-entry
    alt = truth_at(flights["ballistic"], t).alt_m[0]
    assert not np.any((phase == PHASES.index("coast")) & (alt > 150e3))
    assert np.any(phase == PHASES.index("reentry"))

    hgv = leo_layer.observe(flights["hgv"], rng)
    t, phase = _detections(hgv, flights["hgv"])
    glide = PHASES.index("glide")
    assert np.any(phase == glide), "no detection of the HGV in glide"
    frames = look_times(0.0, float(flights["hgv"].t.max()), leo_layer.payload.frame_period_s)
    glide_frames = frames[truth_at(flights["hgv"], frames).phase[0] == glide]
    seen = np.isin(glide_frames, t)
    assert seen.mean() >= 0.95, f"HGV seen in {seen.mean():.1%} of its glide frames"
    assert t.min() <= 10.0
