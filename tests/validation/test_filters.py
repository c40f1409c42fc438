"""Validation of the batched Kalman filters against independent implementations and theory.

Sources:
- FilterPy (R. Labbe, ``filterpy.kalman.KalmanFilter``, Joseph-form update) and Stone Soup
  (Dstl, ``stonesoup.predictor.kalman.KalmanPredictor`` / ``updater.kalman.KalmanUpdater``):
  on a linear-Gaussian constant-velocity case our EKF, UKF and CKF must equal their
  estimates to 1e-9 relative. Both are test-only dependencies; the tests are skipped
  where they are not installed.
- P. R. Kalata, "The tracking index: a generalized parameter for alpha-beta and
  alpha-beta-gamma target trackers", IEEE Trans. AES 20(2), 174-182, 1984,
  doi:10.1109/TAES.1984.310438: with the piecewise-constant (discrete) white-noise
  acceleration model (Bar-Shalom, Li & Kirubarajan 2001, §6.3.2,
  ``Q = sigma_w^2 [[T^4/4, T^3/2], [T^3/2, T^2]]``) and position measurements of standard
  deviation sigma_v, the steady-state Kalman gain is ``[alpha, beta / T]`` with
  ``lambda = sigma_w T^2 / sigma_v``, ``r = (4 + lambda - sqrt(8 lambda + lambda^2)) / 4``,
  ``alpha = 1 - r^2``, ``beta = 2 (2 - alpha) - 4 sqrt(1 - alpha)``;
  lambda = 1 gives alpha = 0.750, beta = 0.500 (VALIDATION.md, Estimation).
- Y. Bar-Shalom, X. R. Li, T. Kirubarajan, Estimation with Applications to Tracking and
  Navigation, Wiley, 2001, §5.4.2: over N Monte Carlo runs, the average NEES times N is
  chi-square with N n degrees of freedom for a consistent filter; its 95% two-sided
  band. The same for the NIS with m degrees of freedom.
All draws use fixed seeds.
"""

import datetime

import numpy as np
import pytest
from scipy.stats import chi2

from hyperdef.tracking.filters import FILTERS

# ----------------------------------------------------------------------------- local models


class Linear:
    """A linear motion model with constant F (n, n) and Q (n, n)."""

    def __init__(self, F, Q):
        self.F, self.Q = np.asarray(F, float), np.asarray(Q, float)
        self.dim = self.F.shape[0]

    def predict(self, x, dt_s):
        F = np.broadcast_to(self.F, (x.shape[0],) + self.F.shape)
        return x @ self.F.T, F

    def process_noise(self, x, dt_s):
        return np.broadcast_to(self.Q, (x.shape[0],) + self.Q.shape).copy()


class LinearMeas:
    meas_type = "xyz"

    def __init__(self, H):
        self.H = np.asarray(H, float)
        self.dim = self.H.shape[0]

    def predict(self, x, sensor_r, sensor_v):
        return x @ self.H.T, np.broadcast_to(self.H, (x.shape[0],) + self.H.shape)

    def residual(self, z, z_pred):
        return z - z_pred


def _dwna(T, sigma_w, axes):
    """DWNA (BLK §6.3.2) in the order x, y, z, vx, vy, vz: F and Q."""
    n = 2 * axes
    F = np.eye(n)
    F[:axes, axes:] = T * np.eye(axes)
    q = sigma_w**2 * np.array([[T**4 / 4, T**3 / 2], [T**3 / 2, T**2]])
    Q = np.kron(q, np.eye(axes))
    return F, Q


class CV:
    """3-D DWNA constant velocity, per-track dt."""

    dim = 6

    def __init__(self, sigma_a):
        self.sigma_a = sigma_a

    def predict(self, x, dt_s):
        dt = np.broadcast_to(np.asarray(dt_s, float), (x.shape[0],))
        F = np.broadcast_to(np.eye(6), (x.shape[0], 6, 6)).copy()
        F[:, [0, 1, 2], [3, 4, 5]] = dt[:, None]
        return np.einsum("nij,nj->ni", F, x), F

    def process_noise(self, x, dt_s):
        dt = np.broadcast_to(np.asarray(dt_s, float), (x.shape[0],))
        q = self.sigma_a**2 * np.stack(
            [np.stack([dt**4 / 4, dt**3 / 2], -1), np.stack([dt**3 / 2, dt**2], -1)], -2
        )
        return np.einsum("nij,kl->nikjl", q, np.eye(3)).reshape(-1, 6, 6)


class RangeAzEl:
    """Range, azimuth from +y towards +x, elevation, from a sensor at ``sensor_r``."""

    meas_type = "rae"
    dim = 3

    def predict(self, x, sensor_r, sensor_v):
        d = x[:, :3] - sensor_r
        dx, dy, dz = d.T
        rho2 = dx**2 + dy**2
        rho = np.sqrt(rho2)
        r = np.sqrt(rho2 + dz**2)
        z = np.stack([r, np.arctan2(dx, dy), np.arctan2(dz, rho)], -1)
        H = np.zeros((x.shape[0], 3, x.shape[1]))
        H[:, 0, :3] = d / r[:, None]
        H[:, 1, 0] = dy / rho2
        H[:, 1, 1] = -dx / rho2
        H[:, 2, 0] = -dx * dz / (r**2 * rho)
        H[:, 2, 1] = -dy * dz / (r**2 * rho)
        H[:, 2, 2] = rho / r**2
        return z, H

    def residual(self, z, z_pred):
        nu = z - z_pred
        nu[:, 1:] = np.pi - np.mod(np.pi - nu[:, 1:], 2 * np.pi)
        return nu


ORIGIN = np.zeros(3)


def _rel(a, b):
    return np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(b))


def _run(name, model, meas, x0, P0, R, zs, T):
    flt = FILTERS[name]
    x, P = x0[None], P0[None]
    out = []
    for z in zs:
        x, P = flt.predict(x, P, model, T)
        res = flt.update(x, P, z[None], R, meas, ORIGIN, ORIGIN)
        x, P = res.x, res.P
        out.append((x[0], P[0]))
    return out


# ----------------------------------------------------------------------------- FilterPy


@pytest.mark.parametrize("name", ["ekf", "ukf", "ckf"])
@pytest.mark.parametrize("axes", [1, 3])
def test_equals_filterpy_kalman_filter(name, axes):
    import filterpy.kalman as kalman  # a test dependency: never skipped
    rng = np.random.default_rng(2024)
    T = 1.0
    F, Q = _dwna(T, 2.0, axes)
    H = np.hstack([np.eye(axes), np.zeros((axes, axes))])
    R = np.eye(axes) * 100.0
    x0 = np.r_[rng.normal(1e4, 100, axes), rng.normal(200, 10, axes)]
    P0 = np.diag(np.r_[np.full(axes, 400.0), np.full(axes, 100.0)])
    zs = x0[:axes] + 200.0 * np.arange(1, 51)[:, None] + rng.normal(0, 10, (50, axes))
    kf = kalman.KalmanFilter(dim_x=2 * axes, dim_z=axes)
    kf.x, kf.P, kf.F, kf.Q, kf.H, kf.R = x0.copy(), P0.copy(), F, Q, H, R
    ours = _run(name, Linear(F, Q), LinearMeas(H), x0, P0, R, zs, T)
    for k, (z, (x, P)) in enumerate(zip(zs, ours, strict=True)):
        kf.predict()
        kf.update(z)
        assert _rel(x, kf.x) < 1e-9, f"{name} step {k}: state differs from FilterPy"
        assert _rel(P, kf.P) < 1e-9, f"{name} step {k}: covariance differs from FilterPy"


# ----------------------------------------------------------------------------- Stone Soup


@pytest.mark.parametrize("name", ["ekf", "ukf", "ckf"])
def test_equals_stone_soup_kalman(name):
    from stonesoup.models.measurement.linear import LinearGaussian
    from stonesoup.models.transition.linear import (
        CombinedLinearGaussianTransitionModel,
        ConstantVelocity,
    )
    from stonesoup.predictor.kalman import KalmanPredictor
    from stonesoup.types.detection import Detection
    from stonesoup.types.hypothesis import SingleHypothesis
    from stonesoup.types.state import GaussianState
    from stonesoup.updater.kalman import KalmanUpdater

    rng = np.random.default_rng(7)
    T = 2.0
    dt = datetime.timedelta(seconds=T)
    # Stone Soup's state order is (x, vx, y, vy, z, vz), continuous white-noise acceleration
    transition = CombinedLinearGaussianTransitionModel([ConstantVelocity(0.5)] * 3)
    measurement = LinearGaussian(ndim_state=6, mapping=(0, 2, 4), noise_covar=np.eye(3) * 50.0)
    F, Q = transition.matrix(time_interval=dt), transition.covar(time_interval=dt)
    H, R = measurement.matrix(), measurement.covar()
    x0 = np.array([1e4, 150.0, -2e4, -80.0, 5e3, 5.0])
    P0 = np.diag([500.0, 50.0, 500.0, 50.0, 500.0, 50.0])
    n_steps = 40
    truth = x0[[0, 2, 4]] + T * np.arange(1, n_steps + 1)[:, None] * x0[[1, 3, 5]]
    zs = truth + rng.normal(0, 7, (n_steps, 3))
    ours = _run(name, Linear(F, Q), LinearMeas(H), x0, P0, np.asarray(R), zs, T)
    predictor = KalmanPredictor(transition)
    updater = KalmanUpdater(measurement, use_joseph_cov=True)
    t0 = datetime.datetime(2025, 1, 1)
    state = GaussianState(x0[:, None], P0, timestamp=t0)
    for k, (z, (x, P)) in enumerate(zip(zs, ours, strict=True)):
        t = t0 + (k + 1) * dt
        prediction = predictor.predict(state, timestamp=t)
        det = Detection(z[:, None], timestamp=t, measurement_model=measurement)
        state = updater.update(SingleHypothesis(prediction, det))
        ss_x = np.asarray(state.state_vector, float)[:, 0]
        ss_P = np.asarray(state.covar, float)
        assert _rel(x, ss_x) < 1e-9, f"{name} step {k}: state differs from Stone Soup"
        assert _rel(P, ss_P) < 1e-9, f"{name} step {k}: covariance differs from Stone Soup"


# ----------------------------------------------------------------------------- Kalata


def _kalata(lam):
    r = (4 + lam - np.sqrt(8 * lam + lam**2)) / 4
    alpha = 1 - r**2
    beta = 2 * (2 - alpha) - 4 * np.sqrt(1 - alpha)
    return alpha, beta


def test_kalata_closed_form_reference_values():
    alpha, beta = _kalata(1.0)
    assert round(alpha, 3) == 0.750 and round(beta, 3) == 0.500


@pytest.mark.parametrize("lam", [0.1, 1.0, 10.0])
@pytest.mark.parametrize("name", ["ekf", "ukf", "ckf"])
def test_steady_state_gains_match_kalata_tracking_index(lam, name):
    """Run the filter to steady state; gain K = P+ H^T R^-1 = [alpha, beta / T]."""
    T, sigma_v = 0.5, 10.0
    sigma_w = lam * sigma_v / T**2
    F, Q = _dwna(T, sigma_w, 1)
    H = np.array([[1.0, 0.0]])
    R = np.array([[sigma_v**2]])
    zs = np.zeros((300, 1))
    x, P = _run(name, Linear(F, Q), LinearMeas(H), np.zeros(2), np.eye(2) * 1e4, R, zs, T)[-1]
    alpha, beta = P[0, 0] / sigma_v**2, P[1, 0] / sigma_v**2 * T
    a_ref, b_ref = _kalata(lam)
    assert abs(alpha - a_ref) < 1e-9, f"lambda {lam}: alpha {alpha:.12f} vs Kalata {a_ref:.12f}"
    assert abs(beta - b_ref) < 1e-9, f"lambda {lam}: beta {beta:.12f} vs Kalata {b_ref:.12f}"


# ----------------------------------------------------------------------------- consistency


@pytest.mark.parametrize("name", ["ekf", "ukf", "ckf"])
def test_nonlinear_range_bearing_nees_and_nis_consistent(name):
    """Monte Carlo runs batched as tracks: ANEES and ANIS inside the chi-square 95% band."""
    rng = np.random.default_rng(12345)
    n_runs, n_steps, T = 100, 40, 1.0
    model = CV(sigma_a=1.0)
    meas = RangeAzEl()
    R = np.diag([10.0**2, 1e-3**2, 1e-3**2])
    x_hat = np.broadcast_to([2e4, 4e4, 8e3, -150.0, 100.0, 0.0], (n_runs, 6)).copy()
    P = np.broadcast_to(np.diag([200.0**2] * 3 + [20.0**2] * 3), (n_runs, 6, 6)).copy()
    truth = x_hat + np.einsum("nij,nj->ni", np.linalg.cholesky(P), rng.standard_normal((n_runs, 6)))
    L_r = np.linalg.cholesky(R)
    flt = FILTERS[name]
    anees, anis = [], []
    for _ in range(n_steps):
        a = rng.normal(0.0, model.sigma_a, (n_runs, 3))  # DWNA: Q = G G^T sigma_a^2
        truth = model.predict(truth, T)[0] + np.column_stack([a * T**2 / 2, a * T])
        z = meas.predict(truth, ORIGIN, ORIGIN)[0] + rng.standard_normal((n_runs, 3)) @ L_r.T
        x_hat, P = flt.predict(x_hat, P, model, T)
        res = flt.update(x_hat, P, z, R, meas, ORIGIN, ORIGIN)
        x_hat, P = res.x, res.P
        e = truth - x_hat
        anees.append(np.mean(np.einsum("ni,ni->n", e, np.linalg.solve(P, e[..., None])[..., 0])))
        anis.append(np.mean(res.nis))
    anees, anis = np.array(anees), np.array(anis)
    nees_band = chi2.ppf([0.025, 0.975], 6 * n_runs) / n_runs
    nis_band = chi2.ppf([0.025, 0.975], 3 * n_runs) / n_runs
    in_nees = np.mean((anees >= nees_band[0]) & (anees <= nees_band[1]))
    in_nis = np.mean((anis >= nis_band[0]) & (anis <= nis_band[1]))
    # a consistent filter has 95% of the steps inside; allow for 40 correlated steps
    assert in_nees >= 0.85, (
        f"{name}: ANEES inside the 95% band {nees_band.round(2)} at only {in_nees:.0%} of steps "
        f"(mean {anees.mean():.2f}, expected 6)"
    )
    assert in_nis >= 0.85, (
        f"{name}: ANIS inside the 95% band {nis_band.round(2)} at only {in_nis:.0%} of steps "
        f"(mean {anis.mean():.2f}, expected 3)"
    )
    assert 5.5 < anees.mean() < 6.5, f"{name}: time-averaged ANEES {anees.mean():.2f}, expected 6"
