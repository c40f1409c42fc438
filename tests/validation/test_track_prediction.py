"""Validation of the fire-control target predictor against a truth MRBM trajectory.

The predictor (:func:`hyperdef.engagement.guidance.predict_path`) flies the estimated
target state forward under J2 gravity and the rotating-frame terms (Vallado 2013, ch. 3
and 8), adding only the aerodynamic part of the estimated acceleration, with a drag of
constant ballistic coefficient for a re-entry vehicle (Zarchan 2012, chapters "Ballistic
Target Properties" and "Extended Kalman Filtering and Ballistic Coefficient
Estimation"). The bounds below follow from that physics:

1. Exact state, exo-atmospheric arc (ends above 50 km): the truth obeys the same equations,
   so only the integration error is left; under 10 m over 60-180 s. The old constant-
   acceleration extrapolation, whose gravity neither turns with the position nor grows
   as the target descends, errs by ``g v t^3 / (6 R)`` (about 2 km at 180 s here).
2. Estimate with errors (50 m and 5 m/s per axis; acceleration differenced from two such
   velocities 20 s apart): in vacuum the predicted position error is the linear
   propagation of the state error, ``sqrt(3 (s_r^2 + s_v^2 t^2))`` RMS, to within the
   gravity-gradient correction ``(GM / r^3) t^2`` (about 4 % at 180 s); the acceleration
   noise (0.35 m/s^2 per axis) must not enter, as it would with the old model
   (``0.35 t^2 / 2`` = 5.7 km per axis at 180 s).
3. In the re-entry, with the drag measured, the exponentially growing drag is predicted
   to within a few metres over 3-10 s, where a held acceleration is off by tens to
   hundreds of metres.
4. An SM-6-class interceptor fired by fire control on the track picture of a tracker
   (IMM of constant-velocity and glide models on 100 m position reports), not on the
   truth, kills the MRBM in most draws: the window opens some 300 s before the intercept,
   and the solution is re-planned on the track at launch
   (:func:`hyperdef.engagement.fire_control.launch_solution`).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from hyperdef.core.dynamics import approx_altitude_m
from hyperdef.core.earth import GM_EARTH_M3_S2
from hyperdef.core.frames import lla_to_ecef
from hyperdef.engagement.fire_control import (
    Battery,
    launch_solution,
    launch_window,
    predict_track_path,
)
from hyperdef.engagement.guidance import predict_path
from hyperdef.engagement.interceptor import SM6_CLASS
from hyperdef.engagement.simulate import EngagementOptions, TrackFeed, engage
from hyperdef.sensors.detections import make_detections
from hyperdef.threats import fly
from hyperdef.tracking.tracker import TrackerConfig, run_tracker

DEFENDED = np.radians([26.2, 127.7, 0.0])


@pytest.fixture(scope="module")
def mrbm():
    return fly("ballistic", np.radians([33.0, 120.0, 0.0]), DEFENDED)


def _truth(trajectory, t):
    return trajectory.state_at(np.zeros(np.size(t), int), np.asarray(t, float))


def _constant_acceleration(r, v, a, dt):
    """The former model: the estimated acceleration held over the horizon."""
    return r + v * dt[:, None] + 0.5 * a * dt[:, None] ** 2


def test_exact_state_is_predicted_to_integration_accuracy(mrbm):
    t_end = float(mrbm.t[-1])
    t0 = np.arange(150.0, t_end - 60.0, 10.0)
    horizons = np.array([60.0, 120.0, 180.0])
    t0, dt = (x.ravel() for x in np.meshgrid(t0, horizons, indexing="ij"))
    r0, v0, a0 = _truth(mrbm, t0)
    r1, _, _ = _truth(mrbm, np.minimum(t0 + dt, t_end))
    exo = approx_altitude_m(r1) > 50e3
    assert exo.sum() > 60, "too few exo-atmospheric cases"
    err = np.linalg.norm(predict_path(r0[exo], v0[exo], a0[exo], dt[exo]) - r1[exo], axis=1)
    old = np.linalg.norm(_constant_acceleration(r0[exo], v0[exo], a0[exo], dt[exo]) - r1[exo],
                         axis=1)
    long = dt[exo] == 180.0
    print(f"exact state: max error {err.max():.2f} m; constant acceleration at 180 s: "
          f"median {np.median(old[long]) / 1e3:.2f} km")
    assert err.max() < 10.0, f"prediction off by {err.max():.1f} m on a vacuum arc (> 10 m)"
    assert np.median(old[long]) > 1_000.0, "the constant-acceleration reference should fail"


def test_state_errors_propagate_linearly_and_acceleration_noise_does_not_enter(mrbm):
    rng = np.random.default_rng(11)
    n, s_r, s_v, baseline = 400, 50.0, 5.0, 20.0
    t0 = rng.uniform(150.0, 380.0, n)  # after burnout (110 s); ends above 90 km
    r0, v0, _ = _truth(mrbm, t0)
    _, v_back, _ = _truth(mrbm, t0 - baseline)
    r_est = r0 + s_r * rng.standard_normal((n, 3))
    v_est = v0 + s_v * rng.standard_normal((n, 3))
    a_est = (v_est - (v_back + s_v * rng.standard_normal((n, 3)))) / baseline
    for horizon in (60.0, 120.0, 180.0):
        dt = np.full(n, horizon)
        r1, _, _ = _truth(mrbm, t0 + dt)
        assert np.all(approx_altitude_m(r1) > 90e3)
        rms = np.sqrt(np.mean(np.sum((predict_path(r_est, v_est, a_est, dt,
                                                   accel_age_s=baseline / 2) - r1) ** 2, 1)))
        expected = np.sqrt(3.0 * (s_r**2 + (s_v * horizon) ** 2))
        gradient = GM_EARTH_M3_S2 / np.linalg.norm(r0, axis=1).min() ** 3 * horizon**2
        old = np.sqrt(np.mean(np.sum((_constant_acceleration(r_est, v_est, a_est, dt)
                                      - r1) ** 2, 1)))
        print(f"{horizon:.0f} s: RMS {rms:.0f} m, linear propagation {expected:.0f} m, "
              f"constant acceleration {old:.0f} m")
        # sampling error of an RMS of 3 n values: about 1/sqrt(6 n) = 2 %, three sigma 6 %
        tolerance = gradient + 0.06
        assert abs(rms / expected - 1.0) < tolerance, (
            f"{horizon:.0f} s: RMS error {rms:.0f} m vs {expected:.0f} m from the state "
            f"errors alone (tolerance {100 * tolerance:.0f} %)")


def test_reentry_drag_is_predicted_from_the_measured_acceleration(mrbm):
    t_end = float(mrbm.t[-1])
    t0 = np.arange(t_end - 14.0, t_end - 6.0, 1.0)
    r0, v0, a0 = _truth(mrbm, t0)
    for horizon in (3.0, 5.0):
        dt = np.full(t0.size, horizon)
        r1, _, _ = _truth(mrbm, t0 + dt)
        err = np.linalg.norm(predict_path(r0, v0, a0, dt) - r1, axis=1)
        held = np.linalg.norm(_constant_acceleration(r0, v0, a0, dt) - r1, axis=1)
        print(f"re-entry {horizon:.0f} s: max error {err.max():.2f} m, "
              f"held acceleration {held.max():.0f} m")
        assert err.max() < 5.0, f"re-entry prediction off by {err.max():.1f} m over {horizon} s"
        assert held.max() > 5.0 * max(err.max(), 1.0)


def _track_picture(trajectory, seed: int, sigma_m: float = 100.0) -> tuple[np.ndarray, ...]:
    """Times and states of the firm track an IMM(cv, glide) tracker keeps on 1 Hz xyz
    reports of the target (noise ``sigma_m`` per axis)."""
    t = np.arange(200.0, float(trajectory.t[-1]) - 1.0, 1.0)
    r, _, _ = _truth(trajectory, t)
    rng = np.random.default_rng(seed)
    n = t.size
    detections = make_detections(
        t=t, t_report=t + 0.5, sensor_id="radar", node="USA", meas_type="xyz",
        z=r + sigma_m * rng.standard_normal(r.shape),
        R=np.broadcast_to(np.eye(3) * sigma_m**2, (n, 3, 3)),
        sensor_r_ecef_m=np.broadcast_to(lla_to_ecef(DEFENDED), (n, 3)),
        sensor_v_ecef_m_s=np.zeros((n, 3)), snr=20.0, truth_id=np.zeros(n, int),
        false_alarm=False, marking="REL TO USA")
    table: pa.Table = run_tracker(detections, TrackerConfig(model="imm",
                                                            imm_models=("cv", "glide")),
                                  node="USA").table
    ids = table.column("track_id").to_numpy()
    main = np.bincount(ids).argmax()
    keep = (ids == main) & (np.asarray(table.column("status").to_pylist()) == "confirmed")
    tt = table.column("t").to_numpy()[keep]
    x = np.column_stack([table.column(c).to_numpy()[keep]
                         for c in ("x", "y", "z", "vx", "vy", "vz")])
    return tt, x


def test_sm6_fired_on_a_track_picture_kills_a_ballistic_missile(mrbm):
    battery = Battery("sm6", "USA", 26.2, 127.7, interceptor="sm6")
    n = 8
    feeds_t, feeds_x, plans = [], [], []
    for seed in range(n):  # one tracker run and one fire-control solution per draw
        tt, x = _track_picture(mrbm, seed)
        window = None
        for t_dec in np.arange(300.0, 560.0, 20.0):  # decide after burnout, as fire control
            window = launch_window(battery, predict_track_path(tt, x, t_dec), t_dec)
            if window.engageable:
                break
        assert window is not None and window.engageable, window
        window = launch_solution(battery, tt, x, window)  # re-planned at launch
        feeds_t.append(tt)
        feeds_x.append(x)
        plans.append((window.preferred_s, window.time_of_flight_s,
                      window.intercept_s - window.preferred_s, window.pip_ecef_m))
    offsets = np.concatenate([[0], np.cumsum([t.size for t in feeds_t])])
    feed = TrackFeed(t=np.concatenate(feeds_t), x=np.concatenate(feeds_x), offsets=offsets)
    t_launch = np.array([p[0] for p in plans])
    plan = (np.array([p[1] for p in plans]), np.array([p[2] for p in plans]),
            np.array([p[3] for p in plans]))
    result = engage(SM6_CLASS, mrbm, target_index=np.zeros(n, int), site_lla=battery.site_lla,
                    t_launch_s=t_launch, options=EngagementOptions(),
                    rng=np.random.default_rng(1), track_feed=feed, plan=plan)
    print("SM-6 on track pictures:", result.counts(), np.round(result.miss_m, 1))
    assert result.kill.sum() >= 0.75 * n, (
        f"SM-6 on track pictures killed {int(result.kill.sum())} of {n}: {result.counts()}, "
        f"misses {np.round(result.miss_m, 1)} m")
