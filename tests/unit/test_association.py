"""Unit tests of hyperdef.tracking.association: pre-gate, chi-square gate, GNN, JPDA."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.stats import chi2

from hyperdef.core.frames import lla_to_ecef
from hyperdef.errors import InputError
from hyperdef.tracking.association import (
    chi2_gate,
    gnn,
    jpda,
    jpda_update_ekf,
    los_pregate_pairs,
    pregate_pairs,
    pregate_radius,
)
from hyperdef.tracking.filters import update_ekf
from hyperdef.tracking.measurements import (
    MEASUREMENT_MODELS,
    measurement_covariance_to_ecef,
    measurement_to_ecef,
)

SITE = lla_to_ecef(np.array([0.6, 2.3, 0.0]))


def _tracks(rng, n, center, spread, sigma):
    x = np.zeros((n, 6))
    x[:, :3] = center + rng.uniform(-spread, spread, (n, 3))
    x[:, 3:] = rng.normal(0, 2000.0, (n, 3))
    A = rng.normal(size=(n, 6, 6))
    P = A @ np.swapaxes(A, 1, 2) + np.eye(6)
    P[:, :3, :3] *= sigma**2
    P[:, 3:, 3:] *= 100.0**2
    P[:, :3, 3:] *= sigma * 100.0
    P[:, 3:, :3] *= sigma * 100.0
    return x, P


def _pairs_set(ti, di):
    return set(zip(ti.tolist(), di.tolist(), strict=True))


@pytest.mark.parametrize("meas_type", ["xyz", "rae", "raer"])
@pytest.mark.parametrize("seed", range(4))
def test_pregate_is_superset_of_chi2_gate(meas_type, seed):
    rng = np.random.default_rng(seed)
    mm = MEASUREMENT_MODELS[meas_type]
    m = mm.dim
    center = lla_to_ecef(np.array([0.6, 2.35, 30e3]))
    x, P = _tracks(rng, 40, center, 40e3, 2000.0)
    # detections: noisy measurements of some tracks plus clutter
    n_det = 60
    src = rng.integers(0, 40, n_det)
    truth_pos = x[src, :3] + rng.normal(0, 3000.0, (n_det, 3))
    sr = np.broadcast_to(SITE, (n_det, 3)).copy()
    sv = np.zeros((n_det, 3))
    xt = np.zeros((n_det, 6))
    xt[:, :3] = truth_pos
    z, _ = mm.predict(xt, sr, sv)
    sig = {"xyz": [300.0] * 3, "rae": [200.0, 2e-3, 2e-3], "raer": [200.0, 2e-3, 2e-3, 20.0]}
    R = np.broadcast_to(np.diag(np.square(sig[meas_type])), (n_det, m, m)).copy()
    z = z + rng.normal(size=z.shape) * np.sqrt(np.diagonal(R, axis1=1, axis2=2))
    g = chi2.ppf(0.999, m)
    ti_all, di_all = (
        a.ravel() for a in np.meshgrid(np.arange(40), np.arange(n_det), indexing="ij")
    )
    brute = chi2_gate(x, P, ti_all, di_all, z, R, mm, sr, sv, g)
    assert brute.track.size > 10  # the case is not trivial
    pos = measurement_to_ecef(meas_type, z, sr)
    cov = measurement_covariance_to_ecef(z, R, sr, meas_type)
    radius = pregate_radius(P[:, :3, :3], cov, g, margin_m=100.0)
    ti, di = pregate_pairs(x[:, :3], radius, pos)
    assert _pairs_set(brute.track, brute.detection) <= _pairs_set(ti, di)
    assert ti.size < 40 * n_det  # it does prune
    gated = chi2_gate(x, P, ti, di, z, R, mm, sr, sv, g)
    assert _pairs_set(gated.track, gated.detection) == _pairs_set(brute.track, brute.detection)


def test_los_pregate_is_superset():
    rng = np.random.default_rng(7)
    mm = MEASUREMENT_MODELS["los"]
    center = lla_to_ecef(np.array([0.6, 2.35, 30e3]))
    x, P = _tracks(rng, 30, center, 50e3, 1000.0)
    n_det = 40
    sr = np.broadcast_to(SITE, (n_det, 3)).copy()
    sv = np.zeros((n_det, 3))
    xt = np.zeros((n_det, 6))
    xt[:, :3] = x[rng.integers(0, 30, n_det), :3] + rng.normal(0, 1500.0, (n_det, 3))
    z, _ = mm.predict(xt, sr, sv)
    R = np.broadcast_to(np.eye(2) * 1e-6, (n_det, 2, 2)).copy()
    g = chi2.ppf(0.999, 2)
    ti_all, di_all = (
        a.ravel() for a in np.meshgrid(np.arange(30), np.arange(n_det), indexing="ij")
    )
    brute = chi2_gate(x, P, ti_all, di_all, z, R, mm, sr, sv, g)
    assert brute.track.size > 5
    radius = pregate_radius(P[:, :3, :3], np.zeros((0, 3, 3)), g, 100.0)
    ti, di = los_pregate_pairs(x[:, :3], radius, z, R, sr, g)
    assert _pairs_set(brute.track, brute.detection) <= _pairs_set(ti, di)
    assert ti.size < 30 * n_det


def test_chi2_gate_matches_update_nis():
    rng = np.random.default_rng(3)
    mm = MEASUREMENT_MODELS["rae"]
    center = lla_to_ecef(np.array([0.6, 2.35, 30e3]))
    x, P = _tracks(rng, 5, center, 20e3, 500.0)
    sr = np.broadcast_to(SITE, (5, 3)).copy()
    sv = np.zeros((5, 3))
    z, _ = mm.predict(x, sr, sv)
    R = np.broadcast_to(np.diag([100.0**2, 1e-6, 1e-6]), (5, 3, 3)).copy()
    z = z + rng.normal(size=z.shape) * np.sqrt(np.diagonal(R, axis1=1, axis2=2))
    idx = np.arange(5)
    res = chi2_gate(x, P, idx, idx, z, R, mm, sr, sv, np.inf)
    ref = update_ekf(x, P, z, R, mm, sr, sv)
    np.testing.assert_allclose(res.distance2, ref.nis, rtol=1e-9)
    np.testing.assert_allclose(res.log_likelihood, ref.log_likelihood, rtol=1e-9)


def _brute_gnn(ti, di, cost, n_t, miss):
    options = {t: [None] for t in range(n_t)}
    c = {}
    for t, d, k in zip(ti, di, cost, strict=True):
        options[t].append(d)
        c[(t, d)] = k
    best = math.inf
    for choice in itertools.product(*(options[t] for t in range(n_t))):
        used = [d for d in choice if d is not None]
        if len(used) != len(set(used)):
            continue
        total = sum(miss[t] if d is None else c[(t, d)] for t, d in enumerate(choice))
        best = min(best, total)
    return best


@pytest.mark.parametrize("seed", range(30))
def test_gnn_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    n_t, n_d = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    allowed = rng.random((n_t, n_d)) < 0.6
    ti, di = np.nonzero(allowed)
    cost = rng.uniform(0.0, 10.0, ti.size)
    miss = rng.uniform(2.0, 9.0, n_t)
    out = gnn(ti, di, cost, n_t, n_d, miss)
    assigned = out >= 0
    used = out[assigned]
    assert used.size == np.unique(used).size
    lookup = {(t, d): k for t, d, k in zip(ti, di, cost, strict=True)}
    total = sum(lookup[(t, int(out[t]))] for t in np.flatnonzero(assigned)) + miss[~assigned].sum()
    assert total == pytest.approx(_brute_gnn(ti, di, cost, n_t, miss), abs=1e-9)


def test_gnn_isolated_pairs_and_empty():
    ti = np.array([0, 1, 2])
    di = np.array([2, 0, 1])
    out = gnn(ti, di, np.array([1.0, 5.0, 2.0]), 4, 3, 3.0)
    np.testing.assert_array_equal(out, [2, -1, 1, -1])  # track 1's pair costs more than a miss
    np.testing.assert_array_equal(gnn(ti[:0], di[:0], np.zeros(0), 2, 0, 1.0), [-1, -1])


def test_jpda_two_tracks_two_detections_by_hand():
    pd, lam = 0.9, 1e-3
    ll = np.log(np.array([2e-3, 5e-4, 1e-3, 3e-3]))  # pairs (0,0), (0,1), (1,0), (1,1)
    ti = np.array([0, 0, 1, 1])
    di = np.array([0, 1, 0, 1])
    res = jpda(ti, di, ll, 2, 2, pd, lam)
    a = pd * np.exp(ll) / lam
    b = 1.0 - pd
    a00, a01, a10, a11 = a
    events = {
        "mm": b * b,
        "0m": a00 * b,
        "1m": a01 * b,
        "m0": b * a10,
        "m1": b * a11,
        "01": a00 * a11,
        "10": a01 * a10,
    }
    c = sum(events.values())
    expected = np.array(
        [
            (events["0m"] + events["01"]) / c,
            (events["1m"] + events["10"]) / c,
            (events["m0"] + events["10"]) / c,
            (events["m1"] + events["01"]) / c,
        ]
    )
    np.testing.assert_allclose(res.beta, expected, rtol=1e-12)
    np.testing.assert_allclose(
        res.beta_miss,
        [
            (events["mm"] + events["m0"] + events["m1"]) / c,
            (events["mm"] + events["0m"] + events["1m"]) / c,
        ],
        rtol=1e-12,
    )
    sums = res.beta_miss + np.bincount(ti, res.beta, minlength=2)
    np.testing.assert_allclose(sums, 1.0, rtol=1e-12)
    assert res.n_exact_clusters == 1 and res.n_fallback_clusters == 0


def test_jpda_single_track_is_pda_and_rows_sum_to_one():
    rng = np.random.default_rng(1)
    ti = np.array([0, 0, 0, 2, 3, 3])
    di = np.array([0, 1, 2, 3, 4, 5])
    ll = rng.normal(-10, 2, ti.size)
    res = jpda(ti, di, ll, 5, 6, 0.95, 1e-5, gate_probability=0.99)
    a = 0.95 * np.exp(ll) / 1e-5
    b = 1.0 - 0.95 * 0.99
    np.testing.assert_allclose(res.beta[:3], a[:3] / (b + a[:3].sum()), rtol=1e-10)
    sums = res.beta_miss + np.bincount(ti, res.beta, minlength=5)
    np.testing.assert_allclose(sums, 1.0, rtol=1e-12)
    assert res.beta_miss[1] == 1.0 and res.beta_miss[4] == 1.0


def test_jpda_cap_falls_back_to_gnn():
    rng = np.random.default_rng(5)
    ti, di = (a.ravel() for a in np.meshgrid(np.arange(4), np.arange(4), indexing="ij"))
    ll = rng.normal(-8, 3, ti.size)
    exact = jpda(ti, di, ll, 4, 4, 0.9, 1e-4)
    capped = jpda(ti, di, ll, 4, 4, 0.9, 1e-4, max_tracks=3)
    assert exact.n_exact_clusters == 1 and capped.n_fallback_clusters == 1
    assert set(np.unique(capped.beta)) <= {0.0, 1.0}
    sums = capped.beta_miss + np.bincount(ti, capped.beta, minlength=4)
    np.testing.assert_allclose(sums, 1.0)
    log_a = math.log(0.9) - math.log(1e-4) + ll
    ref = gnn(ti, di, -log_a, 4, 4, -math.log(0.1))
    chosen = capped.beta > 0.5
    got = np.full(4, -1)
    got[ti[chosen]] = di[chosen]
    np.testing.assert_array_equal(got, ref)
    # the hypothesis cap alone also triggers it
    assert jpda(ti, di, ll, 4, 4, 0.9, 1e-4, max_hypotheses=100).n_fallback_clusters == 1


def test_jpda_rejects_bad_parameters():
    with pytest.raises(InputError, match="detection_probability"):
        jpda(np.zeros(0, int), np.zeros(0, int), np.zeros(0), 0, 0, 1.5, 1e-3)
    with pytest.raises(InputError, match="clutter_density"):
        jpda(np.zeros(0, int), np.zeros(0, int), np.zeros(0), 0, 0, 0.9, 0.0)


def test_jpda_update_with_certain_association_is_kalman_update():
    rng = np.random.default_rng(2)
    mm = MEASUREMENT_MODELS["xyz"]
    x, P = _tracks(rng, 3, SITE, 1e4, 300.0)
    z = x[:, :3] + rng.normal(0, 50.0, (3, 3))
    R = np.broadcast_to(np.eye(3) * 2500.0, (3, 3, 3)).copy()
    _, H = mm.predict(x, SITE, np.zeros(3))
    nu = z - x[:, :3]
    x1, P1 = jpda_update_ekf(x, P, H, R, np.arange(3), nu, np.ones(3), np.zeros(3))
    ref = update_ekf(x, P, z, R, mm, SITE, np.zeros(3))
    np.testing.assert_allclose(x1, ref.x, rtol=1e-12)
    np.testing.assert_allclose(P1, ref.P, rtol=1e-9, atol=1e-9)
    # beta_0 = 1: unchanged
    x2, P2 = jpda_update_ekf(x, P, H, R, np.arange(3), nu, np.zeros(3), np.ones(3))
    np.testing.assert_allclose(x2, x)
    np.testing.assert_allclose(P2, P)
    # two detections split 50/50: the mean innovation and a spread term that adds to P
    x3, P3 = jpda_update_ekf(
        x[:1],
        P[:1],
        H[:1],
        R[:1],
        np.array([0, 0]),
        np.array([nu[0], -nu[0]]),
        np.array([0.5, 0.5]),
        np.zeros(1),
    )
    np.testing.assert_allclose(x3, x[:1], atol=1e-6)
    assert np.all(np.linalg.eigvalsh(P3[0] - ref.P[0]) > -1e-6)
