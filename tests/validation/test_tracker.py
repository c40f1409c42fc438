"""Validation of the tracker against a peer implementation and published consistency tests.

1. With one target, detection probability 1 and no clutter, GNN tracking reduces to a
   linear Kalman filter. The tracker's estimates must equal those of filterpy's
   ``KalmanFilter`` (R. Labbe, filterpy 1.4, Joseph-form update) run with the same
   model, noise and one-point initialisation, to round-off.
2. Filter consistency ([BLK] section 5.4.2): targets that move exactly as the CV model
   assumes (discrete CWNA noise of the same intensity), measured in ECEF with known
   noise, give normalised estimation errors squared (NEES) that are chi-square with 6
   degrees of freedom. The N-target average NEES of each scan must fall inside the
   two-sided 99 % acceptance interval ``chi2.ppf([0.005, 0.995], 6 N) / N`` in at least
   90 % of the scans, and the mean over all scans must lie within 10 % of 6.

References
----------
.. [BLK] Y. Bar-Shalom, X. R. Li, T. Kirubarajan, *Estimation with Applications to Tracking
   and Navigation*, Wiley, 2001, section 5.4.2 (NEES, the N-run average, acceptance
   intervals), section 6.2.2 (CWNA model).
.. [Labbe] R. Labbe, filterpy, https://github.com/rlabbe/filterpy (KalmanFilter).
"""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
from scipy.stats import chi2

from hyperdef.core.frames import lla_to_ecef
from hyperdef.sensors.detections import make_detections
from hyperdef.tracking.models import ConstantVelocity
from hyperdef.tracking.tracker import TrackerConfig, run_tracker

CENTER = lla_to_ecef(np.array([0.6, 2.3, 30e3]))
SIGMA_M = 50.0
SIGMA_A = 10.0  # the default ConstantVelocity noise
DT = 1.0


def _cwna(dt: float, q: float) -> np.ndarray:
    block = q * np.array([[dt**3 / 3, dt**2 / 2], [dt**2 / 2, dt]])
    return np.kron(block, np.eye(3))


def _simulate(n_targets: int, n_scans: int, seed: int):
    """Truth (K, N, 6) with exact discrete CWNA noise, and the xyz detections table."""
    rng = np.random.default_rng(seed)
    F = np.kron(np.array([[1.0, DT], [0.0, 1.0]]), np.eye(3))
    Lq = np.linalg.cholesky(_cwna(DT, SIGMA_A**2))
    x = np.zeros((n_targets, 6))
    g = int(np.ceil(n_targets ** (1 / 3)))
    grid = np.array(np.unravel_index(np.arange(n_targets), (g, g, g))).T
    x[:, :3] = CENTER + (grid - (g - 1) / 2) * 100e3  # well separated: no association doubt
    d = rng.normal(size=(n_targets, 3))
    x[:, 3:] = 2000.0 * d / np.linalg.norm(d, axis=1)[:, None]
    truth = []
    for _ in range(n_scans):
        truth.append(x.copy())
        x = x @ F.T + rng.normal(size=x.shape) @ Lq.T
    truth = np.array(truth)
    t = np.repeat(np.arange(n_scans) * DT, n_targets)
    z = truth[:, :, :3].reshape(-1, 3) + rng.normal(0.0, SIGMA_M, (n_scans * n_targets, 3))
    det = make_detections(
        t=t,
        t_report=t,
        sensor_id="R1",
        node="USA",
        meas_type="xyz",
        z=z,
        R=np.eye(3) * SIGMA_M**2,
        sensor_r_ecef_m=CENTER,
        sensor_v_ecef_m_s=np.zeros(3),
        snr=20.0,
        truth_id=np.tile(np.arange(n_targets), n_scans),
        false_alarm=False,
        marking="REL TO USA",
    )
    return truth, det, z.reshape(n_scans, n_targets, 3)


def test_single_target_equals_filterpy_kalman_filter():
    from filterpy.kalman import KalmanFilter

    truth, det, z = _simulate(1, 30, seed=11)
    res = run_tracker(det, TrackerConfig(velocity_sigma_m_s=3000.0))
    tab = res.table
    assert tab["track_id"].to_pylist() == [0] * 30
    est = np.column_stack([tab[k].to_numpy() for k in ("x", "y", "z", "vx", "vy", "vz")])
    P_est = np.array(tab["P"].to_pylist()).reshape(-1, 6, 6)

    kf = KalmanFilter(dim_x=6, dim_z=3)
    kf.F = np.kron(np.array([[1.0, DT], [0.0, 1.0]]), np.eye(3))
    kf.Q = ConstantVelocity().process_noise(np.zeros((1, 6)), DT)[0]
    kf.H = np.hstack([np.eye(3), np.zeros((3, 3))])
    kf.R = np.eye(3) * SIGMA_M**2
    kf.x = np.concatenate([z[0, 0], np.zeros(3)])
    kf.P = np.diag([SIGMA_M**2] * 3 + [3000.0**2] * 3)
    ref_x, ref_P = [kf.x.copy()], [kf.P.copy()]
    for k in range(1, 30):
        kf.predict()
        kf.update(z[k, 0])
        ref_x.append(kf.x.copy())
        ref_P.append(kf.P.copy())
    ref_x, ref_P = np.array(ref_x), np.array(ref_P)
    np.testing.assert_allclose(
        est[:, :3],
        ref_x[:, :3],
        rtol=0,
        atol=1e-4,
        err_msg="tracker position differs from filterpy's Kalman filter",
    )
    np.testing.assert_allclose(
        est[:, 3:],
        ref_x[:, 3:],
        rtol=0,
        atol=1e-6,
        err_msg="tracker velocity differs from filterpy's Kalman filter",
    )
    np.testing.assert_allclose(
        P_est,
        ref_P,
        rtol=1e-7,
        atol=1e-6,
        err_msg="tracker covariance differs from filterpy's Kalman filter",
    )


def test_nees_is_chi_square_consistent():
    n_targets, n_scans, burn_in = 60, 40, 5
    truth, det, _ = _simulate(n_targets, n_scans, seed=5)
    res = run_tracker(det, TrackerConfig(confirm_m=2, confirm_n=3))
    # confirmed rows only: a report outside its track's 99.9 % gate (expected about 2 in
    # 2,400 here) starts a new tentative track, which may be confirmed and take the
    # target over; its tentative rows are not yet estimates of the target's state
    tab = res.table.filter(
        pc.and_(
            pc.greater_equal(res.table["t"], burn_in * DT),
            pc.equal(res.table["status"], "confirmed"),
        )
    )
    assert res.counts["tracks_confirmed"] >= n_targets
    k = np.rint(tab["t"].to_numpy() / DT).astype(int)
    tid = tab["truth_id"].to_numpy()
    est = np.column_stack([tab[c].to_numpy() for c in ("x", "y", "z", "vx", "vy", "vz")])
    P = np.array(tab["P"].to_pylist()).reshape(-1, 6, 6)
    err = est - truth[k, tid]
    nees = np.einsum("ni,ni->n", err, np.linalg.solve(P, err[..., None])[..., 0])
    per_scan = np.bincount(k - burn_in, nees) / np.bincount(k - burn_in)
    lo, hi = chi2.ppf([0.005, 0.995], 6 * n_targets) / n_targets
    inside = np.mean((per_scan >= lo) & (per_scan <= hi))
    assert inside >= 0.9, (
        f"N-target average NEES inside [{lo:.2f}, {hi:.2f}] in only {inside:.0%} of scans "
        f"(values {np.round(per_scan, 2)})"
    )
    assert abs(nees.mean() - 6.0) < 0.6, f"mean NEES {nees.mean():.2f}, expected 6 +- 0.6"
