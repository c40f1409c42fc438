"""Unit tests of the batched EKF/UKF/CKF (tracking.filters) and the IMM (tracking.imm).

The motion and measurement models used here are small local ones (constant velocity with
discrete white-noise acceleration, linear position, range-azimuth-elevation), so these
tests depend only on the filter code and the protocols.
"""

import numpy as np
import pytest

from hyperdef.errors import InputError
from hyperdef.tracking.filters import (
    FILTERS,
    SigmaPoints,
    gated,
    get_filter,
    mahalanobis2,
    predict_ckf,
    predict_ekf,
    predict_ukf,
    update_ckf,
    update_ekf,
    update_ukf,
)
from hyperdef.tracking.imm import (
    IMM,
    combined,
    imm_initial_state,
    imm_predict,
    imm_update,
    model_probabilities,
)

# ----------------------------------------------------------------------------- local models


def _dwna_block(dt, sigma_a):
    """Per-axis DWNA [[T^4/4, T^3/2], [T^3/2, T^2]] sigma^2, shape (N, 2, 2)."""
    dt = np.atleast_1d(np.asarray(dt, dtype=float))
    q = sigma_a**2
    return q * np.stack(
        [np.stack([dt**4 / 4, dt**3 / 2], -1), np.stack([dt**3 / 2, dt**2], -1)], -2
    )


class CV:
    """Constant velocity in ``axes`` dimensions (state: positions then velocities)."""

    def __init__(self, sigma_a, axes=3, extra=0, extra_q=0.0):
        self.sigma_a = sigma_a
        self.axes = axes
        self.extra = extra  # random-walk extra states appended (for mixed-dim tests)
        self.extra_q = extra_q
        self.dim = 2 * axes + extra

    def _F(self, n_tracks, dt):
        dt = np.broadcast_to(np.asarray(dt, dtype=float), (n_tracks,))
        a = self.axes
        F = np.broadcast_to(np.eye(self.dim), (n_tracks, self.dim, self.dim)).copy()
        for k in range(a):
            F[:, k, a + k] = dt
        return F

    def predict(self, x, dt_s):
        F = self._F(x.shape[0], dt_s)
        return np.einsum("nij,nj->ni", F, x), F

    def process_noise(self, x, dt_s):
        n_tracks = x.shape[0]
        blk = np.broadcast_to(_dwna_block(dt_s, self.sigma_a), (n_tracks, 2, 2))
        Q = np.zeros((n_tracks, self.dim, self.dim))
        a = self.axes
        for k in range(a):
            idx = np.array([k, a + k])
            Q[:, idx[:, None], idx[None, :]] = blk
        for e in range(self.extra):
            Q[:, 2 * a + e, 2 * a + e] = self.extra_q
        return Q


class CA:
    """3-D constant acceleration (Wiener-sequence acceleration), dim 9."""

    dim = 9

    def __init__(self, sigma_j):
        self.sigma_j = sigma_j

    def _F(self, n_tracks, dt):
        dt = np.broadcast_to(np.asarray(dt, dtype=float), (n_tracks,))
        F = np.broadcast_to(np.eye(9), (n_tracks, 9, 9)).copy()
        for k in range(3):
            F[:, k, 3 + k] = dt
            F[:, k, 6 + k] = dt**2 / 2
            F[:, 3 + k, 6 + k] = dt
        return F

    def predict(self, x, dt_s):
        F = self._F(x.shape[0], dt_s)
        return np.einsum("nij,nj->ni", F, x), F

    def process_noise(self, x, dt_s):
        n_tracks = x.shape[0]
        dt = np.broadcast_to(np.asarray(dt_s, dtype=float), (n_tracks,))
        g = np.stack([dt**2 / 2, dt, np.ones_like(dt)], -1)  # (N, 3)
        blk = self.sigma_j**2 * g[:, :, None] * g[:, None, :]
        Q = np.zeros((n_tracks, 9, 9))
        for k in range(3):
            idx = np.array([k, 3 + k, 6 + k])
            Q[:, idx[:, None], idx[None, :]] = blk
        return Q


class Position:
    """Linear position measurement of the first ``axes`` components."""

    meas_type = "xyz"

    def __init__(self, axes=3):
        self.dim = axes

    def predict(self, x, sensor_r, sensor_v):
        H = np.zeros((x.shape[0], self.dim, x.shape[1]))
        H[:, np.arange(self.dim), np.arange(self.dim)] = 1.0
        return x[:, : self.dim].copy(), H

    def residual(self, z, z_pred):
        return z - z_pred


def _wrap(a):
    return np.pi - np.mod(np.pi - a, 2 * np.pi)


class RangeAzEl:
    """Range, azimuth (from +y towards +x) and elevation of the position from the sensor."""

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
        nu[:, 1:] = _wrap(nu[:, 1:])
        return nu


ORIGIN = np.zeros(3)


def _textbook_kf(x, P, F, Q, H, R, zs):
    """Single-track textbook KF (BLK §5.2.4), explicit inverse, simple covariance update."""
    out = []
    for z in zs:
        x = F @ x
        P = F @ P @ F.T + Q
        S = H @ P @ H.T + R
        K = P @ H.T @ np.linalg.inv(S)
        x = x + K @ (z - H @ x)
        P = (np.eye(len(x)) - K @ H) @ P
        out.append((x.copy(), P.copy()))
    return out


def _rel(a, b):
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


# ----------------------------------------------------------------------------- KF equality


@pytest.mark.parametrize("axes", [1, 3])
@pytest.mark.parametrize("name", ["ekf", "ukf", "ckf"])
def test_linear_gaussian_filters_equal_textbook_kf(axes, name):
    rng = np.random.default_rng(1)
    model, meas = CV(sigma_a=0.5, axes=axes), Position(axes)
    n = 2 * axes
    T = 0.5
    F = model._F(1, T)[0]
    Q = model.process_noise(np.zeros((1, n)), T)[0]
    H = meas.predict(np.zeros((1, n)), ORIGIN, ORIGIN)[1][0]
    R = np.diag(np.full(axes, 4.0))
    x0 = np.concatenate([rng.normal(0, 100, axes), rng.normal(0, 10, axes)])
    P0 = np.diag(np.r_[np.full(axes, 100.0), np.full(axes, 25.0)])
    zs = rng.normal(0, 50, (40, axes))
    ref = _textbook_kf(x0, P0, F, Q, H, R, zs)
    flt = FILTERS[name]
    x, P = x0[None], P0[None]
    for z, (x_ref, P_ref) in zip(zs, ref, strict=True):
        x, P = flt.predict(x, P, model, T)
        res = flt.update(x, P, z[None], R, meas, ORIGIN, ORIGIN)
        x, P = res.x, res.P
        assert _rel(x[0], x_ref) < 1e-9, f"{name}: state differs from the textbook KF"
        assert _rel(P[0], P_ref) < 1e-9, f"{name}: covariance differs from the textbook KF"


def test_update_result_fields_are_consistent():
    model, meas = CV(1.0), Position()
    x = np.array([[10.0, -5.0, 3.0, 1.0, 2.0, 3.0]])
    P = np.diag([4.0, 4.0, 4.0, 1.0, 1.0, 1.0])[None]
    x, P = predict_ekf(x, P, model, 1.0)
    R = np.eye(3) * 2.0
    z = np.array([[12.0, -4.0, 5.0]])
    res = update_ekf(x, P, z, R, meas, ORIGIN, ORIGIN)
    S = P[0, :3, :3] + R
    nu = z[0] - x[0, :3]
    np.testing.assert_allclose(res.nu[0], nu)
    np.testing.assert_allclose(res.S[0], S)
    np.testing.assert_allclose(res.nis[0], nu @ np.linalg.solve(S, nu))
    ll = -0.5 * (nu @ np.linalg.solve(S, nu) + np.log(np.linalg.det(2 * np.pi * S)))
    np.testing.assert_allclose(res.log_likelihood[0], ll)
    np.testing.assert_allclose(mahalanobis2(res.nu, res.S), res.nis)


def test_sigma_point_weights():
    wm, wc, scale = SigmaPoints(alpha=1e-3, beta=2.0, kappa=0.0).weights(6)
    assert wm.shape == (13,)
    np.testing.assert_allclose(wm.sum(), 1.0, rtol=1e-9)
    lam = 1e-6 * 6 - 6
    np.testing.assert_allclose(wm[0], lam / (6 + lam))
    np.testing.assert_allclose(wc[0], lam / (6 + lam) + 1 - 1e-6 + 2)
    np.testing.assert_allclose(scale, np.sqrt(6 + lam))


def test_ukf_with_small_alpha_matches_kf_on_linear_model():
    model, meas = CV(0.5), Position()
    x = np.array([[100.0, 200.0, 300.0, 10.0, -10.0, 5.0]])
    P = np.diag([100.0, 100, 100, 25, 25, 25])[None]
    sp = SigmaPoints(alpha=0.1, beta=2.0, kappa=0.0)
    xe, Pe = predict_ekf(x, P, model, 1.0)
    xu, Pu = predict_ukf(x, P, model, 1.0, sp)
    np.testing.assert_allclose(xu, xe, rtol=1e-9)
    np.testing.assert_allclose(Pu, Pe, rtol=1e-7, atol=1e-9)
    z = np.array([[111.0, 190.0, 305.0]])
    re = update_ekf(xe, Pe, z, np.eye(3), meas, ORIGIN, ORIGIN)
    ru = update_ukf(xe, Pe, z, np.eye(3), meas, ORIGIN, ORIGIN, sp)
    np.testing.assert_allclose(ru.x, re.x, rtol=1e-9)
    np.testing.assert_allclose(ru.P, re.P, rtol=1e-6, atol=1e-9)


# ----------------------------------------------------------------------------- batch vs single


@pytest.mark.parametrize("name", ["ekf", "ukf", "ckf"])
def test_batch_equals_single(name):
    rng = np.random.default_rng(7)
    n_tracks = 5
    model, meas = CV(2.0), RangeAzEl()
    x = np.column_stack([rng.normal(0, 2e4, (n_tracks, 3)), rng.normal(0, 300, (n_tracks, 3))])
    x[:, 1] += 5e4
    P = np.broadcast_to(np.diag([1e4, 1e4, 1e4, 100, 100, 100]), (n_tracks, 6, 6)).copy()
    dt = rng.uniform(0.5, 2.0, n_tracks)
    sensors = rng.normal(0, 1e3, (n_tracks, 3))
    R = np.diag([25.0, 1e-6, 1e-6])
    flt = FILTERS[name]
    xb, Pb = flt.predict(x, P, model, dt)
    zb = meas.predict(xb, sensors, 0 * sensors)[0] + rng.normal(0, 1e-3, (n_tracks, 3))
    rb = flt.update(xb, Pb, zb, R, meas, sensors, 0 * sensors)
    for k in range(n_tracks):
        xs, Ps = flt.predict(x[k : k + 1], P[k : k + 1], model, dt[k])
        rs = flt.update(xs, Ps, zb[k : k + 1], R, meas, sensors[k], np.zeros(3))
        np.testing.assert_allclose(rs.x[0], rb.x[k], rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(rs.P[0], rb.P[k], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(rs.nis[0], rb.nis[k], rtol=1e-10)
        np.testing.assert_allclose(rs.log_likelihood[0], rb.log_likelihood[k], rtol=1e-10)


def test_angle_residual_wraps_in_sigma_point_update():
    """A target due south (azimuth +-pi) must not average to azimuth 0."""
    meas = RangeAzEl()
    x = np.array([[1.0, -1e4, 0.0, 0.0, 0.0, 0.0]])  # azimuth ~ +pi
    P = np.diag([1e4, 1.0, 1.0, 1.0, 1.0, 1.0])[None]  # sigma points straddle +-pi
    z = np.array([[1e4, -np.pi + 1e-4, 0.0]])
    R = np.diag([1.0, 1e-6, 1e-6])
    for update in (update_ukf, update_ckf):
        res = update(x, P, z, R, meas, ORIGIN, ORIGIN)
        assert abs(res.nu[0, 1]) < 0.01, f"{update.__name__}: azimuth innovation not wrapped"
        assert res.S[0, 1, 1] < 1e-3, f"{update.__name__}: azimuth spread inflated by wrapping"


# ----------------------------------------------------------------------------- SPD, long runs


def _check_spd(P, what):
    assert np.array_equal(P, np.swapaxes(P, -1, -2)), f"{what}: P not exactly symmetric"
    eig = np.linalg.eigvalsh(P)
    assert np.all(eig > 0.0), f"{what}: P has eigenvalue {eig.min():.3g} <= 0"
    np.linalg.cholesky(P)


@pytest.mark.parametrize(("name", "steps"), [("ekf", 10_000), ("ukf", 2_000), ("ckf", 2_000)])
def test_covariance_stays_spd_over_long_run(name, steps):
    """ECEF-sized states, a badly scaled extra state, millimetre measurements."""
    rng = np.random.default_rng(3)
    n_tracks = 3
    model = CV(sigma_a=1e-3, extra=1, extra_q=1e-2)  # extra ~ 1e4 (ballistic coefficient)
    meas = Position()
    x = np.column_stack(
        [rng.normal(0, 1, (n_tracks, 3)) + [6.4e6, 1.0e5, 2.0e5], np.full((n_tracks, 3), 2e3)]
    )
    x = np.column_stack([x, np.full(n_tracks, 1.0e4)])
    P = np.broadcast_to(np.diag([1e2, 1e2, 1e2, 1e1, 1e1, 1e1, 1e6]), (n_tracks, 7, 7)).copy()
    R = np.eye(3) * 1e-6
    dt = 0.1
    flt = FILTERS[name]
    truth = x[:, :3].copy()
    for k in range(steps):
        x, P = flt.predict(x, P, model, dt)
        truth = truth + dt * 2e3
        z = truth + rng.normal(0, 1e-3, (n_tracks, 3))
        res = flt.update(x, P, z, R, meas, ORIGIN, ORIGIN)
        x, P = res.x, res.P
        if k % 500 == 0:
            _check_spd(P, f"{name} step {k}")
    _check_spd(P, f"{name} end")
    assert np.all(np.abs(x[:, :3] - truth) < 0.01), f"{name}: diverged"


# ----------------------------------------------------------------------------- gating


def test_gating_uses_chi_square_quantile():
    S = np.broadcast_to(np.eye(2) * 4.0, (3, 2, 2))
    nu = np.array([[0.0, 0.0], [4.0, 4.0], [2.0, 0.0]])  # d2 = 0, 8, 1
    np.testing.assert_allclose(mahalanobis2(nu, S), [0.0, 8.0, 1.0])
    # chi2(2) 0.99 quantile = 9.21; 0.95 = 5.99
    np.testing.assert_array_equal(gated(nu, S, 0.99), [True, True, True])
    np.testing.assert_array_equal(gated(nu, S, 0.95), [True, False, True])
    with pytest.raises(InputError, match="p_gate"):
        gated(nu, S, 1.5)


# ----------------------------------------------------------------------------- bad input


def test_non_psd_R_is_rejected_naming_R():
    model, meas = CV(1.0), Position()
    x = np.zeros((2, 6))
    P = np.broadcast_to(np.eye(6), (2, 6, 6))
    bad_R = np.diag([1.0, -1.0, 1.0])
    for update in (update_ekf, update_ukf, update_ckf):
        with pytest.raises(InputError, match=r"^R: .*positive semi-definite"):
            update(x, P, np.zeros((2, 3)), bad_R, meas, ORIGIN, ORIGIN)
    with pytest.raises(InputError, match=r"^R: .*symmetric"):
        update_ekf(
            x,
            P,
            np.zeros((2, 3)),
            np.array([[1, 0.5, 0], [0, 1, 0], [0, 0, 1]]),
            meas,
            ORIGIN,
            ORIGIN,
        )
    with pytest.raises(InputError, match=r"^z: "):
        update_ekf(x, P, np.zeros((3, 3)), np.eye(3), meas, ORIGIN, ORIGIN)
    with pytest.raises(InputError, match=r"^P: "):
        predict_ekf(x, np.eye(6), model, 1.0)
    with pytest.raises(InputError, match=r"^model: "):
        predict_ckf(np.zeros((2, 4)), np.broadcast_to(np.eye(4), (2, 4, 4)), model, 1.0)
    with pytest.raises(InputError, match=r"^filter: "):
        get_filter("pf")
    with pytest.raises(InputError, match=r"^sigma_points.alpha"):
        SigmaPoints(alpha=0.0)


def test_transition_matrix_is_validated():
    models = (CV(0.1), CV(10.0))
    with pytest.raises(InputError, match=r"^transition: row 1 sums to"):
        IMM(models, [[0.9, 0.1], [0.2, 0.7]])
    with pytest.raises(InputError, match=r"^transition: .*non-negative"):
        IMM(models, [[1.1, -0.1], [0.0, 1.0]])
    with pytest.raises(InputError, match=r"^transition: must have shape"):
        IMM(models, np.eye(3))
    with pytest.raises(InputError, match=r"^filter: "):
        IMM(models, np.eye(2), filter_name="kf")
    imm = IMM(models, [[0.9, 0.1], [0.1, 0.9]])
    assert not imm.transition.flags.writeable
    with pytest.raises(InputError, match=r"^probabilities: "):
        imm_initial_state(imm, [np.zeros((1, 6))] * 2, [np.eye(6)[None]] * 2, [0.5, 0.6])
    with pytest.raises(InputError, match=r"^P\[1\]: "):
        imm_initial_state(imm, [np.zeros((1, 6))] * 2, [np.eye(6)[None], -np.eye(6)[None]])


# ----------------------------------------------------------------------------- IMM


def _straight_then_turn(n_steps, T, turn_start, turn_end, omega, speed=300.0):
    pos = np.array([0.0, 5e4, 1e4])
    vel = np.array([speed, 0.0, 0.0])
    out = []
    for k in range(n_steps):
        w = omega if turn_start <= k < turn_end else 0.0
        if w:
            c, s = np.cos(w * T), np.sin(w * T)
            vx, vy = vel[:2]
            new_v = np.array([c * vx - s * vy, s * vx + c * vy, vel[2]])
            pos = pos + np.array(
                [(s * vx - (1 - c) * vy) / w, ((1 - c) * vx + s * vy) / w, vel[2] * T]
            )
            vel = new_v
        else:
            pos = pos + vel * T
        out.append(np.r_[pos, vel])
    return np.array(out)


@pytest.mark.parametrize("name", ["ekf", "ukf", "ckf"])
def test_imm_with_identity_transition_reduces_to_kf(name):
    rng = np.random.default_rng(11)
    m1, m2 = CV(0.5), CV(20.0)
    meas = Position()
    imm = IMM((m1, m2), np.eye(2), filter_name=name)
    x0 = np.array([[0.0, 5e4, 1e4, 300.0, 0.0, 0.0]])
    P0 = np.diag([100.0, 100, 100, 400, 400, 400])[None]
    state = imm_initial_state(imm, [x0, x0 + 50.0], [P0, 3 * P0], [1.0, 0.0])
    flt = FILTERS[name]
    x, P = x0, P0
    R = np.eye(3) * 400.0
    truth = _straight_then_turn(30, 1.0, 10, 20, 0.1)
    for k in range(30):
        z = truth[k : k + 1, :3] + rng.normal(0, 20, (1, 3))
        state = imm_predict(state, imm, 1.0)
        state = imm_update(state, imm, z, R, meas, ORIGIN, ORIGIN).state
        x, P = flt.predict(x, P, m1, 1.0)
        res = flt.update(x, P, z, R, meas, ORIGIN, ORIGIN)
        x, P = res.x, res.P
        x6, P6 = combined(state)
        np.testing.assert_allclose(x6, x, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(P6, P, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(model_probabilities(state), [[1.0, 0.0]])


def test_imm_probabilities_switch_to_manoeuvre_model_during_turn():
    rng = np.random.default_rng(5)
    T = 1.0
    n_steps, t0, t1 = 90, 30, 60
    g = 9.80665
    omega = 5 * g / 300.0  # 5 g coordinated turn at 300 m/s
    truth = _straight_then_turn(n_steps, T, t0, t1, omega)
    imm = IMM((CV(0.05), CV(40.0)), [[0.95, 0.05], [0.05, 0.95]])
    meas = Position()
    R = np.eye(3) * 25.0**2
    x0 = truth[:1] + np.r_[rng.normal(0, 25, 3), rng.normal(0, 10, 3)]
    P0 = np.diag([625.0, 625, 625, 100, 100, 100])[None]
    state = imm_initial_state(imm, [x0, x0], [P0, P0])
    mu = []
    for k in range(1, n_steps):
        z = truth[k : k + 1, :3] + rng.normal(0, 25.0, (1, 3))
        state = imm_predict(state, imm, T)
        state = imm_update(state, imm, z, R, meas, ORIGIN, ORIGIN).state
        mu.append(model_probabilities(state)[0])
    mu = np.array(mu)
    np.testing.assert_allclose(mu.sum(axis=1), 1.0)
    before = mu[t0 - 20 : t0 - 1, 1].mean()
    during = mu[t0 + 5 : t1 - 1, 1].mean()
    after = mu[t1 + 15 :, 1].mean()
    assert before < 0.2, f"manoeuvre-model probability {before:.2f} before the turn"
    assert during > 0.8, f"manoeuvre-model probability {during:.2f} during the 5 g turn"
    assert after < 0.3, f"manoeuvre-model probability {after:.2f} after the turn"


def test_imm_mixes_models_of_different_dimensions():
    """CV (6) and CA (9): the mixed estimates stay SPD and the CA keeps its accelerations."""
    rng = np.random.default_rng(9)
    imm = IMM((CV(0.05), CA(5.0)), [[0.95, 0.05], [0.05, 0.95]])
    meas = Position()
    truth = _straight_then_turn(60, 1.0, 20, 40, 5 * 9.80665 / 300.0)
    x6 = truth[:1]
    x9 = np.column_stack([x6, np.zeros((1, 3))])
    P6 = np.diag([625.0, 625, 625, 100, 100, 100])[None]
    P9 = np.diag([625.0, 625, 625, 100, 100, 100, 100, 100, 100])[None]
    state = imm_initial_state(imm, [x6, x9], [P6, P9])
    R = np.eye(3) * 25.0**2
    err = []
    for k in range(1, 60):
        z = truth[k : k + 1, :3] + rng.normal(0, 25.0, (1, 3))
        state = imm_predict(state, imm, 1.0)
        for P in state.P:
            _check_spd(P, f"IMM predicted step {k}")
        state = imm_update(state, imm, z, R, meas, ORIGIN, ORIGIN).state
        x, P = combined(state)
        _check_spd(P, f"IMM combined step {k}")
        err.append(np.linalg.norm(x[0, :3] - truth[k, :3]))
    assert state.x[1].shape == (1, 9) and state.P[1].shape == (1, 9, 9)
    assert np.mean(err[5:]) < 60.0, f"IMM CV/CA position error {np.mean(err[5:]):.1f} m"


def test_imm_batch_equals_single():
    rng = np.random.default_rng(21)
    imm = IMM((CV(0.1), CA(3.0)), [[0.9, 0.1], [0.2, 0.8]])
    n_tracks = 4
    meas = RangeAzEl()
    x6 = np.column_stack(
        [rng.normal(0, 1e4, (n_tracks, 3)) + [0, 6e4, 1e4], rng.normal(0, 200, (n_tracks, 3))]
    )
    x9 = np.column_stack([x6, rng.normal(0, 5, (n_tracks, 3))])
    P6 = np.broadcast_to(np.diag([1e3, 1e3, 1e3, 1e2, 1e2, 1e2]), (n_tracks, 6, 6))
    P9 = np.broadcast_to(np.diag([1e3, 1e3, 1e3, 1e2, 1e2, 1e2, 10, 10, 10]), (n_tracks, 9, 9))
    mu0 = rng.dirichlet([1, 1], n_tracks)
    R = np.diag([100.0, 1e-6, 1e-6])
    dt = rng.uniform(0.5, 1.5, n_tracks)
    zs = [meas.predict(x6 + k, ORIGIN, ORIGIN)[0] for k in range(3)]
    sb = imm_initial_state(imm, [x6, x9], [P6, P9], mu0)
    singles = [
        imm_initial_state(
            imm, [x6[i : i + 1], x9[i : i + 1]], [P6[i : i + 1], P9[i : i + 1]], mu0[i]
        )
        for i in range(n_tracks)
    ]
    for z in zs:
        sb = imm_update(imm_predict(sb, imm, dt), imm, z, R, meas, ORIGIN, ORIGIN).state
        singles = [
            imm_update(imm_predict(s, imm, dt[i]), imm, z[i : i + 1], R, meas, ORIGIN, ORIGIN).state
            for i, s in enumerate(singles)
        ]
    xb, Pb = combined(sb)
    for i, s in enumerate(singles):
        xs, Ps = combined(s)
        np.testing.assert_allclose(xs[0], xb[i], rtol=1e-12, atol=1e-8)
        np.testing.assert_allclose(Ps[0], Pb[i], rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(s.probabilities[0], sb.probabilities[i], rtol=1e-10)
