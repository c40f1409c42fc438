"""Unit tests of the tracker's motion and measurement models (tracking.models, .measurements)."""

import numpy as np
import pytest
from difference_fixtures import fd_jacobian

from hyperdef.core.frames import ecef_to_aer, lla_to_ecef
from hyperdef.errors import InputError
from hyperdef.tracking.measurements import (
    MEASUREMENT_MODELS,
    Los,
    Rae,
    Raer,
    measurement_covariance_to_ecef,
    measurement_to_ecef,
    wrap_angle,
)
from hyperdef.tracking.models import (
    DEFAULT_PRIORS,
    JACOBIAN_STEPS,
    MODELS,
    Ballistic,
    ConstantAcceleration,
    ConstantVelocity,
    CoordinatedTurn3D,
    ExtraPrior,
    Glide,
    Singer,
    embed,
    model_name,
)

LLA = np.array([[0.4, -2.8, 40e3], [-0.6, 2.0, 60e3], [1.2, 0.3, 120e3]])
VEL = np.array([[2000.0, -500.0, 300.0], [-1500.0, 1200.0, -200.0], [500.0, 2500.0, 100.0]])
EXTRA = {
    "cv": [],
    "ca": [[3.0, -9.0, 1.0], [-2.0, 4.0, 0.5], [0.0, 1.0, -8.0]],
    "singer": [[3.0, -9.0, 1.0], [-2.0, 4.0, 0.5], [0.0, 1.0, -8.0]],
    "ct": [[0.01], [-0.02], [0.0]],
    "ballistic": [[np.log(3e4)], [np.log(5e3)], [np.log(1e4)]],
    "glide": [[np.log(2e4), 2.5, 0.6], [np.log(8e3), 1.0, -1.0], [np.log(3e4), 3.0, 0.0]],
}


def states(name):
    x6 = np.column_stack((lla_to_ecef(LLA), VEL))
    extra = np.asarray(EXTRA[name], dtype=float).reshape(3, -1)
    return np.column_stack((x6, extra))


# ------------------------------------------------------------------ motion models

#: central-difference steps of the reference Jacobians: four times the turn model's own
#: forward-difference steps; for the physics models (analytic F) 12 cm in position (the
#: drag's curvature over one density scale height, ~7 km, keeps the central-difference
#: error near 1e-10), 4 mm/s and 4e-6 in the parameters
REFERENCE_STEPS = {
    "ct": JACOBIAN_STEPS["ct"] * 4.0,
    "ballistic": np.array([0.12] * 3 + [4e-3] * 3 + [4e-6]),
    "glide": np.array([0.12] * 3 + [4e-3] * 3 + [4e-6] * 3),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_motion_jacobian_matches_finite_differences(name):
    model = MODELS[name]
    x = states(name)
    dt = np.array([2.0, 5.0, 10.0])
    _, F = model.predict(x, dt)
    # entries compared in units of a typical state scale (1 km, 1 m/s, 0.1 rad/s or 0.1
    # in the extra states), relative to the largest entry of their row; the physics
    # models' analytic F must match to the reference's own accuracy, the turn model's
    # forward differences to 1e-5
    steps = REFERENCE_STEPS.get(name, np.ones(model.dim))
    ref = fd_jacobian(lambda y: model.predict(y, dt)[0], x, steps)
    scale = np.concatenate(([1e3] * 3, [1.0] * 3, [0.1] * (model.dim - 6)))
    norm = scale[None, None, :] / scale[None, :, None]
    err = np.abs(F - ref) * norm / (np.abs(ref) * norm).max(axis=2, keepdims=True)
    tolerance = 1e-7 if name in ("ballistic", "glide") else 1e-5
    assert err.max() < tolerance, f"{name}: worst relative error {err.max():.2e}"


@pytest.mark.parametrize("name", ["ct", "ballistic", "glide"])
def test_nonlinear_model_linearisation_predicts_small_perturbations(name):
    # independent of the finite-difference steps: f(x + d) - f(x) ~ F d
    model = MODELS[name]
    x = states(name)
    rng = np.random.default_rng(1)
    scale = np.concatenate(([10.0] * 3, [0.1] * 3, [1e-3] * (model.dim - 6)))
    if name == "ct":
        scale[6] = 1e-5
    delta = rng.standard_normal(x.shape) * scale
    x_pred, F = model.predict(x, 8.0)
    moved, _ = model.predict(x + delta, 8.0)
    linear = np.einsum("nij,nj->ni", F, delta)
    assert np.abs(moved - x_pred - linear).max() < 1e-3 * np.abs(linear).max()


@pytest.mark.parametrize("name", list(MODELS))
def test_batch_agrees_with_single_track(name):
    model = MODELS[name]
    x = states(name)
    dt = np.array([1.0, 3.0, 7.5])
    xb, Fb = model.predict(x, dt)
    Qb = model.process_noise(x, dt)
    for i in range(3):
        xs, Fs = model.predict(x[i : i + 1], dt[i])
        Qs = model.process_noise(x[i : i + 1], dt[i])
        np.testing.assert_allclose(xs[0], xb[i], rtol=1e-15, atol=0)
        np.testing.assert_allclose(Fs[0], Fb[i], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(Qs[0], Qb[i], rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", list(MODELS))
def test_process_noise_is_symmetric_positive_semidefinite(name):
    model = MODELS[name]
    rng = np.random.default_rng(7)
    x = np.repeat(states(name), 4, axis=0)
    dt = rng.uniform(1e-3, 30.0, size=x.shape[0])
    Q = model.process_noise(x, dt)
    assert Q.shape == (x.shape[0], model.dim, model.dim)
    np.testing.assert_array_equal(Q, np.swapaxes(Q, 1, 2))
    eig = np.linalg.eigvalsh(Q)
    assert np.all(eig >= -1e-12 * np.abs(eig).max(axis=1, keepdims=True))


def test_first_six_states_and_dims():
    dims = {name: m.dim for name, m in MODELS.items()}
    assert dims == {"cv": 6, "ca": 9, "singer": 9, "ct": 7, "ballistic": 7, "glide": 9}
    for name, m in MODELS.items():
        assert model_name(m) == name
        assert len(DEFAULT_PRIORS[name].mean) == m.dim - 6


def test_cv_closed_form():
    dt = 3.0
    x = states("cv")
    xp, F = ConstantVelocity(2.0).predict(x, dt)
    np.testing.assert_allclose(xp[:, 0:3], x[:, 0:3] + dt * x[:, 3:6])
    np.testing.assert_array_equal(xp[:, 3:6], x[:, 3:6])
    Q = ConstantVelocity(2.0).process_noise(x, dt)[0]
    q = 4.0
    assert Q[0, 0] == pytest.approx(q * dt**3 / 3)
    assert Q[0, 3] == pytest.approx(q * dt**2 / 2)
    assert Q[4, 4] == pytest.approx(q * dt)
    assert Q[0, 1] == 0.0 and Q[0, 4] == 0.0
    block = q * np.array([[dt**3 / 3, dt**2 / 2], [dt**2 / 2, dt]])
    np.testing.assert_allclose(Q, np.kron(block, np.eye(3)), rtol=1e-15, atol=0.0)
    assert F[0, 2, 5] == dt and F[0, 2, 2] == 1.0


def test_ca_closed_form():
    dt = 2.0
    x = states("ca")
    xp, _ = ConstantAcceleration(1.5).predict(x, dt)
    np.testing.assert_allclose(
        xp[:, 0:3], x[:, 0:3] + dt * x[:, 3:6] + 0.5 * dt**2 * x[:, 6:9], rtol=1e-15
    )
    Q = ConstantAcceleration(1.5).process_noise(x, dt)[0]
    q = 2.25
    expect = q * np.array(
        [
            [dt**5 / 20, dt**4 / 8, dt**3 / 6],
            [dt**4 / 8, dt**3 / 3, dt**2 / 2],
            [dt**3 / 6, dt**2 / 2, dt],
        ]
    )
    np.testing.assert_allclose(Q[1::3, 1::3], expect, rtol=1e-14)


def singer_closed_form(tau, sigma, dt):
    """Singer's formulas as printed (valid away from the small-dt/tau limit)."""
    a = 1 / tau
    e1, e2 = np.exp(-a * dt), np.exp(-2 * a * dt)
    x = a * dt
    q = np.empty((3, 3))
    q[0, 0] = (1 - e2 + 2 * x + 2 * x**3 / 3 - 2 * x**2 - 4 * x * e1) / (2 * a**5)
    q[0, 1] = (e2 + 1 - 2 * e1 + 2 * x * e1 - 2 * x + x**2) / (2 * a**4)
    q[0, 2] = (1 - e2 - 2 * x * e1) / (2 * a**3)
    q[1, 1] = (4 * e1 - 3 - e2 + 2 * x) / (2 * a**3)
    q[1, 2] = (e2 + 1 - 2 * e1) / (2 * a**2)
    q[2, 2] = (1 - e2) / (2 * a)
    q = np.triu(q) + np.triu(q, 1).T
    F = np.array([[1, dt, (x - 1 + e1) / a**2], [0, 1, (1 - e1) / a], [0, 0, e1]])
    return F, 2 * a * sigma**2 * q


@pytest.mark.parametrize("tau, dt", [(5.0, 10.0), (20.0, 30.0), (2.0, 2.5), (10.0, 12.0)])
def test_singer_matches_closed_form(tau, dt):
    model = Singer(tau, 20.0)
    x = states("singer")
    _, F = model.predict(x, dt)
    Q = model.process_noise(x, dt)
    F_ref, Q_ref = singer_closed_form(tau, 20.0, dt)
    np.testing.assert_allclose(F[0][::3, ::3], F_ref, rtol=1e-12)
    np.testing.assert_allclose(Q[0][::3, ::3], Q_ref, rtol=1e-9)


def test_singer_series_and_closed_form_meet_at_the_switch():
    # x = dt / tau = 1 is the switch between series and closed form
    tau = 10.0
    below = Singer(tau, 3.0).process_noise(np.zeros((1, 9)), tau * (1 - 1e-9))[0]
    above = Singer(tau, 3.0).process_noise(np.zeros((1, 9)), tau * (1 + 1e-9))[0]
    np.testing.assert_allclose(below, above, rtol=1e-7)


def test_singer_long_tau_tends_to_wiener_acceleration():
    dt, q = 4.0, 2.0
    tau = 1e7
    sigma = np.sqrt(q * tau / 2)  # 2 sigma^2 / tau = q
    singer = Singer(tau, sigma)
    ca = ConstantAcceleration(np.sqrt(q))
    x = states("ca")
    np.testing.assert_allclose(
        singer.process_noise(x, dt), ca.process_noise(x, dt), rtol=1e-5, atol=1e-12
    )
    np.testing.assert_allclose(singer.predict(x, dt)[1], ca.predict(x, dt)[1], atol=1e-6)


def test_singer_short_tau_tends_to_white_acceleration():
    dt, sigma, tau = 5.0, 10.0, 1e-4
    Q = Singer(tau, sigma).process_noise(np.zeros((1, 9)), dt)[0]
    q = 2 * sigma**2 * tau
    cwna = q * np.array([[dt**3 / 3, dt**2 / 2], [dt**2 / 2, dt]])
    np.testing.assert_allclose(Q[0:6:3, 0:6:3], cwna, rtol=1e-3)
    assert Q[6, 6] == pytest.approx(sigma**2)  # the acceleration is its stationary self


def test_coordinated_turn_keeps_speed_and_turns_left():
    x = states("ct")
    xp, _ = CoordinatedTurn3D().predict(x, 10.0)
    speed = np.linalg.norm(x[:, 3:6], axis=1)
    np.testing.assert_allclose(np.linalg.norm(xp[:, 3:6], axis=1), speed, rtol=1e-12)
    # zero turn rate (track 2) is constant velocity
    np.testing.assert_allclose(xp[2, 0:3], x[2, 0:3] + 10.0 * x[2, 3:6], rtol=1e-14)
    # positive omega: velocity turns counter-clockwise seen from above
    up = x[0, 0:3] / np.linalg.norm(x[0, 0:3])
    turn = np.cross(x[0, 3:6], xp[0, 3:6]) @ up
    assert turn > 0
    angle = np.arcsin(turn / np.sum(np.cross(x[0, 3:6], up) ** 2))
    assert angle == pytest.approx(0.1, rel=1e-12)


def test_default_rk4_substep_is_accurate_over_a_scan():
    """The default 1 s sub-step against 0.01 s over one 1 s scan: under 1 mm and 5e-5
    m/s, from a dense 20 km, 7 g glide to 120 km (the Glide docstring's figures)."""
    low = np.array([[0.5, 2.2, 20e3], [0.5, 2.2, 25e3], [0.5, 2.2, 30e3]])
    v_low = np.array([[1500.0, 1000.0, -50.0], [1800.0, -600.0, 0.0], [2500.0, 0.0, -100.0]])
    x_low = np.column_stack((lla_to_ecef(low), v_low, np.log([5e3, 1e4, 2e4]),
                             [2.5, 1.5, 3.0], [0.6, -1.0, 0.2]))
    x = np.concatenate((states("glide"), x_low))
    assert Glide().max_substep_s == Ballistic().max_substep_s == 1.0
    for model, fine in ((Glide(), Glide(max_substep_s=0.01)),
                        (Ballistic(), Ballistic(max_substep_s=0.01))):
        y = x[:, : model.dim]
        err = model.propagate(y, 1.0) - fine.propagate(y, 1.0)
        assert np.abs(err[:, :3]).max() < 1e-3, type(model).__name__
        assert np.abs(err[:, 3:6]).max() < 5e-5, type(model).__name__
    # the strongest case really is a hard one: about 7 g of aerodynamic acceleration
    a = (Glide(max_substep_s=0.01).propagate(x_low, 1.0)[:, 3:6] - v_low) / 1.0
    assert np.linalg.norm(a, axis=1).max() > 60.0


def test_glide_without_lift_is_ballistic_and_without_drag_is_free_flight():
    x = states("glide")
    ballistic = MODELS["ballistic"]
    glide = MODELS["glide"]
    no_lift = x.copy()
    no_lift[:, 7] = 0.0
    np.testing.assert_allclose(
        glide.propagate(no_lift, 20.0)[:, 0:7], ballistic.propagate(x[:, 0:7], 20.0), rtol=1e-15
    )
    # beta -> inf: no aerodynamic force, whatever L/D and bank
    vacuum = x.copy()
    vacuum[:, 6] = 200.0
    free = ballistic.propagate(vacuum[:, 0:7], 20.0)
    np.testing.assert_allclose(glide.propagate(vacuum, 20.0)[:, 0:7], free, rtol=1e-15)


def test_glide_lift_points_up_at_zero_bank_and_right_at_positive_bank():
    x = states("glide")[:1].copy()
    x[0, 0:3] = lla_to_ecef([0.3, 1.0, 30e3])
    up = x[0, 0:3] / np.linalg.norm(x[0, 0:3])
    north = np.array([-np.sin(0.3) * np.cos(1.0), -np.sin(0.3) * np.sin(1.0), np.cos(0.3)])
    x[0, 3:6] = 2500.0 * north
    x[0, 6], x[0, 7] = np.log(1e4), 3.0
    base = x.copy()
    base[0, 7] = 0.0
    for bank, direction in ((0.0, up), (np.pi / 2, np.cross(north, up))):
        x[0, 8] = bank
        glide = MODELS["glide"]
        dv = glide.propagate(x, 0.5)[0, 3:6] - glide.propagate(base, 0.5)[0, 3:6]
        assert dv @ direction / np.linalg.norm(dv) > 0.99


def test_embed_builds_priors():
    x6 = states("cv")
    P6 = np.tile(np.diag([1e4] * 3 + [100.0] * 3), (3, 1, 1))
    for name, model in MODELS.items():
        x, P = embed(x6, P6, name)
        assert x.shape == (3, model.dim) and P.shape == (3, model.dim, model.dim)
        np.testing.assert_array_equal(x[:, 0:6], x6)
        np.testing.assert_array_equal(P[:, 0:6, 0:6], P6)
        np.testing.assert_array_equal(
            np.diagonal(P, axis1=1, axis2=2)[:, 6:], np.tile(DEFAULT_PRIORS[name].variance, (3, 1))
        )
        x2, _ = embed(x6, P6, model)
        np.testing.assert_array_equal(x, x2)
    x, P = embed(x6, P6, "ballistic", ExtraPrior((9.0,), (0.5,)))
    assert x[0, 6] == 9.0 and P[0, 6, 6] == 0.5


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda: ConstantVelocity(-1.0), "sigma_a_m_s2"),
        (lambda: ConstantAcceleration(float("nan")), "sigma_j_m_s3"),
        (lambda: Singer(0.0, 1.0), "tau_s"),
        (lambda: Singer(5.0, -1.0), "sigma_a_m_s2"),
        (lambda: CoordinatedTurn3D(1.0, -1e-3), "sigma_omega_rad_s15"),
        (lambda: Ballistic(max_substep_s=0.0), "max_substep_s"),
        (lambda: Glide(sigma_bank_rad="x"), "sigma_bank_rad"),
        (lambda: embed(np.zeros((2, 6)), np.zeros((2, 6, 6)), "kalman"), "model"),
        (lambda: embed(np.zeros((2, 5)), np.zeros((2, 6, 6)), "cv"), "x6"),
        (
            lambda: embed(np.zeros((2, 6)), np.zeros((2, 6, 6)), "ct", ExtraPrior((0,), (-1,))),
            "prior.variance",
        ),
    ],
)
def test_bad_parameters_name_the_field(make, field):
    with pytest.raises(InputError, match=field):
        make()


# ------------------------------------------------------------- measurement models

SENSOR_LLA = np.array([[0.38, -2.79, 10.0], [-0.55, 2.05, 500e3], [1.1, 0.2, 0.0]])


def sensor_states():
    r = lla_to_ecef(SENSOR_LLA)
    v = np.array([[0.0, 0.0, 0.0], [7000.0, -1000.0, 500.0], [10.0, -20.0, 0.0]])
    return r, v


@pytest.mark.parametrize("meas_type", list(MEASUREMENT_MODELS))
def test_measurement_jacobian_matches_finite_differences(meas_type):
    model = MEASUREMENT_MODELS[meas_type]
    x = states("glide")
    r_s, v_s = sensor_states()
    z, H = model.predict(x, r_s, v_s)
    assert z.shape == (3, model.dim) and H.shape == (3, model.dim, 9)
    steps = np.array([1.0] * 3 + [1e-3] * 3 + [1e-3] * 3)
    ref = fd_jacobian(lambda y: model.predict(y, r_s, v_s)[0], x, steps)
    err = np.abs(H - ref) / np.maximum(np.abs(ref).max(axis=2, keepdims=True), 1e-300)
    assert err.max() < 1e-6, f"{meas_type}: worst relative error {err.max():.2e}"


@pytest.mark.parametrize("meas_type", list(MEASUREMENT_MODELS))
def test_measurement_batch_agrees_with_single(meas_type):
    model = MEASUREMENT_MODELS[meas_type]
    x = states("cv")
    r_s, v_s = sensor_states()
    zb, Hb = model.predict(x, r_s, v_s)
    for i in range(3):
        zs, Hs = model.predict(x[i : i + 1], r_s[i], v_s[i])
        np.testing.assert_allclose(zs[0], zb[i], rtol=1e-15)
        np.testing.assert_allclose(Hs[0], Hb[i], rtol=1e-15)


def test_rae_round_trip_with_frames():
    x = states("cv")
    r_s, v_s = sensor_states()
    z, _ = Rae().predict(x, r_s, v_s)
    for i in range(3):
        np.testing.assert_allclose(z[i], ecef_to_aer(x[i, 0:3], SENSOR_LLA[i]), rtol=1e-12)
    back = measurement_to_ecef("rae", z, r_s)
    np.testing.assert_allclose(back, x[:, 0:3], atol=1e-6)
    zr, _ = Raer().predict(x, r_s, v_s)
    np.testing.assert_allclose(measurement_to_ecef("raer", zr, r_s), x[:, 0:3], atol=1e-6)
    np.testing.assert_allclose(measurement_to_ecef("xyz", x[:, 0:3], r_s), x[:, 0:3])
    assert np.isnan(measurement_to_ecef("los", z[:, 1:3], r_s)).all()


def test_range_rate_counts_the_sensor_velocity():
    x = states("cv")
    r_s, v_s = sensor_states()
    z, _ = Raer().predict(x, r_s, v_s)
    d = x[:, 0:3] - r_s
    expect = np.einsum("ij,ij->i", d, x[:, 3:6] - v_s) / np.linalg.norm(d, axis=1)
    np.testing.assert_allclose(z[:, 3], expect, rtol=1e-12)
    # a receding target, sensor at rest: positive range rate
    x2 = np.concatenate((r_s[0] + [0, 0, 1e5], [0, 0, 100.0]))[None]
    assert Raer().predict(x2, r_s[0], np.zeros(3))[0][0, 3] == pytest.approx(100.0, rel=1e-3)


def test_los_angles_from_a_satellite():
    # a satellite 1,000 km over a point; a target at 30 km just north of it: look down
    sat = lla_to_ecef([0.5, 1.0, 1000e3])
    target = lla_to_ecef([0.52, 1.0, 30e3])
    z, _ = Los().predict(np.concatenate((target, np.zeros(3)))[None], sat, np.zeros(3))
    aer = ecef_to_aer(target, [0.5, 1.0, 1000e3])
    np.testing.assert_allclose(z[0], aer[1:3], rtol=1e-12)
    assert z[0, 1] < -np.radians(45)  # steeply below the satellite's horizon
    assert abs(wrap_angle(z[0, 0])) < 1e-9  # due north


def test_residual_wraps_azimuth():
    z = np.array([[1000.0, 0.01, 0.2, 5.0]])
    z_pred = np.array([[990.0, 2 * np.pi - 0.01, 0.1, 3.0]])
    nu = Raer().residual(z, z_pred)
    np.testing.assert_allclose(nu, [[10.0, 0.02, 0.1, 2.0]], atol=1e-12)
    nu = Rae().residual(z[:, 0:3], z_pred[:, 0:3])
    np.testing.assert_allclose(nu[0, 1], 0.02, atol=1e-12)
    nu = Los().residual(z_pred[:, 1:3], z[:, 1:3])
    np.testing.assert_allclose(nu[0], [-0.02, -0.1], atol=1e-12)
    assert wrap_angle(np.array(np.pi)) == np.pi and wrap_angle(np.array(-np.pi)) == np.pi


def test_converted_covariance_matches_linear_propagation():
    r_s, _ = sensor_states()
    x = states("cv")
    z, _ = Rae().predict(x, r_s, np.zeros(3))
    R = np.tile(np.diag([30.0**2, 1e-3**2, 2e-3**2]), (3, 1, 1))
    P = measurement_covariance_to_ecef(z, R, r_s)
    # the same by finite differences of the conversion
    J = fd_jacobian(lambda zz: measurement_to_ecef("rae", zz, r_s), z, [1e-2, 1e-8, 1e-8])
    np.testing.assert_allclose(P, J @ R @ np.swapaxes(J, 1, 2), rtol=1e-5)
    np.testing.assert_allclose(P, np.swapaxes(P, 1, 2), rtol=1e-12)
    R4 = np.tile(np.diag([30.0**2, 1e-3**2, 2e-3**2, 4.0]), (3, 1, 1))
    zr = np.column_stack((z, np.zeros(3)))
    np.testing.assert_allclose(measurement_covariance_to_ecef(zr, R4, r_s, "raer"), P)


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda: measurement_to_ecef("radar", np.zeros((1, 3)), np.zeros(3)), "meas_type"),
        (lambda: measurement_to_ecef("rae", np.zeros((1, 2)), np.zeros(3)), "z"),
        (lambda: measurement_to_ecef("rae", np.ones((2, 3)), np.ones((3, 3))), "sensor_r"),
        (
            lambda: measurement_covariance_to_ecef(np.ones((1, 3)), np.ones((1, 2, 2)), np.ones(3)),
            "R",
        ),
        (
            lambda: measurement_covariance_to_ecef(
                np.ones((1, 2)), np.ones((1, 2, 2)), np.ones(3), "los"
            ),
            "meas_type",
        ),
    ],
)
def test_bad_measurement_input_names_the_field(call, field):
    with pytest.raises(InputError, match=field):
        call()
