"""Unit tests of angles-only triangulation and initiation, ground-point prediction, PCRLB inputs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2

from hyperdef.core.frames import ecef_to_lla, geodesic_distance_m, lla_to_ecef
from hyperdef.errors import InputError
from hyperdef.sensors.orbits import KeplerConstellation, walker_delta
from hyperdef.tracking.angles import initiate_from_los, los_to_ecef_unit, triangulate
from hyperdef.tracking.crlb import pcrlb
from hyperdef.tracking.measurements import Los
from hyperdef.tracking.models import Ballistic, ConstantVelocity
from hyperdef.tracking.prediction import (
    VACUUM_LOG_BETA,
    estimate_launch_point,
    ground_mahalanobis2,
    n_sigma_for_probability,
    predict_impact,
)

LOS = Los()
SIGMA_RAD = 20e-6  # 20 microradian angle noise
R_LOS = np.diag([SIGMA_RAD**2, SIGMA_RAD**2])


def _looks(target: np.ndarray, sensors: np.ndarray) -> np.ndarray:
    """Noise-free az/el of one target (3,) from sensors (K, 3)."""
    z, _ = LOS.predict(np.repeat(target[None, :], len(sensors), axis=0), sensors, sensors)
    return z


def _walker_pair(t_s):
    """Two neighbouring satellites of a 60/6/1 Walker constellation at 1,000 km, (2, T, 3)."""
    const = KeplerConstellation(walker_delta(60, 6, 1, np.radians(53.0), 1_000e3))
    r, v = const.position_velocity_ecef(np.atleast_1d(t_s))
    return r[0:2], v[0:2]


def _target_between(r_sats: np.ndarray, alt_m: float = 50e3) -> np.ndarray:
    """A point at ``alt_m`` below the midpoint of two satellites' positions."""
    mid = ecef_to_lla(0.5 * (r_sats[0] + r_sats[1]))
    mid[2] = alt_m
    return lla_to_ecef(mid)


# --------------------------------------------------------------------------- triangulation


def test_los_unit_vector_points_at_target():
    sats = lla_to_ecef(np.array([[0.8, 0.3, 1_000e3], [0.95, 0.6, 1_000e3]]))
    target = lla_to_ecef(np.array([0.9, 0.4, 100e3]))
    u = los_to_ecef_unit(sats, _looks(target, sats))
    expected = (target - sats) / np.linalg.norm(target - sats, axis=1, keepdims=True)
    np.testing.assert_allclose(u, expected, atol=1e-12)


def test_triangulate_exact_without_noise_walker_geometry():
    r_sats, _ = _walker_pair(0.0)
    sensors = r_sats[:, 0]
    target = _target_between(sensors)
    fix = triangulate(sensors, _looks(target, sensors), R_LOS)
    np.testing.assert_allclose(fix.r_ecef_m, target, atol=1e-5)
    assert fix.status == "ok"
    assert np.all(np.linalg.eigvalsh(fix.P) > 0.0)


def test_triangulate_batch_matches_single():
    sats = lla_to_ecef(np.array([[0.8, 0.3, 1_000e3], [0.95, 0.6, 1_000e3], [1.0, 0.2, 1_000e3]]))
    targets = lla_to_ecef(np.array([[0.9, 0.4, 100e3], [0.85, 0.45, 20e3], [0.92, 0.35, 300e3]]))
    rng = np.random.default_rng(3)
    z = np.stack([_looks(t, sats) for t in targets]) + SIGMA_RAD * rng.standard_normal((3, 3, 2))
    batch = triangulate(np.broadcast_to(sats, (3, 3, 3)), z, R_LOS)
    for i in range(3):
        single = triangulate(sats, z[i], R_LOS)
        np.testing.assert_allclose(batch.r_ecef_m[i], single.r_ecef_m, rtol=0, atol=1e-6)
        np.testing.assert_allclose(batch.P[i], single.P, rtol=1e-9)


def test_triangulate_covariance_consistent_with_monte_carlo():
    """NEES of 2,000 noisy fixes: mean inside the 99% chi-square band of 3 dof."""
    sats = lla_to_ecef(np.array([[0.8, 0.3, 1_000e3], [0.95, 0.6, 1_000e3]]))
    target = lla_to_ecef(np.array([0.9, 0.4, 100e3]))
    n_runs = 2_000
    rng = np.random.default_rng(11)
    z = _looks(target, sats) + SIGMA_RAD * rng.standard_normal((n_runs, 2, 2))
    fix = triangulate(np.broadcast_to(sats, (n_runs, 2, 3)), z, R_LOS)
    err = fix.r_ecef_m - target
    nees = np.einsum("ni,nij,nj->n", err, np.linalg.inv(fix.P), err)
    lo, hi = chi2.ppf([0.005, 0.995], 3 * n_runs) / n_runs
    assert lo < nees.mean() < hi, f"mean NEES {nees.mean():.3f} outside [{lo:.3f}, {hi:.3f}]"
    assert np.all(fix.status == "ok")


def test_triangulate_flags_nearly_parallel_lines():
    target = lla_to_ecef(np.array([0.9, 0.4, 100e3]))
    sats = lla_to_ecef(np.array([[0.8, 0.3, 1_000e3], [0.8005, 0.3, 1_001e3]]))
    good_sats = lla_to_ecef(np.array([[0.8, 0.3, 1_000e3], [0.95, 0.6, 1_000e3]]))
    fix = triangulate(sats, _looks(target, sats), R_LOS)
    good = triangulate(good_sats, _looks(target, good_sats), R_LOS)
    assert fix.status == "ill_conditioned"
    assert fix.separation_rad < np.radians(2.0)
    assert np.trace(fix.P) > 100.0 * np.trace(good.P)
    np.testing.assert_allclose(fix.r_ecef_m, target, atol=1e-3)  # still exact without noise


def test_triangulate_degenerate_cases():
    target = lla_to_ecef(np.array([0.9, 0.4, 100e3]))
    sats = lla_to_ecef(np.array([[0.8, 0.3, 1_000e3], [0.95, 0.6, 1_000e3]]))
    z = _looks(target, sats)
    one = triangulate(sats, z, R_LOS, valid=np.array([True, False]))
    assert one.status == "degenerate"
    assert np.all(np.isnan(one.r_ecef_m)) and np.all(np.isinf(np.diag(one.P)))
    # the same line seen twice (two sensors on one line of sight)
    on_line = np.stack((sats[0], sats[0] + 0.3 * (target - sats[0])))
    same = triangulate(on_line, _looks(target, on_line), R_LOS)
    assert same.status == "degenerate"


def test_triangulate_input_errors():
    with pytest.raises(InputError, match="los_az_el"):
        triangulate(np.zeros((2, 3)), np.zeros((3, 2)), R_LOS)
    with pytest.raises(InputError, match="sensor_r"):
        triangulate(np.zeros((2,)), np.zeros((2, 2)), R_LOS)


# --------------------------------------------------------------------------- initiation


def _coasting_truth(times_s: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """Vacuum ballistic truth states (T, 6) from x0 (6,) at times_s[0]."""
    model = Ballistic(max_substep_s=0.1)
    out = [x0]
    x = np.append(x0, VACUUM_LOG_BETA)[None, :]
    for dt in np.diff(times_s):
        x = model.propagate(x, dt)
        out.append(x[0, 0:6])
    return np.array(out)


def _initiation_scene(times_s):
    r_sats, _ = _walker_pair(times_s)  # (2, T, 3)
    r0 = _target_between(r_sats[:, 0], alt_m=150e3)
    up = r0 / np.linalg.norm(r0)
    v0 = 3_000.0 * np.cross([0.0, 0.0, 1.0], up) / np.linalg.norm(np.cross([0, 0, 1.0], up))
    truth = _coasting_truth(times_s, np.concatenate((r0, v0 + 500.0 * up)))
    sensors = np.swapaxes(r_sats, 0, 1)  # (T, K, 3)
    z = np.stack([_looks(truth[j, 0:3], sensors[j]) for j in range(len(times_s))])
    return truth, sensors, z


def test_initiate_from_los_noise_free_recovers_state():
    times = np.array([0.0, 10.0])
    truth, sensors, z = _initiation_scene(times)
    init = initiate_from_los(times, sensors, z, R_LOS)
    assert init.status == "ok" and init.t_ref_s == 10.0
    np.testing.assert_allclose(init.x[0:3], truth[-1, 0:3], atol=1e-4)
    np.testing.assert_allclose(init.x[3:6], truth[-1, 3:6], atol=0.05)  # gravity modelled
    straight = initiate_from_los(times, sensors, z, R_LOS, gravity=False)
    assert np.linalg.norm(straight.x[3:6] - truth[-1, 3:6]) > 20.0  # g dt / 2 ~ 45 m/s


def test_initiate_two_times_is_two_point_differencing():
    times = np.array([0.0, 4.0])
    truth, sensors, z = _initiation_scene(times)
    init = initiate_from_los(times, sensors, z, R_LOS, gravity=False)
    fixes = triangulate(sensors, z, R_LOS)
    p0, p1 = fixes.P
    dt = 4.0
    expected = np.block([[p1, p1 / dt], [p1 / dt, (p0 + p1) / dt**2]])
    np.testing.assert_allclose(init.P, expected, rtol=1e-8, atol=1e-9 * np.abs(expected).max())
    np.testing.assert_allclose(init.x[3:6], (fixes.r_ecef_m[1] - fixes.r_ecef_m[0]) / dt, atol=1e-6)


def test_initiate_from_los_nees_and_more_times():
    """6-state NEES over 500 noisy initiations inside the 99% band; three times beat two."""
    times = np.array([0.0, 5.0, 10.0])
    truth, sensors, z = _initiation_scene(times)
    n_runs = 500
    rng = np.random.default_rng(5)
    zs = z + SIGMA_RAD * rng.standard_normal((n_runs,) + z.shape)
    init = initiate_from_los(times, np.broadcast_to(sensors, (n_runs,) + sensors.shape), zs, R_LOS)
    err = init.x - truth[-1]
    nees = np.einsum("ni,nij,nj->n", err, np.linalg.inv(init.P), err)
    lo, hi = chi2.ppf([0.005, 0.995], 6 * n_runs) / n_runs
    assert lo < nees.mean() < hi, f"mean NEES {nees.mean():.3f} outside [{lo:.3f}, {hi:.3f}]"
    two = initiate_from_los(times[[0, 2]], sensors[[0, 2]], z[[0, 2]], R_LOS)
    assert np.trace(init.P[0, 3:6, 3:6]) < np.trace(two.P[3:6, 3:6])


def test_initiate_input_errors():
    with pytest.raises(InputError, match="times_s"):
        initiate_from_los(np.array([1.0, 1.0]), np.zeros((2, 2, 3)), np.zeros((2, 2, 2)), R_LOS)


# --------------------------------------------------------------------------- ground points


def _launch_state(flight_s: float = 200.0):
    """Vacuum ballistic state flight_s after leaving the ground at a known point."""
    launch_lla = np.array([0.6, 0.5, 0.0])
    r0 = lla_to_ecef(launch_lla)
    up = r0 / np.linalg.norm(r0)
    east = np.cross([0.0, 0.0, 1.0], up)
    east /= np.linalg.norm(east)
    x0 = np.concatenate((r0, 2_000.0 * up + 2_000.0 * east, [VACUUM_LOG_BETA]))[None, :]
    x = Ballistic(max_substep_s=0.1).propagate(x0, flight_s)
    return launch_lla, x


def test_launch_point_round_trip_in_vacuum():
    launch_lla, x = _launch_state()
    P = np.diag([1.0] * 3 + [0.01] * 3 + [0.0])[None]
    est = estimate_launch_point(x, P, Ballistic(max_substep_s=0.1))
    assert est.status[0] == "ok"
    assert geodesic_distance_m(est.lla[0], launch_lla) < 1.0
    assert est.t_s[0] == pytest.approx(-200.0, abs=1e-3)


def test_predict_impact_six_state_equals_vacuum_seven_state():
    _, x = _launch_state()
    P7 = np.diag([100.0] * 3 + [4.0] * 3 + [0.0])[None]
    g7 = predict_impact(x, P7)
    g6 = predict_impact(x[:, 0:6], P7[:, 0:6, 0:6])
    np.testing.assert_allclose(g6.lla, g7.lla, atol=1e-12)
    np.testing.assert_allclose(g6.cov_en_m2, g7.cov_en_m2, rtol=1e-6)
    assert g7.semi_major_m[0] >= g7.semi_minor_m[0] > 0.0
    assert 0.0 <= g7.orientation_rad[0] < np.pi


def test_predict_impact_batch_matches_single_and_sigma_matches_monte_carlo():
    _, x = _launch_state()
    _, x2 = _launch_state(150.0)
    xs = np.vstack((x, x2))
    P = np.tile(np.diag([200.0**2] * 3 + [3.0**2] * 3 + [0.0]), (2, 1, 1))
    batch = predict_impact(xs, P)
    single = predict_impact(x2, P[1:])
    np.testing.assert_allclose(batch.lla[1], single.lla[0], atol=1e-12)
    np.testing.assert_allclose(batch.cov_en_m2[1], single.cov_en_m2[0], rtol=1e-9)
    mc = predict_impact(x, P[:1], n_samples=2_000, rng=np.random.default_rng(2))
    # sample covariance of 2,000 draws: about 3% standard error per variance
    np.testing.assert_allclose(
        np.linalg.eigvalsh(mc.cov_en_m2[0]), np.linalg.eigvalsh(batch.cov_en_m2[0]), rtol=0.12
    )
    assert geodesic_distance_m(mc.lla[0], batch.lla[0]) < 0.1 * batch.semi_major_m[0]


def test_predict_impact_time_limit_and_on_ground():
    r = lla_to_ecef(np.array([0.0, 0.0, 800e3]))
    v_circ = np.sqrt(3.986004418e14 / np.linalg.norm(r)) - 465.0
    orbit = np.concatenate((r, [0.0, v_circ, 0.0]))[None]
    res = predict_impact(orbit, np.eye(6)[None], t_max_s=600.0)
    assert res.status[0] == "time_limit" and np.isnan(res.t_s[0])
    ground = np.concatenate((lla_to_ecef(np.array([0.3, 0.2, -1.0])), [0.0, 0.0, -10.0]))[None]
    res = predict_impact(ground, np.zeros((1, 6, 6)))
    assert res.status[0] == "ok" and res.t_s[0] == 0.0


def test_ellipse_helpers():
    assert n_sigma_for_probability(0.95) == pytest.approx(2.4477, abs=1e-4)
    assert n_sigma_for_probability(1.0 - np.exp(-2.0)) == pytest.approx(2.0)
    _, x = _launch_state()
    g = predict_impact(x, np.diag([100.0] * 3 + [4.0] * 3 + [0.0])[None])
    assert ground_mahalanobis2(g, g.lla)[0] == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(InputError, match="probability"):
        n_sigma_for_probability(1.0)
    with pytest.raises(InputError, match="P"):
        predict_impact(x, np.eye(7))
    with pytest.raises(InputError, match="model"):
        predict_impact(x, np.eye(7)[None], model="glide")


# --------------------------------------------------------------------------- PCRLB inputs


def test_pcrlb_input_errors_and_singular_q_fallback():
    model = ConstantVelocity(sigma_a_m_s2=0.0)  # Q = 0: the D-form cannot be used
    t = np.arange(5.0)
    x = np.column_stack((np.outer(t, [100.0, 0, 0]) + 7e6, np.tile([100.0, 0, 0], (5, 1))))
    meas = [[("xyz", np.zeros(3), np.zeros(3), np.eye(3) * 100.0)]] * 5
    J0 = np.eye(6) * 1e-6
    info = pcrlb(model, x, t, meas, J0)
    cov = pcrlb(model, x, t, meas, J0, form="covariance")
    np.testing.assert_allclose(info, cov, rtol=1e-9, atol=1e-12)
    with pytest.raises(InputError, match="times_s"):
        pcrlb(model, x, t[::-1], meas, J0)
    with pytest.raises(InputError, match="measurements"):
        pcrlb(model, x, t, meas[:3], J0)
    with pytest.raises(InputError, match="R"):
        pcrlb(model, x, t, [[("xyz", np.zeros(3), None, np.eye(2))]] * 5, J0)
