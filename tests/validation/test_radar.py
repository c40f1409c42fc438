"""Validation of the radar's detection and measurement model against theory.

Sources:
- M. A. Richards, Fundamentals of Radar Signal Processing, 2nd ed., McGraw-Hill, 2014,
  ch. 6: Swerling 1 single-look detection ``Pd = Pfa^(1/(1+SNR))``, the threshold
  ``T = -ln(Pfa)`` on noise power normalised to 1, and the widely quoted 21.1 dB needed
  for Pd = 0.9 at Pfa = 1e-6.
- M. I. Skolnik, Introduction to Radar Systems, 3rd ed., 2001, ch. 2: radar equation,
  SNR proportional to RCS / R^4.
- M. A. Richards, J. A. Scheer, W. A. Holm, Principles of Modern Radar: Basic
  Principles, SciTech, 2010, ch. 18: measurement precision resolution / sqrt(2 SNR)
  (angle: beamwidth / (k_m sqrt(2 SNR))).
Statistical checks use fixed seeds; bounds are 4-4.5 standard errors or 99.99 %
chi-square intervals, so a correct model fails them with probability below 1e-4.
"""

import math

import numpy as np
import pyarrow.compute as pc
import pytest
from scipy.stats import chi2

from hyperdef.core.frames import aer_to_ecef, ecef_to_aer
from hyperdef.sensors.base import Reporting
from hyperdef.sensors.detections import measurements
from hyperdef.sensors.radar import FixedSite, Radar, pd_swerling1, snr_for_pd_swerling1
from hyperdef.sensors.truth import TruthSamples
from hyperdef.threats.trajectory import PHASE_CODE

DEG = math.pi / 180.0
SITE = FixedSite(24.0 * DEG, 124.0 * DEG, 30.0)
SITE_LLA = np.array([SITE.lat_rad, SITE.lon_rad, SITE.alt_m])


def stationary_truth(r_ecef_m, v_ecef_m_s, k):
    """One object at the same position and velocity at K scan times."""
    r = np.broadcast_to(np.asarray(r_ecef_m, dtype=float), (1, k, 3)).copy()
    v = np.broadcast_to(np.asarray(v_ecef_m_s, dtype=float), (1, k, 3)).copy()
    nan = np.full((1, k), np.nan)
    return TruthSamples(
        t=np.arange(k, dtype=float),
        valid=np.ones((1, k), dtype=bool),
        r_ecef_m=r,
        v_ecef_m_s=v,
        alt_m=nan,
        mach=nan,
        dynamic_pressure_pa=nan,
        heat_flux_w_m2=nan,
        phase=np.full((1, k), PHASE_CODE["glide"]),
    )


def narrow_radar(**changes):
    """A radar whose field of regard is a small box around az 45 deg, el 1 deg, so that
    false alarms stay rare (about 0.04 per scan)."""
    base = dict(
        reporting=Reporting("val", "USA"),
        platform=SITE,
        revisit_s=1.0,
        max_range_m=800e3,
        snr_ref=1000.0,
        range_ref_m=200e3,
        pfa=1e-6,
        boresight_az_rad=45 * DEG,
        az_half_width_rad=1 * DEG,
        el_min_rad=0.0,
        el_max_rad=2 * DEG,
    )
    return Radar(**{**base, **changes})


# -------------------------------------------------------------------- detection


def test_swerling1_published_point():
    """Pd = 0.9 at Pfa = 1e-6 needs 21.1 dB for a Swerling 1 target, one look."""
    snr = snr_for_pd_swerling1(0.9, 1e-6)
    assert 10 * math.log10(snr) == pytest.approx(21.1, abs=0.05)
    assert pd_swerling1(snr, 1e-6) == pytest.approx(0.9, rel=1e-12)


def test_swerling1_closed_form():
    snr = np.array([0.0, 0.5, 1.0, 10.0, 100.0, 1e4])
    for pfa in (1e-2, 1e-6, 1e-9):
        threshold = -math.log(pfa)
        np.testing.assert_allclose(pd_swerling1(snr, pfa), np.exp(-threshold / (1 + snr)))
    assert pd_swerling1(0.0, 1e-4) == pytest.approx(1e-4)  # no signal: Pd = Pfa


@pytest.mark.parametrize("snr", [0.0, 1.0, 5.0, 20.0, 100.0])
def test_swerling1_against_monte_carlo(snr):
    """Square-law detection of complex Gaussian signal (Rayleigh amplitude, exponential
    power of mean SNR) plus unit complex Gaussian noise, threshold -ln(Pfa): 200,000
    draws agree with the closed form within 4.5 standard errors."""
    rng = np.random.default_rng(int(snr * 10) + 1)
    n, pfa = 200_000, 1e-3
    signal = math.sqrt(snr / 2) * (rng.standard_normal(n) + 1j * rng.standard_normal(n))
    noise = math.sqrt(0.5) * (rng.standard_normal(n) + 1j * rng.standard_normal(n))
    detected = np.abs(signal + noise) ** 2 > -math.log(pfa)
    p = float(pd_swerling1(snr, pfa))
    standard_error = math.sqrt(p * (1 - p) / n)
    assert abs(detected.mean() - p) < 4.5 * standard_error, (detected.mean(), p)


def test_radar_detections_follow_swerling1():
    """The radar's own draws: 50,000 scans of one target at SNR 10 (Pd 0.285)."""
    sensor = narrow_radar(snr_ref=10.0)
    r = aer_to_ecef([200e3, 45 * DEG, 1 * DEG], SITE_LLA)
    truth = stationary_truth(r, [0.0, 0.0, 0.0], 50_000)
    table = sensor.detect(truth, np.random.default_rng(7))
    hits = pc.sum(pc.invert(table["false_alarm"])).as_py()
    p = float(pd_swerling1(10.0, 1e-6))
    assert sensor.detection_probability(truth)[0, 0] == pytest.approx(p)
    assert abs(hits / 50_000 - p) < 4.5 * math.sqrt(p * (1 - p) / 50_000), (hits / 50_000, p)


def test_radar_equation_scaling():
    sensor = narrow_radar()
    assert sensor.snr(2 * sensor.range_ref_m, sensor.rcs_ref_m2) == pytest.approx(
        sensor.snr_ref / 16
    )
    assert sensor.snr(sensor.range_ref_m, 0.1) == pytest.approx(0.1 * sensor.snr_ref)
    assert sensor.snr(0.5 * sensor.range_ref_m, 1.0) == pytest.approx(16 * sensor.snr_ref)
    r = aer_to_ecef(
        [[sensor.range_ref_m, 45 * DEG, 1 * DEG], [2 * sensor.range_ref_m, 45 * DEG, 1 * DEG]],
        SITE_LLA,
    )
    truth = TruthSamples(
        t=np.zeros(1),
        valid=np.ones((2, 1), dtype=bool),
        r_ecef_m=r[:, None, :],
        v_ecef_m_s=np.zeros((2, 1, 3)),
        alt_m=np.zeros((2, 1)),
        mach=np.zeros((2, 1)),
        dynamic_pressure_pa=np.zeros((2, 1)),
        heat_flux_w_m2=np.zeros((2, 1)),
        phase=np.full((2, 1), PHASE_CODE["glide"]),
    )
    pd = sensor.detection_probability(truth)[:, 0]
    np.testing.assert_allclose(pd, pd_swerling1([1000.0, 1000.0 / 16], 1e-6))


# ------------------------------------------------------------- measurement noise


def expected_sigmas(sensor, snr, elevation):
    root = math.sqrt(2 * snr)
    angle = math.hypot(
        sensor.angle_sigma_floor_rad, sensor.beamwidth_rad / (sensor.monopulse_slope * root)
    )
    return np.array(
        [
            math.hypot(sensor.range_sigma_floor_m, sensor.range_resolution_m / root),
            angle / math.cos(elevation),
            angle,
            math.hypot(sensor.range_rate_sigma_floor_m_s, sensor.range_rate_resolution_m_s / root),
        ]
    )


@pytest.mark.parametrize("snr", [50.0, 5000.0])  # thermal-noise and floor-dominated
def test_measurement_error_statistics(snr):
    """10,000 detections of one target: the errors have the bias as mean and the
    reported covariance as covariance (means within 4 standard errors, variances within
    99.99 % chi-square bounds, correlations within 4.5 / sqrt(n))."""
    bias = (30.0, 1e-3, -5e-4, 2.0)
    sensor = narrow_radar(snr_ref=snr, bias=bias, pfa=1e-6)
    aer = np.array([200e3, 45 * DEG, 1 * DEG])
    r = aer_to_ecef(aer, SITE_LLA)
    v = np.array([1200.0, -800.0, 300.0])
    n = 10_000
    p = float(pd_swerling1(snr, 1e-6))
    k = int(n / p * 1.1) + 200
    table = sensor.detect(stationary_truth(r, v, k), np.random.default_rng(int(snr)))
    real = table.filter(pc.invert(table["false_alarm"]))
    _, z, covariance = measurements(real, "raer")
    assert z.shape[0] >= n
    z, covariance = z[:n], covariance[:n]
    truth_rae = ecef_to_aer(r, SITE_LLA)
    site_r = SITE.position_velocity_ecef([0.0])[0][0]
    truth_rate = np.dot(r - site_r, v) / np.linalg.norm(r - site_r)
    error = z - np.array([*truth_rae, truth_rate])
    error[:, 1] = (error[:, 1] + np.pi) % (2 * np.pi) - np.pi
    sigma = expected_sigmas(sensor, snr, aer[2])
    np.testing.assert_allclose(
        np.sqrt(covariance[:, np.arange(4), np.arange(4)]), sigma[None, :] * np.ones((n, 1))
    )
    assert np.all(covariance[:, 0, 1:] == 0.0)
    mean = error.mean(axis=0)
    assert np.all(np.abs(mean - bias) < 4.0 * sigma / math.sqrt(n)), (mean, bias, sigma)
    variance = error.var(axis=0, ddof=1)
    low, high = chi2.ppf([5e-5, 1 - 5e-5], n - 1) / (n - 1)
    ratio = variance / sigma**2
    assert np.all((ratio > low) & (ratio < high)), (ratio, low, high)
    correlation = np.corrcoef(error.T)[np.triu_indices(4, 1)]
    assert np.all(np.abs(correlation) < 4.5 / math.sqrt(n)), correlation
