"""Multi-target tracking throughput: hyperdef against Stone Soup's best GNN configuration.

Scenario (one per N, the same detections for both trackers): N targets flying straight
at 2 km/s in random directions, spread over a 400 km x 400 km x 40 km box of ECEF
around 26N 127E; one sensor reports ECEF positions (``xyz``) once a second with 50 m
noise per axis, Pd 0.95, and Poisson clutter (mean 20 per scan) uniform over the box,
for ``--scans`` scans, from a seeded ``numpy.random.Generator``.

* **Stone Soup** (``stonesoup``, the open anchor): constant-velocity Kalman predictor and
  updater, Mahalanobis distance hypothesiser, ``DetectionKDTreeGNN2D`` (its k-d tree
  associator with 2-D assignment), ``MultiMeasurementInitiator`` with 3 points, a
  covariance deleter, ``MultiTargetTracker``: the fastest GNN set-up its documentation
  offers.
* **hyperdef**: :func:`hyperdef.tracking.tracker.run_tracker` with a CV EKF, GNN, 3-of-5
  confirmation and one-point initiation, on the same detections written as a Detections
  table.

Both use the same process noise (white acceleration 5 m/s^2 density) and measurement
noise. Printed per N: wall time of the tracking only (detections prepared beforehand),
time per scan and per track-scan, the throughput ratio, and the mean OSPA (c = 10 km,
p = 2) of confirmed tracks over the second half of the run for both.

Usage::

    python benchmarks/bench_tracking.py [--sizes 10,200,1000] [--scans 60]
                                        [--stonesoup-max 1000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time

import numpy as np
import pyarrow as pa

from hyperdef.core.frames import lla_to_ecef
from hyperdef.sensors.detections import make_detections
from hyperdef.tracking.metrics import ospa
from hyperdef.tracking.tracker import TrackerConfig, run_tracker

SPEED_M_S = 2_000.0
SIGMA_M = 50.0
PD = 0.95
CLUTTER_PER_SCAN = 20.0
Q_DENSITY = 5.0**2  # m^2/s^3
BOX_M = np.array([400e3, 400e3, 40e3])
CUTOFF_M = 10_000.0
#: Euclidean search radius of Stone Soup's k-d tree in measurement space, m: it must
#: cover a new track's first prediction (velocity prior 3 km/s over a 1 s scan)
KDTREE_RADIUS_M = 15_000.0


def scenario(n: int, scans: int, seed: int = 7):
    """Truth positions (scans, n, 3) and detections per scan as (t, z (k,3), truth (k,))."""
    rng = np.random.default_rng(seed)
    centre = lla_to_ecef(np.radians([26.0, 127.0, 30e3]) * np.array([1, 1, 0])
                         + np.array([0, 0, 30e3]))
    start = centre + (rng.random((n, 3)) - 0.5) * BOX_M
    direction = rng.normal(size=(n, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    velocity = SPEED_M_S * direction
    times = np.arange(scans, dtype=float)
    truth = start[None] + times[:, None, None] * velocity[None]
    frames = []
    for k, t in enumerate(times):  # building the input, not timed
        seen = rng.random(n) < PD
        z_true = truth[k, seen] + SIGMA_M * rng.normal(size=(int(seen.sum()), 3))
        n_clutter = rng.poisson(CLUTTER_PER_SCAN)
        low = truth[k].min(axis=0) - 20e3
        high = truth[k].max(axis=0) + 20e3
        clutter = low + rng.random((n_clutter, 3)) * (high - low)
        z = np.vstack([z_true, clutter])
        ids = np.concatenate([np.flatnonzero(seen), np.full(n_clutter, -1)])
        frames.append((t, z, ids))
    return times, truth, frames


def detections_table(frames) -> pa.Table:
    t = np.concatenate([np.full(len(z), tt) for tt, z, _ in frames])
    z = np.vstack([z for _, z, _ in frames])
    ids = np.concatenate([i for _, _, i in frames])
    return make_detections(t=t, t_report=t, sensor_id="bench", node="USA", meas_type="xyz",
                           z=z, R=np.eye(3) * SIGMA_M**2, sensor_r_ecef_m=np.zeros(3),
                           sensor_v_ecef_m_s=np.zeros(3), snr=np.nan, truth_id=ids,
                           false_alarm=ids < 0, marking="REL TO USA, JPN")


def run_hyperdef(frames):
    table = detections_table(frames)
    config = TrackerConfig(model="cv", filter="ekf", association="gnn", confirm_m=3,
                           confirm_n=5, initiation="single", velocity_sigma_m_s=3000.0,
                           model_parameters=(("cv", "sigma_a_m_s2", Q_DENSITY**0.5),))
    start = time.perf_counter()
    result = run_tracker(table, config)
    wall = time.perf_counter() - start
    tracks = result.table
    t = tracks.column("t").to_numpy()
    status = np.asarray(tracks.column("status").to_pylist())
    pos = np.column_stack([tracks.column(c).to_numpy() for c in ("x", "y", "z")])
    per_scan = {tt: pos[(t == tt) & (status == "confirmed")] for tt in np.unique(t)}
    return wall, per_scan


def run_stonesoup(frames):
    from stonesoup.dataassociator.tree import DetectionKDTreeGNN2D
    from stonesoup.deleter.error import CovarianceBasedDeleter
    from stonesoup.hypothesiser.distance import DistanceHypothesiser
    from stonesoup.initiator.simple import MultiMeasurementInitiator
    from stonesoup.measures import Mahalanobis
    from stonesoup.models.measurement.linear import LinearGaussian
    from stonesoup.models.transition.linear import (
        CombinedLinearGaussianTransitionModel,
        ConstantVelocity,
    )
    from stonesoup.predictor.kalman import KalmanPredictor
    from stonesoup.tracker.simple import MultiTargetTracker
    from stonesoup.types.detection import Detection
    from stonesoup.types.state import GaussianState
    from stonesoup.updater.kalman import KalmanUpdater

    transition = CombinedLinearGaussianTransitionModel([ConstantVelocity(Q_DENSITY)] * 3)
    measurement = LinearGaussian(ndim_state=6, mapping=(0, 2, 4),
                                 noise_covar=np.eye(3) * SIGMA_M**2)
    predictor = KalmanPredictor(transition)
    updater = KalmanUpdater(measurement)
    hypothesiser = DistanceHypothesiser(predictor, updater, measure=Mahalanobis(),
                                        missed_distance=4.0)
    associator = DetectionKDTreeGNN2D(hypothesiser=hypothesiser, predictor=predictor,
                                      updater=updater, number_of_neighbours=5,
                                      max_distance=KDTREE_RADIUS_M)
    # position variance of (20 km)^2 per axis, plus a velocity allowance
    deleter = CovarianceBasedDeleter(covar_trace_thresh=3 * (20e3) ** 2 + 3 * 2000.0**2)
    prior = GaussianState(np.zeros((6, 1)), np.diag([0, 3000.0, 0, 3000.0, 0, 3000.0]) ** 2)
    init_hypothesiser = DistanceHypothesiser(predictor, updater, measure=Mahalanobis(),
                                             missed_distance=4.0)
    initiator = MultiMeasurementInitiator(
        prior_state=prior, measurement_model=measurement, deleter=deleter,
        data_associator=DetectionKDTreeGNN2D(hypothesiser=init_hypothesiser,
                                             predictor=predictor, updater=updater,
                                             number_of_neighbours=5, max_distance=KDTREE_RADIUS_M),
        updater=updater, min_points=3)
    epoch = dt.datetime(2026, 11, 27)
    feed = [(epoch + dt.timedelta(seconds=float(t)),
             {Detection(z_i.reshape(3, 1), timestamp=epoch + dt.timedelta(seconds=float(t)),
                        measurement_model=measurement) for z_i in z})
            for t, z, _ in frames]
    tracker = MultiTargetTracker(initiator=initiator, deleter=deleter, detector=feed,
                                 data_associator=associator, updater=updater)
    per_scan = {}
    start = time.perf_counter()
    for stamp, tracks in tracker:
        t = (stamp - epoch).total_seconds()
        per_scan[t] = np.array([np.ravel(tr.state_vector)[[0, 2, 4]] for tr in tracks]
                               ).reshape(-1, 3)
    wall = time.perf_counter() - start
    return wall, per_scan


def mean_ospa(per_scan, times, truth) -> float:
    half = times[len(times) // 2:]
    values = [ospa(truth[int(t)], per_scan.get(t, np.zeros((0, 3))), c=CUTOFF_M, p=2)
              for t in half]
    return float(np.mean(values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,200,1000")
    parser.add_argument("--scans", type=int, default=60)
    parser.add_argument("--stonesoup-max", type=int, default=1000,
                        help="largest N run through Stone Soup (it is slow)")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, NumPy {np.__version__}")
    print("| N | tracker | wall s | ms per scan | us per track-scan | OSPA mean m |")
    print("|---:|---|---:|---:|---:|---:|")
    for n in (int(s) for s in args.sizes.split(",")):
        times, truth, frames = scenario(n, args.scans)
        track_scans = n * args.scans
        hd_wall, hd_scan = run_hyperdef(frames)
        rows = [("hyperdef", hd_wall, mean_ospa(hd_scan, times, truth))]
        if n <= args.stonesoup_max:
            ss_wall, ss_scan = run_stonesoup(frames)
            rows.append(("Stone Soup", ss_wall, mean_ospa(ss_scan, times, truth)))
        for name, wall, o in rows:
            print(f"| {n} | {name} | {wall:.3f} | {1e3 * wall / args.scans:.2f} | "
                  f"{1e6 * wall / track_scans:.1f} | {o:.1f} |")
        if len(rows) == 2:
            print(f"| {n} | ratio | {rows[1][1] / rows[0][1]:.0f}x | | | |")


if __name__ == "__main__":
    main()
