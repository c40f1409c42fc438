"""Unit tests of the physics models' kernel (tracking.physics): the analytic partial
derivatives of the acceleration and the RK4 transition Jacobian built from them."""

import numpy as np
import pytest
from difference_fixtures import fd_jacobian as central

from hyperdef.core.dynamics import approx_altitude_m
from hyperdef.core.earth import gravity_j2_ecef
from hyperdef.core.frames import lla_to_ecef
from hyperdef.tracking.physics import (
    Aero,
    _acceleration_jacobian,
    acceleration,
    air_at,
    physics_acceleration,
    rk4_propagate,
)


def glide_states(n, seed, alt_range_m=(15e3, 130e3)):
    """Random glide states: 15-130 km, 1-7 km/s, flight-path angles within +-40 deg,
    ln beta 8-11, L/D 0-4, bank within +-1.5 rad; heights at least 1 m from the density
    table's 50 m cell edges, so central differences stay inside one exponential cell."""
    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(-1.4, 1.4, n), rng.uniform(-np.pi, np.pi, n)
    r = lla_to_ecef(np.column_stack((lat, lon, rng.uniform(*alt_range_m, n))))
    up = r / np.linalg.norm(r, axis=1, keepdims=True)
    east = np.cross([0.0, 0.0, 1.0], up)
    east /= np.linalg.norm(east, axis=1, keepdims=True)
    north = np.cross(up, east)
    heading, gamma = rng.uniform(0, 2 * np.pi, n), rng.uniform(-0.7, 0.7, n)
    horizontal = np.cos(heading)[:, None] * north + np.sin(heading)[:, None] * east
    v = rng.uniform(1e3, 7e3, n)[:, None] * (
        np.cos(gamma)[:, None] * horizontal + np.sin(gamma)[:, None] * up
    )
    params = np.column_stack(
        (rng.uniform(8.0, 11.0, n), rng.uniform(0.0, 4.0, n), rng.uniform(-1.5, 1.5, n))
    )
    x = np.column_stack((r, v, params))
    edge = np.abs(np.remainder(approx_altitude_m(r) + 5e3, 50.0) - 25.0)
    return x[edge < 24.0]


@pytest.mark.parametrize("lifting", [True, False])
def test_acceleration_jacobian_matches_central_differences(lifting):
    x = glide_states(400, seed=5 if lifting else 6)
    s = np.ascontiguousarray(x.T)
    jac, sens = _acceleration_jacobian(s[0:3], s[3:6], Aero.of(s, lifting), air_at(s[0:3]))
    analytic = np.concatenate((jac, sens), axis=1).transpose(2, 0, 1)  # (N, 3, 6 + k)
    k = 3 if lifting else 1
    steps = np.array([0.3] * 3 + [1e-3] * 3 + [1e-6] * k)
    ref = central(lambda y: physics_acceleration(y, lifting), x[:, : 6 + k], steps)
    # entries per km, per m/s and per 0.1 of a parameter, relative to the row's largest
    scale = np.array([1e3] * 3 + [1.0] * 3 + [0.1] * k)
    err = np.abs(analytic - ref) * scale / (np.abs(ref) * scale).max(axis=2, keepdims=True)
    assert err.max() < 1e-6, f"worst relative error {err.max():.2e}"
    # the aerodynamic terms are a visible part of what is compared: drag's derivative by
    # the velocity exceeds 1e-4 /s in some of these states (0 without air)
    assert (np.abs(ref[:, :, 3:6]) > 1e-4).any()


def test_jacobian_above_the_atmosphere_is_the_j2_gravity_gradient_and_the_frame():
    x = glide_states(50, seed=7, alt_range_m=(1.2e6, 1.5e6))
    s = np.ascontiguousarray(x.T)
    jac, sens = _acceleration_jacobian(s[0:3], s[3:6], Aero.of(s, True), air_at(s[0:3]))
    assert np.abs(sens).max() < 1e-30  # the table's air at 1,200 km: 1e-40 of sea level
    grad = central(lambda r: gravity_j2_ecef(r), x[:, 0:3], [1.0] * 3)
    w = 7.2921150e-5
    grad[:, 0, 0] += w * w
    grad[:, 1, 1] += w * w
    np.testing.assert_allclose(jac[:, 0:3].transpose(2, 0, 1), grad, rtol=0, atol=1e-12)
    coriolis = np.array([[0.0, 2 * w, 0.0], [-2 * w, 0.0, 0.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(jac[:, 3:6].transpose(2, 0, 1), np.broadcast_to(
        coriolis, (len(x), 3, 3)), rtol=0, atol=1e-15)


@pytest.mark.parametrize("lifting", [True, False])
def test_rk4_jacobian_is_the_derivative_of_the_rk4_map(lifting):
    x = glide_states(60, seed=8)
    if not lifting:
        x = x[:, :7]
    dt = np.random.default_rng(9).uniform(0.2, 12.0, len(x))
    dt[:5] = 0.0
    out, F = rk4_propagate(x, dt, 1.0, lifting, jacobian=True)
    plain, none = rk4_propagate(x, dt, 1.0, lifting)
    assert none is None
    np.testing.assert_array_equal(out, plain)  # the Jacobian leaves the states alone
    np.testing.assert_array_equal(F[:5], np.broadcast_to(np.eye(x.shape[1]), F[:5].shape))
    steps = np.array([0.12] * 3 + [4e-3] * 3 + [4e-6] * (x.shape[1] - 6))
    ref = central(lambda y: rk4_propagate(y, dt, 1.0, lifting)[0], x, steps)
    scale = np.array([1e3] * 3 + [1.0] * 3 + [0.1] * (x.shape[1] - 6))
    norm = scale[None, None, :] / scale[None, :, None]
    err = np.abs(F - ref) * norm / (np.abs(ref) * norm).max(axis=2, keepdims=True)
    # over several seconds a perturbed reference state crosses density cell edges, where
    # the central difference straddles a change of the log-density slope (errs by a few
    # 1e-6 there); elsewhere the analytic Jacobian matches to 1e-7
    worst = err.max(axis=(1, 2))
    assert worst.max() < 1e-5, f"worst relative error {worst.max():.2e}"
    assert np.quantile(worst, 0.9) < 2e-7, f"90th percentile {np.quantile(worst, 0.9):.2e}"


def test_acceleration_of_states_is_the_kernel_by_component():
    x = glide_states(20, seed=10)
    s = np.ascontiguousarray(x.T)
    np.testing.assert_array_equal(
        physics_acceleration(x, True), acceleration(s[0:3], s[3:6], Aero.of(s, True)).T
    )
