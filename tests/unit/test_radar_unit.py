"""Unit tests of the surface radar: platforms, field of regard, batches, reports, errors."""

import math

import numpy as np
import pyarrow.compute as pc
import pytest

from hyperdef.core.frames import aer_to_ecef, ecef_to_lla, lla_to_ecef
from hyperdef.errors import InputError
from hyperdef.sensors.base import Reporting, look_times
from hyperdef.sensors.detections import measurements, read_detections, write_detections
from hyperdef.sensors.radar import (
    FixedSite,
    Radar,
    RcsTable,
    ShipRoute,
    s_band_ship_radar,
    x_band_ground_radar,
)
from hyperdef.sensors.truth import TruthSamples
from hyperdef.threats import fly
from hyperdef.threats.trajectory import PHASE_CODE

DEG = math.pi / 180.0
SITE = FixedSite(35.0 * DEG, 139.0 * DEG, 50.0)
REPORTING = Reporting("radar-1", "JPN", ("USA",), report_latency_s=0.75)


def make_truth(r_ecef_m, v_ecef_m_s, t_s, phase="glide"):
    """TruthSamples of B objects at K times from (B, K, 3) positions and velocities."""
    r = np.asarray(r_ecef_m, dtype=float)
    v = np.broadcast_to(np.asarray(v_ecef_m_s, dtype=float), r.shape)
    shape = r.shape[:2]
    nan = np.full(shape, np.nan)
    return TruthSamples(
        t=np.asarray(t_s, dtype=float),
        valid=np.ones(shape, dtype=bool),
        r_ecef_m=r,
        v_ecef_m_s=v,
        alt_m=ecef_to_lla(r)[..., 2],
        mach=nan,
        dynamic_pressure_pa=nan,
        heat_flux_w_m2=nan,
        phase=np.full(shape, PHASE_CODE[phase]),
    )


def radar(**changes):
    base = dict(
        reporting=REPORTING,
        platform=SITE,
        revisit_s=5.0,
        max_range_m=800e3,
        snr_ref=100.0,
        range_ref_m=300e3,
        pfa=1e-6,
    )
    return Radar(**{**base, **changes})


def targets_at(site, aer):
    """ECEF positions of targets at (range, az, el) rows seen from a fixed site."""
    return aer_to_ecef(np.asarray(aer, dtype=float), [site.lat_rad, site.lon_rad, site.alt_m])


# ------------------------------------------------------------------ base helpers


def test_reporting_marking_and_latency():
    assert REPORTING.marking == "REL TO USA, JPN"
    assert Reporting("x", "USA").marking == "REL TO USA"
    assert Reporting("x", "GBR", ("AUS", "USA", "CAN")).marking == "REL TO USA, AUS, CAN, GBR"


def test_look_times_grid():
    np.testing.assert_allclose(look_times(0.0, 10.0, 2.5), [0.0, 2.5, 5.0, 7.5, 10.0])
    np.testing.assert_allclose(look_times(1.0, 9.0, 2.0, phase_s=0.5), [2.5, 4.5, 6.5, 8.5])
    # the grid does not depend on the span asked for
    np.testing.assert_allclose(look_times(3.1, 4.9, 0.1), np.round(np.arange(31, 50) * 0.1, 12))
    assert look_times(0.2, 0.3, 1.0).size == 0


# ---------------------------------------------------------------------- platforms


def test_fixed_site_position():
    r, v = SITE.position_velocity_ecef(np.array([0.0, 10.0, 20.0]))
    assert r.shape == v.shape == (3, 3)
    np.testing.assert_allclose(r, np.tile(lla_to_ecef([35 * DEG, 139 * DEG, 50.0]), (3, 1)))
    assert np.all(v == 0.0)


def test_ship_moves_along_route():
    lat = (26.0 * DEG, 26.0 * DEG, 28.0 * DEG)
    lon = (127.0 * DEG, 128.0 * DEG, 128.0 * DEG)
    route = ShipRoute(lat, lon, speed_m_s=15.0, t_start_s=100.0, antenna_height_m=25.0)
    u = np.column_stack(
        (np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(np.asarray(lat)))
    )
    leg1 = math.acos(np.dot(u[0], u[1])) * 6371008.8
    leg2 = math.acos(np.dot(u[1], u[2])) * 6371008.8
    assert route.length_m == pytest.approx(leg1 + leg2, rel=1e-12)
    mid = (u[0] + u[1]) / np.linalg.norm(u[0] + u[1])
    times = np.array([0.0, 100.0, 100.0 + 0.5 * leg1 / 15.0, 100.0 + leg1 / 15.0, 1e6], dtype=float)
    lla = route.lla_at(times)
    expected_latlon = [
        (lat[0], lon[0]),
        (lat[0], lon[0]),
        (math.asin(mid[2]), math.atan2(mid[1], mid[0])),
        (lat[1], lon[1]),
        (lat[2], lon[2]),
    ]
    np.testing.assert_allclose(lla[:, :2], expected_latlon, atol=1e-12)
    assert np.all(lla[:, 2] == 25.0)
    r, v = route.position_velocity_ecef(times)
    np.testing.assert_allclose(r, lla_to_ecef(lla))
    speed = np.linalg.norm(v, axis=1)
    np.testing.assert_allclose(speed, [0.0, 15.0, 15.0, 15.0, 0.0], atol=1e-9)
    # velocity is the time derivative of the position (sphere-to-ellipsoid mapping:
    # agreement to a few tenths of a percent)
    t_mid = times[2]
    r_plus, _ = route.position_velocity_ecef(np.array([t_mid + 1.0]))
    r_minus, _ = route.position_velocity_ecef(np.array([t_mid - 1.0]))
    finite_difference = (r_plus[0] - r_minus[0]) / 2.0
    np.testing.assert_allclose(finite_difference, v[2], atol=0.01 * 15.0)


def test_ship_radar_reports_its_moving_position():
    route = ShipRoute((26.0 * DEG, 26.0 * DEG), (127.0 * DEG, 129.0 * DEG), speed_m_s=20.0)
    ship = s_band_ship_radar(REPORTING, route=route)
    t = np.array([0.0, 600.0, 1200.0])
    target = targets_at(FixedSite(26.0 * DEG, 128.0 * DEG), [[50e3, 0.5, 0.3]] * 3)[None]
    table = ship.detect(make_truth(target, [0.0, 0.0, 0.0], t), np.random.default_rng(3))
    rows = table.filter(pc.invert(table["false_alarm"]))
    sensor = np.column_stack([rows[c].to_numpy() for c in ("sensor_x", "sensor_y", "sensor_z")])
    expected, velocity = ship.position_velocity_ecef(rows["t"].to_numpy())
    np.testing.assert_allclose(sensor, expected)
    assert np.all(np.linalg.norm(velocity, axis=1) == pytest.approx(20.0))


# ------------------------------------------------------------ coverage and batches


def test_field_of_regard_and_range():
    east_face = radar(
        boresight_az_rad=90 * DEG,
        az_half_width_rad=45 * DEG,
        el_min_rad=5 * DEG,
        el_max_rad=60 * DEG,
    )
    aer = [
        [200e3, 90 * DEG, 30 * DEG],  # in
        [200e3, 130 * DEG, 30 * DEG],  # inside the 45 deg half-width
        [200e3, 140 * DEG, 30 * DEG],  # beyond it
        [200e3, 0.0, 30 * DEG],  # north: out
        [200e3, 90 * DEG, 2 * DEG],  # below el_min
        [200e3, 90 * DEG, 70 * DEG],  # above el_max
        [900e3, 90 * DEG, 30 * DEG],  # beyond the instrumented range
    ]
    r = targets_at(SITE, aer)[:, None, :]
    pd = east_face.detection_probability(make_truth(r, [0.0, 0.0, 0.0], [0.0]))[:, 0]
    assert np.all(pd[:2] > 0.5)
    assert np.all(pd[2:] == 0.0)
    # a rotator sees all round
    pd_all = radar(el_max_rad=80 * DEG).detection_probability(
        make_truth(r, [0.0, 0.0, 0.0], [0.0])
    )[:, 0]
    assert np.all(pd_all[:4] > 0.5) and pd_all[4] > 0.5 and pd_all[6] == 0.0


def test_below_horizon_is_not_detected():
    low = radar(el_min_rad=-10 * DEG)
    # 500 km east along the parallel: 1 km altitude is below the 4/3 horizon, 100 km above
    lon = SITE.lon_rad + 500e3 / (6378137.0 * math.cos(SITE.lat_rad))
    r = lla_to_ecef([[SITE.lat_rad, lon, 1e3], [SITE.lat_rad, lon, 100e3]])[:, None, :]
    pd = low.detection_probability(make_truth(r, [0.0, 0.0, 0.0], [0.0]))[:, 0]
    assert pd[0] == 0.0 and pd[1] > 0.0


def test_batch_matches_single():
    rng = np.random.default_rng(11)
    k = 7
    aer = np.column_stack(
        (
            rng.uniform(50e3, 700e3, 4 * k),
            rng.uniform(0, 2 * np.pi, 4 * k),
            rng.uniform(0.01, 1.2, 4 * k),
        )
    )
    r = targets_at(SITE, aer).reshape(4, k, 3)
    v = rng.normal(0.0, 2000.0, (4, k, 3))
    t = np.arange(k) * 5.0
    kinds = np.array(["hgv", "ballistic", "hcm", "unknown"], dtype=object)
    sensor = radar()
    batch = sensor.detection_probability(make_truth(r, v, t), kind=kinds)
    for b in range(4):
        single = sensor.detection_probability(
            make_truth(r[b : b + 1], v[b : b + 1], t), kind=kinds[b]
        )
        np.testing.assert_array_equal(batch[b : b + 1], single)
    assert batch.shape == (4, k) and np.all(batch > 0.0)


def test_rcs_by_kind_and_aspect():
    table = RcsTable((0.0, math.pi / 2, math.pi), (0.01, 1.0, 0.1))
    np.testing.assert_allclose(
        table.rcs_at([0.0, math.pi / 4, math.pi / 2, math.pi]), [0.01, 0.1, 1.0, 0.1]
    )
    sensor = radar(rcs_by_kind=(("hgv", table),))
    r = targets_at(SITE, [[300e3, 0.3, 0.2]])
    toward = -1000.0 * (r[0] - sensor.position_velocity_ecef([0.0])[0][0]) / 300e3
    truth = make_truth(r[:, None, :], toward[None, None, :], [0.0])
    nose_on = sensor.detection_probability(truth, kind="hgv")[0, 0]
    reference = sensor.detection_probability(truth)[0, 0]  # unknown kind: rcs_ref_m2
    assert nose_on == pytest.approx(sensor.pfa ** (1 / (1 + 100.0 * 0.01)))
    assert reference == pytest.approx(sensor.pfa ** (1 / (1 + 100.0)))
    boost = make_truth(r[:, None, :], toward[None, None, :], [0.0], phase="boost")
    boost_pd = radar().detection_probability(boost, kind="hgv")[0, 0]
    assert boost_pd == pytest.approx(sensor.pfa ** (1 / (1 + 100.0 * 0.5)))  # booster nose-on


# ------------------------------------------------------------------ false alarms


def test_false_alarm_count_matches_expectation():
    sensor = radar(
        boresight_az_rad=200 * DEG, az_half_width_rad=30 * DEG, el_max_rad=40 * DEG, pfa=2e-8
    )
    expected = sensor.expected_false_alarms_per_scan
    cells = (800e3 / 25.0) * (60 / 1.7) * (40 / 1.7)
    assert sensor.resolution_cells == pytest.approx(cells)
    assert expected == pytest.approx(2e-8 * cells)
    k = 4000
    empty = make_truth(np.zeros((0, k, 3)), np.zeros((0, k, 3)), np.arange(k) * 5.0)
    table = sensor.detect(empty, np.random.default_rng(5))
    assert table.num_rows > 0
    assert np.all(table["false_alarm"].to_numpy()) and np.all(table["truth_id"].to_numpy() == -1)
    counts = np.bincount(np.searchsorted(empty.t, table["t"].to_numpy()), minlength=k)
    assert abs(counts.mean() - expected) < 4.0 * math.sqrt(expected / k), (counts.mean(), expected)
    assert counts.var() == pytest.approx(expected, rel=0.15)  # Poisson: variance = mean
    _, z, _ = measurements(table, "raer")
    off = (z[:, 1] - 200 * DEG + np.pi) % (2 * np.pi) - np.pi
    assert np.all((z[:, 0] >= 0) & (z[:, 0] <= 800e3))
    assert np.all(np.abs(off) <= 30 * DEG + 1e-12)
    assert np.all((z[:, 2] >= 0) & (z[:, 2] <= 40 * DEG))


# -------------------------------------------------------- observe a real trajectory


@pytest.fixture(scope="module")
def flights():
    launch = np.radians([30.0, 120.0, 0.0])
    aim = np.radians([26.2, 127.7, 0.0])
    return {kind: fly(kind, launch, aim) for kind in ("ballistic", "hgv")}


def test_observe_reports_and_parquet_round_trip(flights, tmp_path):
    ship = s_band_ship_radar(REPORTING, 26.2, 127.7)
    table = ship.observe(flights["hgv"], np.random.default_rng(2))
    assert table.num_rows > 0
    t = table["t"].to_numpy()
    assert np.all(np.diff(t) >= 0)
    np.testing.assert_allclose(table["t_report"].to_numpy(), t + 0.75)
    assert set(table["meas_type"].to_pylist()) == {"raer"}
    assert set(table["marking"].to_pylist()) == {"REL TO USA, JPN"}
    assert set(table["node"].to_pylist()) == {"JPN"}
    real = ~table["false_alarm"].to_numpy()
    assert set(table["truth_id"].to_numpy()[real]) == {0}
    assert np.all(np.isfinite(table["snr"].to_numpy()))
    # scans on the revisit grid
    np.testing.assert_allclose(t % ship.revisit_s, 0.0, atol=1e-9)
    path = tmp_path / "detections.parquet"
    write_detections(table, path)
    assert read_detections(path).equals(table)


def test_observe_is_reproducible_and_spans(flights):
    ship = s_band_ship_radar(REPORTING, 26.2, 127.7)
    first = ship.observe(flights["hgv"], np.random.default_rng(9), t_start_s=200.0, t_end_s=300.0)
    again = ship.observe(flights["hgv"], np.random.default_rng(9), t_start_s=200.0, t_end_s=300.0)
    assert first.equals(again)
    t = first["t"].to_numpy()
    assert t.min() >= 200.0 and t.max() <= 300.0


def first_detection(table):
    real = table.filter(pc.invert(table["false_alarm"]))
    rows, z, _ = measurements(real, "raer")
    order = np.argmin(real["t"].to_numpy())
    return real["t"].to_numpy()[order], z[order, 0]


def test_ship_radar_sees_the_ballistic_missile_first(flights):
    """S-band ship radar off Okinawa, threats launched from 30N 120E (866 km away).

    Both boosters climb above the ship's 4/3-Earth horizon while burning; the ballistic
    missile's steeper, higher climb clears it about 25 s sooner and farther out.
    After burnout the small payloads fade (0.01-0.05 m^2 nose-on) until a few hundred km.
    """
    ship = s_band_ship_radar(REPORTING, 26.2, 127.7)
    t_ballistic, range_ballistic = first_detection(
        ship.observe(flights["ballistic"], np.random.default_rng(1))
    )
    t_hgv, range_hgv = first_detection(ship.observe(flights["hgv"], np.random.default_rng(1)))
    assert range_ballistic > 750e3, range_ballistic
    assert t_ballistic < 95.0, t_ballistic
    assert t_hgv > t_ballistic + 15.0, (t_hgv, t_ballistic)


# ------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: FixedSite(35 * DEG, 139 * DEG, 12_000.0), "alt_m"),
        (lambda: FixedSite(35 * DEG, 139 * DEG, -600.0), "alt_m"),
        (lambda: FixedSite(95 * DEG, 139 * DEG), "lat_rad"),
        (lambda: ShipRoute((0.1,), (0.2,), 10.0, antenna_height_m=-5.0), "antenna_height_m"),
        (lambda: ShipRoute((0.1, 0.2), (0.2,), 10.0), "waypoints_lon_rad"),
        (lambda: ShipRoute((0.1,), (0.2,), -1.0), "speed_m_s"),
        (lambda: radar(range_sigma_floor_m=-1.0), "range_sigma_floor_m"),
        (lambda: radar(angle_sigma_floor_rad=-1e-3), "angle_sigma_floor_rad"),
        (lambda: radar(range_rate_sigma_floor_m_s=-0.1), "range_rate_sigma_floor_m_s"),
        (lambda: radar(el_min_rad=0.5, el_max_rad=0.2), "el_min_rad"),
        (lambda: radar(revisit_s=0.0), "revisit_s"),
        (lambda: radar(revisit_s=-2.0), "revisit_s"),
        (lambda: radar(pfa=0.0), "pfa"),
        (lambda: radar(pfa=1.5), "pfa"),
        (lambda: radar(bias=(1.0, 2.0)), "bias"),
        (lambda: Reporting("r", "XXX"), "node"),
        (lambda: Reporting("r", "USA", ("ZZZ",)), "releasable_to"),
        (lambda: Reporting("r", "USA", report_latency_s=-1.0), "report_latency_s"),
        (lambda: Reporting("", "USA"), "sensor_id"),
        (lambda: look_times(0.0, 10.0, 0.0), "period_s"),
        (lambda: s_band_ship_radar(REPORTING), "route"),
        (lambda: s_band_ship_radar(REPORTING, 26.0, 127.0, beam_deg=2.0), "beam_deg"),
        (lambda: x_band_ground_radar(REPORTING, 40.0, 140.0, 270.0, alt_m=9500.0), "alt_m"),
        (lambda: RcsTable((0.0, 1.0), (1.0,)), "rcs_m2"),
    ],
)
def test_bad_input_names_the_field(build, field):
    with pytest.raises(InputError, match=field):
        build()


def test_presets_are_consistent():
    ship = s_band_ship_radar(REPORTING, 26.2, 127.7)
    tpy = x_band_ground_radar(REPORTING, 40.8, 140.3, 270.0)
    for sensor in (ship, tpy):
        assert sensor.kind == "radar"
        # Pd 0.9 on the reference target at the reference range
        r = targets_at(sensor.platform, [[sensor.range_ref_m, sensor.boresight_az_rad, 0.2]])
        pd = sensor.detection_probability(make_truth(r[:, None, :], [0.0, 0.0, 0.0], [0.0]))
        assert pd[0, 0] == pytest.approx(0.9)
        assert 0.5 < sensor.expected_false_alarms_per_scan < 20.0
    assert (
        tpy.detection_probability(
            make_truth(targets_at(tpy.platform, [[1000e3, 0.0, 0.2]])[:, None], [0, 0, 0], [0.0])
        )[0, 0]
        == 0.0
    )  # behind the face (boresight west)
