"""Unit tests of the space infrared layer and the orbit helpers (no threat flights)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from hyperdef.core.earth import WGS84_A_M
from hyperdef.core.frames import ecef_to_lla, lla_to_ecef
from hyperdef.errors import InputError
from hyperdef.sensors.base import Reporting
from hyperdef.sensors.detections import COLUMNS, measurements
from hyperdef.sensors.infrared import (
    InfraredPayload,
    InfraredSignature,
    SpaceInfraredLayer,
    atmospheric_transmission,
    band_radiance_w_m2_sr,
    earth_behind,
    los_angles,
    target_intensity_w_sr,
)
from hyperdef.sensors.orbits import (
    KeplerConstellation,
    KeplerianElements,
    TleConstellation,
    solve_kepler,
    walker_delta,
)
from hyperdef.sensors.truth import TruthSamples
from hyperdef.threats.trajectory import PHASES, Trajectory

GLIDE = PHASES.index("glide")
BOOST = PHASES.index("boost")
TLE_00005 = (
    "1 00005U 58002B   00179.78495062  .00000023  00000-0  28098-4 0  4753",
    "2 00005  34.2682 348.7242 1859667 331.7664  19.3264 10.82419157413667",
)


def _layer(n_sat=1, **payload):
    orbits = KeplerConstellation(walker_delta(n_sat, 1, 0, np.radians(50.0), 1000e3))
    payload.setdefault("false_alarm_pixels", 0.0)
    return SpaceInfraredLayer(
        orbits, Reporting("ir", "USA", ("JPN",), 2.5), InfraredPayload(**payload)
    )


def _below(layer, t, alt_m=40e3, offset_lla=(0.0, 0.0)):
    """Target positions at alt_m under satellite 0 (plus a lat/lon offset, rad)."""
    r_sat, _ = layer.position_velocity_ecef(t)
    lla = ecef_to_lla(r_sat[0])
    lla[:, 0] += offset_lla[0]
    lla[:, 1] += offset_lla[1]
    lla[:, 2] = alt_m
    return lla_to_ecef(lla)


def _truth(t, r, heat_flux=1e6, phase=GLIDE, alt_m=40e3):
    r = np.asarray(r, float).reshape(-1, t.size, 3)
    b, k = r.shape[:2]
    return TruthSamples(
        t=t,
        valid=np.ones((b, k), bool),
        r_ecef_m=r,
        v_ecef_m_s=np.zeros((b, k, 3)),
        alt_m=np.full((b, k), alt_m),
        mach=np.zeros((b, k)),
        dynamic_pressure_pa=np.zeros((b, k)),
        heat_flux_w_m2=np.broadcast_to(np.asarray(heat_flux, float), (b, k)).copy(),
        phase=np.broadcast_to(np.asarray(phase), (b, k)).copy(),
    )


def _static_trajectory(r_ecef_m, t_end_s, heat_flux=1e6, phase=GLIDE):
    """One object held at a point from 0 to t_end_s (two samples)."""
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
        phase=np.full(2, phase),
        launch_lla=lla[:1],
        aim_lla=lla[:1],
        status=np.array(["time_limit"], dtype=object),
    )


# ----------------------------------------------------------------- radiometry


def test_band_radiance_batch_matches_single_and_is_monotonic():
    temperature = np.array([[0.0, 300.0, 800.0], [1500.0, 2500.0, 3500.0]])
    batch = band_radiance_w_m2_sr(temperature)
    single = np.array([[band_radiance_w_m2_sr(t) for t in row] for row in temperature])
    np.testing.assert_allclose(batch, single, rtol=1e-14)
    assert batch[0, 0] == 0.0
    assert np.all(np.diff(batch.ravel()) > 0)


def test_target_intensity_adds_the_plume_in_boost_only():
    sig = InfraredSignature(boost_plume_w_sr=2e5)
    q = np.array([0.0, 0.0, 1e6])
    phase = np.array([BOOST, GLIDE, GLIDE])
    intensity = target_intensity_w_sr(q, phase, sig)
    assert intensity[0] == 2e5 and intensity[1] == 0.0
    assert 1e3 < intensity[2] < 1e5  # ~2100 K over 0.1 m^2 in the MWIR
    assert target_intensity_w_sr(np.nan, GLIDE, sig) == 0.0


def test_atmospheric_transmission_rises_to_one_above_the_weather():
    tau = atmospheric_transmission(np.array([0.0, 5e3, 20e3, 60e3]))
    assert tau[0] == pytest.approx(np.exp(-0.7))
    assert np.all(np.diff(tau) > 0) and tau[-1] == pytest.approx(1.0, abs=1e-9)


def test_earth_behind_nadir_but_not_above_the_limb():
    sensor = lla_to_ecef([0.0, 0.0, 1000e3])
    below = lla_to_ecef([0.0, 0.0, 50e3])
    assert earth_behind(sensor, below)
    # a target 200 km up, far off towards the horizon: the ray passes over the limb
    far_high = lla_to_ecef([0.0, np.radians(35.0), 200e3])
    assert not earth_behind(sensor, far_high)
    # batch broadcast
    assert earth_behind(sensor[None], np.stack([below, far_high])).tolist() == [True, False]


# ----------------------------------------------------------------- the layer


def test_position_velocity_shape_and_finite_difference():
    layer = _layer(n_sat=3)
    t = np.array([100.0, 100.5])
    r, v = layer.position_velocity_ecef(t)
    assert r.shape == v.shape == (3, 2, 3)
    fd = (r[:, 1] - r[:, 0]) / 0.5
    np.testing.assert_allclose(fd, 0.5 * (v[:, 0] + v[:, 1]), atol=1e-2)
    assert np.allclose(np.linalg.norm(r, axis=-1), WGS84_A_M + 1000e3)


def test_tle_constellation_velocity_is_the_derivative_of_position():
    tles = TleConstellation((TLE_00005, TLE_00005), datetime(2000, 6, 28, tzinfo=UTC))
    t = np.array([0.0, 0.2])
    r, v = tles.position_velocity_ecef(t)
    assert r.shape == (2, 2, 3)
    # SGP4's analytic velocity itself differs from the derivative of its position by
    # about 1 m/s on this element set (measured on sgp4's own TEME output); the ECEF
    # rotation must add nothing to that
    fd = (r[:, 1] - r[:, 0]) / 0.2
    assert np.all(np.linalg.norm(fd - 0.5 * (v[:, 0] + v[:, 1]), axis=-1) < 2.0)
    r_teme, v_teme = tles.position_velocity_teme(t)
    fd_teme = (r_teme[:, 1] - r_teme[:, 0]) / 0.2
    np.testing.assert_allclose(
        np.linalg.norm(fd - 0.5 * (v[:, 0] + v[:, 1]), axis=-1),
        np.linalg.norm(fd_teme - 0.5 * (v_teme[:, 0] + v_teme[:, 1]), axis=-1),
        atol=0.05,
    )


def test_j2_moves_the_satellites_slowly():
    el = walker_delta(4, 2, 1, np.radians(60), 800e3)
    t = np.array([0.0, 3600.0])
    r0, _ = KeplerConstellation(el).position_velocity_ecef(t)
    r1, _ = KeplerConstellation(el, j2=True).position_velocity_ecef(t)
    assert np.all(r0[:, 0] == r1[:, 0])
    shift = np.linalg.norm(r1[:, 1] - r0[:, 1], axis=-1)
    assert np.all((shift > 1e3) & (shift < 1e6)), shift


def test_solve_kepler_batch():
    m = np.linspace(-10, 10, 41)
    e = np.array([[0.0], [0.3], [0.95]])
    big_e = solve_kepler(m, e)
    wrapped = (m + np.pi) % (2 * np.pi) - np.pi
    np.testing.assert_allclose(
        big_e - e * np.sin(big_e), np.broadcast_to(wrapped, big_e.shape), atol=1e-12
    )


def test_detection_needs_a_clear_line_of_sight_and_the_field_of_regard():
    layer = _layer()
    t = np.array([0.0])
    below = _below(layer, t)
    # the far side of the Earth
    lla = ecef_to_lla(below)
    lla[:, 1] += np.pi
    behind = lla_to_ecef(lla)
    pd = layer.detection_probability(_truth(t, np.stack([below, behind])))
    assert pd[0, 0] > 0.99 and pd[1, 0] == 0.0
    # a 5 deg off-nadir field of regard misses a target 10 deg of arc away
    narrow = _layer(max_off_nadir_rad=np.radians(5.0))
    off = _below(narrow, t, offset_lla=(np.radians(10.0), 0.0))
    assert narrow.detection_probability(_truth(t, off))[0, 0] == 0.0
    assert _layer().detection_probability(_truth(t, off))[0, 0] > 0.99


def test_cold_target_is_not_seen_and_boost_plume_is():
    layer = _layer()
    t = np.array([0.0, 1.0])
    r = _below(layer, t)
    # a zero signal is detected only as often as noise crosses the threshold, Q(6)
    assert np.all(layer.detection_probability(_truth(t, r, heat_flux=0.0)) < 1e-8)
    assert np.all(layer.detection_probability(_truth(t, r, heat_flux=0.0, phase=BOOST)) > 0.99)


def test_layer_probability_combines_satellites():
    layer = _layer(n_sat=6, nei_w_m2=5e-11)  # weak sensor: Pd strictly between 0 and 1
    t = np.linspace(0.0, 600.0, 13)
    r = _below(layer, t, alt_m=30e3)
    truth = _truth(t, r, heat_flux=3e5)
    per_sat = layer.satellite_detection_probability(truth)
    assert per_sat.shape == (6, 1, t.size)
    combined = layer.detection_probability(truth)
    np.testing.assert_allclose(combined, 1.0 - np.prod(1.0 - per_sat, axis=0), rtol=1e-12)
    assert np.any((combined > 0.01) & (combined < 0.99))


def test_detection_probability_zero_where_the_object_does_not_exist():
    layer = _layer()
    t = np.array([0.0, 1.0])
    truth = _truth(t, _below(layer, t))
    valid = truth.valid.copy()
    valid[0, 1] = False
    r = truth.r_ecef_m.copy()
    r[0, 1] = np.nan
    pd = layer.detection_probability(
        TruthSamples(
            truth.t,
            valid,
            r,
            truth.v_ecef_m_s,
            truth.alt_m,
            truth.mach,
            truth.dynamic_pressure_pa,
            truth.heat_flux_w_m2,
            truth.phase,
        )
    )
    assert pd[0, 0] > 0.99 and pd[0, 1] == 0.0


def test_observe_table_latency_marking_and_determinism():
    layer = _layer(n_sat=2, false_alarm_pixels=3e8)  # about 0.3 false alarms per frame
    target = lla_to_ecef(
        ecef_to_lla(layer.position_velocity_ecef([0.0])[0][0, 0]) * [1, 1, 0] + [0, 0, 40e3]
    )
    trajectory = _static_trajectory(target, 60.0)
    table = layer.observe(trajectory, np.random.default_rng(3))
    again = layer.observe(trajectory, np.random.default_rng(3))
    assert table.equals(again)
    assert tuple(table.column_names) == COLUMNS
    t = table.column("t").to_numpy()
    assert np.all(np.diff(t) >= 0)
    np.testing.assert_allclose(table.column("t_report").to_numpy() - t, 2.5)
    assert set(table.column("marking").to_pylist()) == {"REL TO USA, JPN"}
    assert set(table.column("node").to_pylist()) == {"USA"}
    assert set(table.column("sensor_id").to_pylist()) <= {"ir-00", "ir-01"}
    assert set(table.column("meas_type").to_pylist()) == {"los"}
    fa = table.column("false_alarm").to_numpy()
    truth_id = table.column("truth_id").to_numpy()
    assert fa.any() and np.all(truth_id[fa] == -1) and np.all(truth_id[~fa] == 0)
    # the satellite over the target sees it every frame (61 frames)
    assert np.sum(~fa) >= 61
    # reported angles point at the target from the reported satellite position
    rows, z, R = measurements(table, "los")
    sensor = np.column_stack(
        [table.column(c).to_numpy() for c in ("sensor_x", "sensor_y", "sensor_z")]
    )
    az, el = los_angles(sensor[~fa], target)
    d_az = (z[~fa, 0] - az + np.pi) % (2 * np.pi) - np.pi
    assert np.all(np.abs(d_az) < 6 * np.sqrt(R[~fa, 0, 0]))
    assert np.all(np.abs(z[~fa, 1] - el) < 6 * np.sqrt(R[~fa, 1, 1]))
    # a span with no frame gives an empty table
    assert layer.observe(trajectory, np.random.default_rng(0), 10.2, 10.7).num_rows == 0


# ----------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"angle_sigma_rad": -1e-6}, "angle_sigma_rad"),
        ({"nei_w_m2": 0.0}, "nei_w_m2"),
        ({"band_m": (5e-6, 3e-6)}, "band_m"),
        ({"earth_background_factor": 0.5}, "earth_background_factor"),
        ({"frame_period_s": 0.0}, "frame_period_s"),
        ({"max_off_nadir_rad": 2.0}, "max_off_nadir_rad"),
        ({"snr_threshold": float("nan")}, "snr_threshold"),
    ],
)
def test_payload_rejects_bad_values(kwargs, field):
    with pytest.raises(InputError, match=field):
        InfraredPayload(**kwargs)


def test_signature_rejects_bad_values():
    with pytest.raises(InputError, match="emissivity"):
        InfraredSignature(emissivity=1.2)
    with pytest.raises(InputError, match="hot_area_m2"):
        InfraredSignature(hot_area_m2=-1.0)


def test_unknown_node_is_rejected():
    with pytest.raises(InputError, match="node"):
        SpaceInfraredLayer(
            KeplerConstellation(walker_delta(1, 1, 0, 0.5, 1000e3)), Reporting("ir", "XXX")
        )


def test_satellite_below_150_km_is_rejected():
    with pytest.raises(InputError, match="altitude_m"):
        walker_delta(6, 2, 1, 0.9, 120e3)
    with pytest.raises(InputError, match="semi_major_axis_m"):
        KeplerianElements(
            np.array([WGS84_A_M + 500e3]),
            np.array([0.1]),
            np.zeros(1),
            np.zeros(1),
            np.zeros(1),
            np.zeros(1),
        )


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((24, 5, 1), "planes"),
        ((24, 6, 6), "phasing"),
        ((24.0, 6, 1), "total"),
    ],
)
def test_walker_rejects_bad_patterns(args, field):
    with pytest.raises(InputError, match=field):
        walker_delta(*args, inclination_rad=0.9, altitude_m=1000e3)


def test_elements_reject_bad_values():
    good = dict(
        semi_major_axis_m=np.array([7e6]),
        eccentricity=np.array([0.0]),
        inclination_rad=np.array([0.5]),
        raan_rad=np.zeros(1),
        arg_perigee_rad=np.zeros(1),
        mean_anomaly_rad=np.zeros(1),
    )
    with pytest.raises(InputError, match="eccentricity"):
        KeplerianElements(**{**good, "eccentricity": np.array([1.0])})
    with pytest.raises(InputError, match="inclination_rad"):
        KeplerianElements(**{**good, "inclination_rad": np.array([4.0])})
    with pytest.raises(InputError, match="raan_rad"):
        KeplerianElements(**{**good, "raan_rad": np.zeros(2)})


def test_tle_errors_name_the_element_set():
    line1, line2 = TLE_00005
    bad_checksum = line1[:68] + str((int(line1[68]) + 1) % 10)
    epoch = datetime(2000, 6, 28, tzinfo=UTC)
    with pytest.raises(InputError, match=r"tles\[1\] line 1: checksum"):
        TleConstellation((TLE_00005, (bad_checksum, line2)), epoch)
    with pytest.raises(InputError, match=r"tles\[0\] line 2"):
        TleConstellation(((line1, "2 garbage"),), epoch)
    with pytest.raises(InputError, match="epoch_utc"):
        TleConstellation((TLE_00005,), "2000-06-28")
    with pytest.raises(InputError, match="dut1_s"):
        TleConstellation((TLE_00005,), epoch, dut1_s=2.0)
