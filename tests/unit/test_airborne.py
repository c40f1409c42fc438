"""Unit tests of the MQ-9-class airborne ISR sensor (racetrack, radar, EO/IR, navigation)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hyperdef.core.earth import G0_M_S2
from hyperdef.core.frames import ecef_to_aer, ecef_to_lla, enu_to_ecef
from hyperdef.errors import InputError
from hyperdef.sensors.airborne import (
    MQ9_CEILING_M,
    MQ9_CRUISE_SPEED_M_S,
    AirborneEoIr,
    AirborneIsr,
    AirborneRadar,
    FieldOfRegard,
    Navigation,
    Racetrack,
)
from hyperdef.sensors.base import Reporting
from hyperdef.sensors.detections import measurements
from hyperdef.sensors.truth import TruthSamples
from hyperdef.threats.trajectory import PHASES, Trajectory

GLIDE = PHASES.index("glide")
CENTRE = (math.radians(36.0), math.radians(130.0))


def _track(**kwargs):
    return Racetrack(*CENTRE, **{"heading_rad": math.radians(30.0), **kwargs})


def _reporting(latency=1.5):
    return Reporting("mq9", "JPN", ("USA",), latency)


def _radar(**kwargs):
    base = dict(false_alarm_cells=0.0, field_of_regard=FieldOfRegard(), max_range_m=1e6)
    return AirborneRadar(**{**base, **kwargs})


def _aircraft(radar=None, eoir=None, navigation=None, **track):
    navigation = Navigation(0.0, 0.0) if navigation is None else navigation
    return AirborneIsr(_track(**track), _reporting(), radar, eoir, navigation)


def _point(east_m, north_m, up_m):
    """ECEF of a point offset (ENU) from the racetrack centre at 15 km."""
    return enu_to_ecef(np.array([east_m, north_m, up_m]), np.array([*CENTRE, 15e3]))


def _static_trajectory(r_ecef_m, t_end_s, heat_flux=1e6):
    r = np.tile(np.asarray(r_ecef_m, float), (2, 1))
    lla = ecef_to_lla(r)
    zero = np.zeros(2)
    return Trajectory(
        kind=np.array(["hgv"], dtype=object),
        offsets=np.array([0, 2]),
        t=np.array([0.0, t_end_s]),
        r_ecef_m=r,
        v_ecef_m_s=np.zeros((2, 3)),
        a_ecef_m_s2=np.zeros((2, 3)),
        lla=lla,
        mass_kg=np.ones(2),
        mach=zero,
        dynamic_pressure_pa=zero,
        heat_flux_w_m2=np.full(2, heat_flux),
        phase=np.full(2, GLIDE),
        launch_lla=lla[:1],
        aim_lla=lla[:1],
        status=np.array(["time_limit"], dtype=object),
    )


def _truth(t, r, heat_flux=1e6):
    k = t.size
    r = np.broadcast_to(np.asarray(r, float), (1, k, 3)).copy()
    return TruthSamples(
        t=t,
        valid=np.ones((1, k), bool),
        r_ecef_m=r,
        v_ecef_m_s=np.zeros((1, k, 3)),
        alt_m=ecef_to_lla(r)[..., 2],
        mach=np.zeros((1, k)),
        dynamic_pressure_pa=np.zeros((1, k)),
        heat_flux_w_m2=np.full((1, k), heat_flux),
        phase=np.full((1, k), GLIDE),
    )


# ----------------------------------------------------------------- racetrack


def test_mq9_figures():
    assert MQ9_CEILING_M == pytest.approx(15240.0)
    assert MQ9_CRUISE_SPEED_M_S == pytest.approx(102.8, abs=0.1)


def test_racetrack_is_continuous_at_constant_speed_and_altitude():
    track = _track(leg_length_m=30e3, speed_m_s=90.0)
    assert track.radius_m == pytest.approx(90.0**2 / (G0_M_S2 * math.tan(math.radians(20))))
    dt = 0.1
    t = np.arange(0.0, 1.2 * track.period_s, dt)
    r, v = track.position_velocity_ecef(t)
    speed = np.linalg.norm(v, axis=-1)
    np.testing.assert_allclose(speed, 90.0, rtol=1e-9)
    step = np.linalg.norm(np.diff(r, axis=0), axis=-1)
    np.testing.assert_allclose(step, 90.0 * dt, rtol=1e-4, err_msg="jump along the circuit")
    # central differences match the velocity; at a leg/turn joint the lateral
    # acceleration V^2/rho jumps, which costs a central difference up to a dt / 4
    fd = (r[2:] - r[:-2]) / (2 * dt)
    err = np.linalg.norm(fd - v[1:-1], axis=-1)
    lateral = 90.0**2 / track.radius_m
    assert err.max() < 0.5 * lateral * dt, err.max()
    assert np.median(err) < 1e-3, np.median(err)
    np.testing.assert_allclose(ecef_to_lla(r)[:, 2], 15e3, atol=1e-6)
    # closed: one period later the aircraft is where it was
    r2, _ = track.position_velocity_ecef(t[:10] + track.period_s)
    np.testing.assert_allclose(r2, r[:10], atol=1e-4)


def test_racetrack_legs_follow_the_heading():
    track = _track(leg_length_m=40e3, speed_m_s=100.0, turn_radius_m=3000.0)
    leg_time = 40e3 / 100.0
    half = leg_time + math.pi * 3000.0 / 100.0
    t = np.array([0.1 * leg_time, 0.9 * leg_time, half + 0.5 * leg_time])
    heading = track.heading_at(t)
    # the legs are straight in the centre's tangent plane: the heading seen in each
    # point's own frame differs by the meridian convergence (about 1 mrad at 20 km)
    np.testing.assert_allclose(heading[:2], math.radians(30.0), atol=3e-3)
    np.testing.assert_allclose(heading[2], math.radians(210.0), atol=3e-3)
    assert track.perimeter_m == pytest.approx(80e3 + 2 * math.pi * 3000.0)
    # the legs are 2 rho apart and the circuit is centred
    r, _ = track.position_velocity_ecef(np.linspace(0.0, track.period_s, 2001)[:-1])
    centre = np.array([*CENTRE, 15e3])
    aer = ecef_to_aer(r.mean(axis=0), centre)
    assert aer[0] < 100.0
    a = ecef_to_aer(track.position_velocity_ecef([0.5 * leg_time])[0][0], centre)
    b = ecef_to_aer(track.position_velocity_ecef([half + 0.5 * leg_time])[0][0], centre)
    assert a[0] == pytest.approx(3000.0, rel=1e-4) and b[0] == pytest.approx(3000.0, rel=1e-4)


def test_position_velocity_batch_matches_single():
    ac = _aircraft(radar=_radar())
    t = np.array([0.0, 123.4, 999.0])
    r, v = ac.position_velocity_ecef(t)
    assert r.shape == v.shape == (3, 3)
    for i, ti in enumerate(t):
        ri, vi = ac.position_velocity_ecef(ti)
        np.testing.assert_allclose(ri[0], r[i], rtol=1e-15)
        np.testing.assert_allclose(vi[0], v[i], rtol=1e-15)


# ----------------------------------------------------------------- sensors


def test_field_of_regard_is_relative_to_the_heading():
    """A forward-looking sensor sees a target ahead on leg 1 and not on leg 2."""
    fov = FieldOfRegard(-math.radians(60), math.radians(60), -math.pi / 2, math.pi / 2)
    radar = _radar(field_of_regard=fov, snr_ref=100.0)
    ac = _aircraft(radar=radar, turn_radius_m=3000.0, leg_length_m=40e3)
    track = ac.orbit
    leg_time = 40e3 / track.speed_m_s
    half = leg_time + math.pi * track.radius_m / track.speed_m_s
    t = np.array([0.5 * leg_time, half + 0.5 * leg_time])
    heading = math.radians(30.0)
    ahead = _point(100e3 * math.sin(heading), 100e3 * math.cos(heading), 5e3)
    pd = ac.detection_probability(_truth(t, ahead))
    assert pd[0, 0] > 0.5 and pd[0, 1] == 0.0
    behind = _point(-100e3 * math.sin(heading), -100e3 * math.cos(heading), 5e3)
    pd = ac.detection_probability(_truth(t, behind))
    assert pd[0, 0] == 0.0 and pd[0, 1] > 0.5
    # elevation limits: a target far above a sensor limited to look down is not seen
    down = _aircraft(radar=_radar(field_of_regard=FieldOfRegard(el_max_rad=0.0)))
    above = _point(10e3, 0.0, 40e3)
    assert down.detection_probability(_truth(t, above))[0].max() == 0.0


def test_eoir_detects_hot_targets_within_range_only():
    eo = AirborneEoIr(max_range_m=150e3, false_alarm_pixels=0.0)
    ac = _aircraft(eoir=eo)
    t = np.array([0.0])
    near = _point(100e3, 0.0, 15e3)
    far = _point(200e3, 0.0, 15e3)
    assert ac.detection_probability(_truth(t, near, heat_flux=1e6))[0, 0] > 0.99
    assert ac.detection_probability(_truth(t, far, heat_flux=1e6))[0, 0] == 0.0
    assert ac.detection_probability(_truth(t, near, heat_flux=0.0))[0, 0] < 1e-8


def test_radar_pd_is_swerling_1_of_the_scaled_radar_equation():
    radar = _radar(snr_ref=20.0, range_ref_m=100e3, pfa=1e-6)
    ac = _aircraft(radar=radar)
    t = np.array([0.0])
    r_aircraft = ac.position_velocity_ecef(t)[0][0]
    target = _point(0.0, 150e3, 0.0)
    slant = np.linalg.norm(target - r_aircraft)
    snr = 20.0 * (100e3 / slant) ** 4
    pd = ac.detection_probability(_truth(t, target))  # kind None: rcs_ref
    assert pd[0, 0] == pytest.approx(1e-6 ** (1 / (1 + snr)), rel=1e-9)


def test_navigation_error_increases_r():
    target = _point(60e3, 20e3, 10e3)
    trajectory = _static_trajectory(target, 20.0)
    radar = _radar(snr_ref=1e4, revisit_s=1.0)
    eo = AirborneEoIr(false_alarm_pixels=0.0)
    clean = _aircraft(radar=radar, eoir=eo).observe(trajectory, np.random.default_rng(1))
    nav = Navigation(position_sigma_m=10.0, attitude_sigma_rad=1e-3)
    noisy = _aircraft(radar=radar, eoir=eo, navigation=nav).observe(
        trajectory, np.random.default_rng(1)
    )
    _, z0, r0 = measurements(clean, "raer")
    _, z1, r1 = measurements(noisy, "raer")
    assert r0.shape == r1.shape and r0.shape[1:] == (4, 4)
    slant = z1[:, 0]
    np.testing.assert_allclose(r1[:, 0, 0] - r0[:, 0, 0], 100.0, rtol=1e-9)
    np.testing.assert_allclose(r1[:, 2, 2] - r0[:, 2, 2], (10.0 / slant) ** 2 + 1e-6, rtol=0.02)
    assert np.all(r1[:, 1, 1] > r0[:, 1, 1]) and np.all(r1[:, 3, 3] == r0[:, 3, 3])
    _, _, q0 = measurements(clean, "los")
    _, _, q1 = measurements(noisy, "los")
    assert (
        q0.shape[0] > 0 and np.all(q1[:, 0, 0] > q0[:, 0, 0]) and np.all(q1[:, 1, 1] > q0[:, 1, 1])
    )

    # the reported sensor position is the navigated one
    def sensor(table):
        return np.column_stack(
            [table.column(c).to_numpy() for c in ("sensor_x", "sensor_y", "sensor_z")]
        )

    assert np.allclose(
        sensor(clean),
        _aircraft(radar=radar).position_velocity_ecef(clean.column("t").to_numpy())[0],
    )
    offset = np.linalg.norm(sensor(noisy) - sensor(clean), axis=-1)
    assert 2.0 < offset.mean() < 30.0


def test_navigated_reports_are_consistent_with_r_over_10000_looks():
    """Normalised errors against the reported (navigated) position: mean 0, variance 1."""
    target = _point(80e3, -30e3, 5e3)
    trajectory = _static_trajectory(target, 9999.0)
    radar = _radar(snr_ref=1e6, revisit_s=1.0, range_sigma_m=15.0, angle_sigma_rad=2e-3)
    nav = Navigation(position_sigma_m=200.0, attitude_sigma_rad=2e-3)
    ac = _aircraft(radar=radar, navigation=nav)
    table = ac.observe(trajectory, np.random.default_rng(2024))
    rows, z, R = measurements(table, "raer")
    assert rows.size == 10_000
    sensor = np.column_stack(
        [table.column(c).to_numpy() for c in ("sensor_x", "sensor_y", "sensor_z")]
    )
    predicted = ecef_to_aer(target, ecef_to_lla(sensor))
    err = z[:, :3] - predicted
    err[:, 1] = (err[:, 1] + np.pi) % (2 * np.pi) - np.pi
    normalised = err / np.sqrt(np.diagonal(R, axis1=1, axis2=2)[:, :3])
    n = rows.size
    assert np.all(np.abs(normalised.mean(axis=0)) < 4 / np.sqrt(n)), normalised.mean(axis=0)
    assert np.all(np.abs(normalised.var(axis=0) - 1) < 4 * np.sqrt(2 / n)), normalised.var(0)


def test_latency_marking_ids_and_false_alarms():
    target = _point(60e3, 0.0, 10e3)
    trajectory = _static_trajectory(target, 30.0)
    ac = AirborneIsr(
        _track(),
        _reporting(latency=1.7),
        AirborneRadar(false_alarm_cells=3e5),
        AirborneEoIr(),
        Navigation(),
    )
    table = ac.observe(trajectory, np.random.default_rng(5))
    t = table.column("t").to_numpy()
    np.testing.assert_allclose(table.column("t_report").to_numpy() - t, 1.7)
    assert set(table.column("marking").to_pylist()) == {"REL TO USA, JPN"}
    assert set(table.column("node").to_pylist()) == {"JPN"}
    ids = np.array(table.column("sensor_id").to_pylist())
    kinds = np.array(table.column("meas_type").to_pylist())
    assert set(ids) == {"mq9-radar", "mq9-eoir"}
    assert set(kinds[ids == "mq9-radar"]) == {"raer"} and set(kinds[ids == "mq9-eoir"]) == {"los"}
    fa = table.column("false_alarm").to_numpy()
    truth_id = table.column("truth_id").to_numpy()
    assert fa.any() and np.all(truth_id[fa] == -1) and np.all(truth_id[~fa] == 0)
    assert np.all(np.diff(t) >= 0)
    assert table.equals(ac.observe(trajectory, np.random.default_rng(5)))
    # rae: three values per report
    rae = _aircraft(radar=_radar(meas_type="rae")).observe(trajectory, np.random.default_rng(0))
    _, z, R = measurements(rae, "rae")
    assert z.shape[1] == 3 and R.shape[1:] == (3, 3) and z.shape[0] > 0


# ----------------------------------------------------------------- bad input


@pytest.mark.parametrize("altitude", [25e3, -10.0, float("nan")])
def test_aircraft_altitude_out_of_range(altitude):
    with pytest.raises(InputError, match="altitude_m"):
        _track(altitude_m=altitude)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"az_min_rad": 1.0, "az_max_rad": -1.0}, "az_min_rad"),
        ({"el_min_rad": 0.5, "el_max_rad": 0.1}, "el_min_rad"),
        ({"az_max_rad": 4.0}, "az_max_rad"),
    ],
)
def test_field_of_regard_limits(kwargs, field):
    with pytest.raises(InputError, match=field):
        FieldOfRegard(**kwargs)


@pytest.mark.parametrize(
    ("factory", "field"),
    [
        (lambda: AirborneRadar(range_sigma_m=-1.0), "range_sigma_m"),
        (lambda: AirborneRadar(angle_sigma_rad=-1e-3), "angle_sigma_rad"),
        (lambda: AirborneRadar(meas_type="xyz"), "meas_type"),
        (lambda: AirborneRadar(pfa=1.5), "pfa"),
        (lambda: AirborneEoIr(angle_sigma_rad=-1e-4), "angle_sigma_rad"),
        (lambda: AirborneEoIr(nei_w_m2=0.0), "nei_w_m2"),
        (lambda: Navigation(position_sigma_m=-1.0), "position_sigma_m"),
        (lambda: Navigation(attitude_sigma_rad=-1.0), "attitude_sigma_rad"),
        (lambda: _track(speed_m_s=0.0), "speed_m_s"),
        (lambda: _track(bank_rad=math.radians(75)), "bank_rad"),
        (lambda: _track(leg_length_m=-5.0), "leg_length_m"),
        (lambda: Racetrack(math.radians(95), 0.0), "center_lat_rad"),
    ],
)
def test_bad_parameters_name_the_field(factory, field):
    with pytest.raises(InputError, match=field):
        factory()


def test_unknown_node_and_missing_sensors():
    with pytest.raises(InputError, match="node"):
        AirborneIsr(_track(), Reporting("mq9", "ZZZ"))
    with pytest.raises(InputError, match="radar, eoir"):
        AirborneIsr(_track(), _reporting(), None, None)
