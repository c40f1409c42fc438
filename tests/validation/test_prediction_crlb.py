"""Validation of impact/launch-point prediction and of the posterior Cramer-Rao bound.

1. Impact-point prediction ([LJ2]): the default medium-range ballistic flight
   (``fly('ballistic', ...)``, Pershing II-class re-entry vehicle) is cut at t = 500 s, in
   the exo-atmospheric coast after apogee. 200 estimates are drawn from ``N(x_true, P)``
   (50 m and 5 m/s per axis, 0.1 in ln beta) and each is propagated with that P by the
   unscented transform (15 sigma points per draw, all 3,000 in one batch). For a
   consistent prediction the squared Mahalanobis distance of the true impact point from
   each predicted one is chi-square with 2 degrees of freedom, so the true point lies
   inside the 2-sigma ellipse with probability 1 - exp(-2) = 86.5 % and inside the 95 %
   ellipse (2.448 sigma) with probability 0.95. Asserted: at least 90 % of the draws
   inside the 95 % ellipse, the 2-sigma fraction within 80-93 % (binomial standard
   error 2.4 % at 200 draws), and the noise-free prediction within 50 m of the
   simulated impact (model agreement between the tracker's Ballistic model and the
   threat simulation).
2. Launch-point extrapolation: backward propagation of the same coast state lands
   within 50 km of the launch site, on its down-range side (no thrust modelled).
3. PCRLB ([TMN98]; VALIDATION.md, Estimation): for the linear-Gaussian constant-velocity
   model with ECEF position measurements the bound equals the Kalman filter's covariance
   (hyperdef.tracking.filters, same model) to 1e-9 (relative to the standard
   deviations), detection gaps included; the bound grows through a gap and shrinks with
   a second sensor.

References
----------
.. [LJ2] X. R. Li, V. P. Jilkov, IEEE Trans. AES 46(1), 96-119 (2010),
   doi:10.1109/TAES.2010.5417150.
.. [TMN98] P. Tichavsky, C. H. Muravchik, A. Nehorai, IEEE Trans. Signal Processing
   46(5), 1386-1396 (1998), doi:10.1109/78.668800.
"""

from __future__ import annotations

import numpy as np
import pytest

from hyperdef.core.frames import ecef_to_enu, geodesic_distance_m, lla_to_ecef
from hyperdef.threats import fly
from hyperdef.threats.vehicles import MRBM_RV
from hyperdef.tracking.crlb import pcrlb
from hyperdef.tracking.filters import predict_ekf, update_ekf
from hyperdef.tracking.measurements import Los, Xyz
from hyperdef.tracking.models import Ballistic, ConstantVelocity
from hyperdef.tracking.prediction import (
    estimate_launch_point,
    ground_mahalanobis2,
    n_sigma_for_probability,
    predict_impact,
)

T_CUT_S = 500.0
N_DRAWS = 200


@pytest.fixture(scope="module")
def flight():
    traj = fly("ballistic", np.radians([50.0, 10.0]), np.radians([52.0, 30.0]))
    assert traj.status[0] == "impact"
    r, v, _ = traj.state_at(np.array([0]), T_CUT_S)
    log_beta = np.log(MRBM_RV.ballistic_coefficient_kg_m2)
    x_true = np.concatenate((r[0], v[0], [log_beta]))
    return traj, x_true


def test_impact_prediction_ellipse_coverage(flight):
    traj, x_true = flight
    assert traj.lla[traj.t.searchsorted(T_CUT_S), 2] > 300e3, "cut not exo-atmospheric"
    sigmas = np.array([50.0] * 3 + [5.0] * 3 + [0.1])
    P = np.diag(sigmas**2)
    nominal = predict_impact(x_true[None], P[None])
    miss_m = geodesic_distance_m(nominal.lla[0], traj.impact_lla[0])
    assert miss_m < 50.0, f"noise-free prediction {miss_m:.1f} m from the simulated impact"
    assert nominal.t_s[0] + T_CUT_S == pytest.approx(traj.t[-1], abs=1.0)

    rng = np.random.default_rng(20261127)
    x_est = x_true + sigmas * rng.standard_normal((N_DRAWS, 7))
    pred = predict_impact(x_est, np.broadcast_to(P, (N_DRAWS, 7, 7)))
    assert np.all(pred.status == "ok")
    d2 = ground_mahalanobis2(pred, traj.impact_lla[0])
    inside_2sigma = np.mean(d2 <= 4.0)
    inside_95 = np.mean(d2 <= n_sigma_for_probability(0.95) ** 2)
    assert inside_95 >= 0.90, f"true impact inside the 95% ellipse in {inside_95:.1%} of draws"
    assert 0.80 <= inside_2sigma <= 0.93, (
        f"true impact inside the 2-sigma ellipse in {inside_2sigma:.1%} of draws; "
        "expected 86.5% for a consistent prediction"
    )
    # the 2-sigma ellipse is the one reported
    np.testing.assert_allclose(
        pred.semi_major_m**2, 4.0 * np.linalg.eigvalsh(pred.cov_en_m2)[:, 1], rtol=1e-9
    )


def test_launch_point_extrapolation(flight):
    traj, x_true = flight
    P = np.diag([50.0**2] * 3 + [5.0**2] * 3 + [0.1**2])[None]
    est = estimate_launch_point(x_true[None], P)
    assert est.status[0] == "ok"
    dist = geodesic_distance_m(est.lla[0], traj.launch_lla[0])
    assert dist < 50e3, f"launch estimate {dist / 1e3:.1f} km from the launch site"
    # down-range side: the estimate is closer to the aim point than the launch site is
    to_aim = geodesic_distance_m(est.lla[0], traj.aim_lla[0])
    assert to_aim < geodesic_distance_m(traj.launch_lla[0], traj.aim_lla[0])
    assert 0.0 < est.t_s[0] + T_CUT_S < 100.0  # crossing before burnout (t = 100 s)


def _cv_scene(n_steps: int = 60, dt_s: float = 2.0):
    t = np.arange(n_steps) * dt_s
    r0 = lla_to_ecef(np.array([0.7, 0.3, 30e3]))
    v0 = np.array([1_500.0, -800.0, 300.0])
    x = np.column_stack((r0 + t[:, None] * v0, np.tile(v0, (n_steps, 1))))
    return t, x


def _kalman_covariances(model, x0, P0, t, meas):
    x, P = x0[None].copy(), P0[None].copy()
    out = []
    for k in range(len(t)):
        if k > 0:
            x, P = predict_ekf(x, P, model, t[k] - t[k - 1])
        for meas_model, sr, sv, R in meas[k]:
            z, _ = meas_model.predict(x, sr[None], sv[None])
            res = update_ekf(x, P, z, R, meas_model, sr, sv)
            x, P = res.x, res.P
        out.append(P[0])
    return np.array(out)


def test_pcrlb_equals_kalman_covariance_linear_gaussian():
    model = ConstantVelocity(sigma_a_m_s2=2.0)
    t, x = _cv_scene()
    R = np.diag([100.0, 150.0, 80.0]) ** 2
    sensor = (Xyz(), np.zeros(3), np.zeros(3), R)
    gap = set(range(20, 30))
    meas = [[] if k in gap else [sensor] for k in range(len(t))]
    P0 = np.diag([1e3] * 3 + [1e2] * 3) ** 2
    for form in ("information", "covariance"):
        bound = pcrlb(model, x, t, meas, np.linalg.inv(P0), form=form)
        kf = _kalman_covariances(model, x[0], P0, t, meas)
        scale = np.sqrt(np.einsum("kii,kjj->kij", kf, kf))
        err = np.max(np.abs(bound - kf) / scale)
        assert err < 1e-9, f"{form} PCRLB differs from the Kalman covariance by {err:.2e}"
    pos_var = np.trace(bound[:, 0:3, 0:3], axis1=1, axis2=2)
    assert np.all(np.diff(pos_var[20:30]) > 0.0), "bound must grow through the detection gap"
    assert pos_var[29] > 5.0 * pos_var[19]
    assert pos_var[31] < pos_var[29]


def test_pcrlb_second_sensor_tightens_bound_nonlinear():
    """Ballistic model, two space IR sensors (los) against one: the bound shrinks."""
    model = Ballistic(sigma_a_m_s2=0.5)
    t = np.arange(30) * 2.0
    r0 = lla_to_ecef(np.array([0.9, 0.4, 300e3]))
    x0 = np.concatenate((r0, [2_000.0, 1_000.0, -500.0], [10.0]))[None]
    xs = [x0[0]]
    for _ in t[1:]:
        x0 = model.propagate(x0, 2.0)
        xs.append(x0[0])
    x = np.array(xs)
    R = np.eye(2) * (20e-6) ** 2
    sat_a = lla_to_ecef(np.array([0.8, 0.3, 1_000e3]))
    sat_b = lla_to_ecef(np.array([0.95, 0.6, 1_000e3]))
    one = [[(Los(), sat_a, np.zeros(3), R)] for _ in t]
    two = [[(Los(), sat_a, np.zeros(3), R), (Los(), sat_b, np.zeros(3), R)] for _ in t]
    J0 = np.linalg.inv(np.diag([1e4] * 3 + [1e3] * 3 + [1.0]) ** 2)
    b1 = pcrlb(model, x, t, one, J0)
    b2 = pcrlb(model, x, t, two, J0)
    assert np.all(np.linalg.eigvalsh(b1 - b2)[1:] >= -1e-6 * np.abs(b1).max())
    pos1 = np.sqrt(np.trace(b1[-1, 0:3, 0:3]))
    pos2 = np.sqrt(np.trace(b2[-1, 0:3, 0:3]))
    assert pos2 < 0.5 * pos1, f"two sensors: {pos2:.1f} m vs one sensor: {pos1:.1f} m"
    # a stereo fix pins the position to tens of metres at 20 microradians, ~1,000 km range
    enu = ecef_to_enu(x[-1, 0:3], np.array([0.8, 0.3, 1_000e3]))
    assert pos2 < 3.0 * 20e-6 * np.linalg.norm(enu)
