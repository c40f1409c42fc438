"""Interceptor classes, fly-out fans and engagement records."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from hyperdef.core.earth import G0_M_S2
from hyperdef.core.frames import ecef_to_lla, lla_to_ecef
from hyperdef.engagement.flight import InterceptorFlight
from hyperdef.engagement.flyout import build_flyout_table, fly_fan, flyout_table
from hyperdef.engagement.interceptor import GPI_CLASS, SM6_CLASS, check_interceptor
from hyperdef.engagement.simulate import (
    STATUSES,
    EngagementOptions,
    engage,
    engage_terminal,
    terminal_start,
    wilson_interval,
)
from hyperdef.errors import InputError
from hyperdef.threats import fly

DEFENDED = np.radians([26.2, 127.7, 0.0])


@pytest.fixture(scope="module")
def ballistic():
    return fly("ballistic", np.radians([33.0, 120.0, 0.0]), DEFENDED)


def test_stages_drop_to_the_kill_vehicle_mass():
    """After every burnout the mass left is exactly the kill vehicle's."""
    t, _, _, _ = fly_fan(GPI_CLASS, np.radians([45.0]), t_max_s=GPI_CLASS.burnout_time_s + 1)
    n = 1
    flight = InterceptorFlight(GPI_CLASS, np.array([[6.4e6, 0, 0]]), np.array([[30.0, 0, 0]]),
                               np.full(n, GPI_CLASS.launch_mass_kg), np.zeros(n))
    schedule = flight.schedule
    mass = GPI_CLASS.launch_mass_kg - np.sum([s.propellant_mass_kg + s.inert_mass_kg
                                              for s in GPI_CLASS.stages])
    assert math.isclose(mass, GPI_CLASS.kill_vehicle.mass_kg)
    assert schedule.end_s[-1] == pytest.approx(GPI_CLASS.burnout_time_s)
    assert t[-1] == pytest.approx(GPI_CLASS.burnout_time_s + 1)


@pytest.mark.parametrize(("interceptor", "low", "high"),
                         [(GPI_CLASS, 4_000.0, 5_200.0), (SM6_CLASS, 1_100.0, 1_700.0)],
                         ids=["gpi", "sm6"])
def test_burnout_speed_matches_the_open_figures(interceptor, low, high):
    """GPI-class near the 4.5 km/s of SM-3 IIA; SM-6-class near Mach 3.5-4 (RESULTS cited)."""
    t, _, _, speed = fly_fan(interceptor, np.radians([45.0]),
                             t_max_s=interceptor.burnout_time_s)
    assert low < speed[-1, 0] < high, f"{interceptor.name}: burnout {speed[-1, 0]:.0f} m/s"
    assert speed[-1, 0] < interceptor.ideal_delta_v_m_s()


def test_fan_times_grow_with_range_and_the_cache_returns_the_table(tmp_path, monkeypatch):
    monkeypatch.setenv("HYPERDEF_CACHE_DIR", str(tmp_path))
    flyout_table.cache_clear()
    table = flyout_table(SM6_CLASS)
    assert list(tmp_path.glob("flyout-*.npz")), "table not cached on disk"
    near, far = table.time_to([40e3, 150e3], [20e3, 20e3])
    assert 0 < near < far
    assert not table.reachable(400e3, 20e3)
    assert 200e3 < table.max_range_m < 300e3
    flyout_table.cache_clear()
    again = flyout_table(SM6_CLASS)  # read back from disk
    np.testing.assert_array_equal(again.time_s, table.time_s)
    assert flyout_table(SM6_CLASS) is again
    fresh = build_flyout_table(SM6_CLASS, n_elevations=87)
    assert abs(fresh.time_to(150e3, 20e3) - far) < 2.0


def test_every_status_comes_back_as_a_record(ballistic):
    """Outcomes are records, never exceptions (STYLE 8)."""
    far = engage(SM6_CLASS, ballistic, site_lla=np.radians([10.0, 150.0, 0.0]), t_launch_s=0.0,
                 options=EngagementOptions(ideal=True))
    assert far.status[0] == "out_of_envelope" and np.isnan(far.miss_m[0])

    blind = dataclasses.replace(GPI_CLASS, seeker=dataclasses.replace(
        GPI_CLASS.seeker, acquisition_range_m=1.0))
    r0, v0 = terminal_start(ballistic, 0, 350.0, time_to_go_s=8.0, interceptor_speed_m_s=3000.0,
                            heading_error_rad=np.radians(2.0))
    res = engage_terminal(blind, ballistic, t_start_s=350.0, r_ecef_m=r0, v_ecef_m_s=v0,
                          options=EngagementOptions(ideal=True))
    assert res.status[0] == "seeker_never_acquired"

    dry = dataclasses.replace(GPI_CLASS, kill_vehicle=dataclasses.replace(
        GPI_CLASS.kill_vehicle, divert_propellant_kg=0.05))
    r0, v0 = terminal_start(ballistic, 0, 350.0, time_to_go_s=8.0, interceptor_speed_m_s=3000.0,
                            heading_error_rad=np.radians(10.0))
    res = engage_terminal(dry, ballistic, t_start_s=350.0, r_ecef_m=r0, v_ecef_m_s=v0,
                          options=EngagementOptions(ideal=True))
    assert res.status[0] == "out_of_propellant"
    assert res.divert_used_kg[0] == pytest.approx(0.05)

    table = res.to_table()
    assert table.column_names[:3] == ["draw", "target_index", "t_launch"]
    assert set(res.counts()) == set(STATUSES)


def test_a_flight_ends_when_its_target_path_ends(ballistic):
    """A kill vehicle 30 km above a re-entry vehicle 10 s before impact cannot catch it:
    its flight stops at the impact, out of envelope, instead of chasing the truth's last
    state (held) until it falls to the ground itself (46 s after the impact)."""
    end = float(ballistic.t[-1])
    t_start = end - 10.0
    r_t, v_t, _ = ballistic.state_at(np.array([0]), np.array([t_start]))
    lla = ecef_to_lla(r_t)[0]
    r0 = lla_to_ecef(np.array([[lla[0], lla[1], lla[2] + 30e3]]))
    res = engage_terminal(GPI_CLASS, ballistic, t_start_s=t_start, r_ecef_m=r0,
                          v_ecef_m_s=0.2 * v_t, options=EngagementOptions(ideal=True))
    assert res.status[0] == "out_of_envelope"
    assert res.t_intercept_s[0] <= end + 1e-9, "closest approach after the target's impact"
    assert res.steps[0] <= 10.0 / EngagementOptions().dt_terminal_s + 2


def test_batch_of_draws_equals_single_runs(ballistic):
    rng = np.random.default_rng(5)
    r0, v0 = terminal_start(ballistic, 0, 350.0, time_to_go_s=6.0, interceptor_speed_m_s=3000.0,
                            heading_error_rad=np.radians(1.0), rng=rng, n_draws=3)
    opts = EngagementOptions(law="apn", ideal=True)
    batch = engage_terminal(GPI_CLASS, ballistic, t_start_s=350.0, r_ecef_m=r0, v_ecef_m_s=v0,
                            options=opts)
    for i in range(3):
        one = engage_terminal(GPI_CLASS, ballistic, t_start_s=350.0, r_ecef_m=r0[i:i + 1],
                              v_ecef_m_s=v0[i:i + 1], options=opts)
        assert one.miss_m[0] == pytest.approx(batch.miss_m[i], abs=1e-6)


def test_wilson_interval_matches_the_textbook_value():
    """Wilson (1927): 8 of 10 at 95% gives about (0.490, 0.943)."""
    p, low, high = wilson_interval(8, 10)
    assert p == 0.8
    assert low == pytest.approx(0.4902, abs=1e-3) and high == pytest.approx(0.9433, abs=1e-3)


@pytest.mark.parametrize(("change", "field"), [
    (lambda ic: dataclasses.replace(ic, time_constant_s=-0.1), "time_constant_s"),
    (lambda ic: dataclasses.replace(ic, stages=(dataclasses.replace(
        ic.stages[0], propellant_mass_kg=0.0),) + ic.stages[1:]), "propellant_mass_kg"),
    (lambda ic: dataclasses.replace(ic, kill_vehicle=dataclasses.replace(
        ic.kill_vehicle, max_divert_accel_m_s2=0.0)), "max_divert_accel_m_s2"),
    (lambda ic: dataclasses.replace(ic, kill_vehicle=dataclasses.replace(
        ic.kill_vehicle, divert_propellant_kg=0.0)), "divert_propellant_kg"),
    (lambda ic: dataclasses.replace(ic, stages=()), "stages"),
    (lambda ic: dataclasses.replace(ic, seeker=dataclasses.replace(
        ic.seeker, angle_noise_rad=-1e-6)), "angle_noise_rad"),
])
def test_bad_interceptors_are_refused_by_name(change, field):
    with pytest.raises(InputError, match=field):
        check_interceptor(change(GPI_CLASS))


@pytest.mark.parametrize(("options", "field"), [
    (EngagementOptions(nav_ratio=0.0), "nav_ratio"),
    (EngagementOptions(nav_ratio=-3.0), "nav_ratio"),
    (EngagementOptions(law="lead"), "law"),
    (EngagementOptions(dt_terminal_s=0.0), "dt_terminal_s"),
    (EngagementOptions(los_filter_memory=1.0), "los_filter_memory"),
])
def test_bad_options_are_refused_by_name(ballistic, options, field):
    with pytest.raises(InputError, match=field):
        engage(GPI_CLASS, ballistic, site_lla=DEFENDED, t_launch_s=300.0, options=options,
               rng=np.random.default_rng(0))


def test_bad_target_index_is_refused(ballistic):
    with pytest.raises(InputError, match="target_index"):
        engage(GPI_CLASS, ballistic, target_index=3, site_lla=DEFENDED, t_launch_s=300.0,
               options=EngagementOptions(ideal=True))


def test_divert_budget_follows_the_rocket_equation():
    kv = GPI_CLASS.kill_vehicle
    expected = kv.divert_isp_s * G0_M_S2 * math.log(kv.mass_kg / (kv.mass_kg - 8.0))
    assert kv.divert_delta_v_m_s == pytest.approx(expected)
    assert SM6_CLASS.kill_vehicle.divert_delta_v_m_s == math.inf


def test_aero_limit_follows_dynamic_pressure_and_thrusters_do_not():
    """Fleeman ch. 2: q S C_N,max / m, capped by the load limit; divert thrust is altitude-free."""
    from hyperdef.core.atmosphere import ussa76
    from hyperdef.core.frames import lla_to_ecef

    alts = np.array([5e3, 20e3, 30e3, 60e3])
    r = lla_to_ecef(np.column_stack([np.zeros(4), np.zeros(4), alts]))
    v = np.tile([0.0, 1500.0, 0.0], (4, 1))
    kv_sm6 = SM6_CLASS.kill_vehicle.mass_kg
    sm6 = InterceptorFlight(SM6_CLASS, r, v, np.full(4, kv_sm6),
                            np.full(4, -SM6_CLASS.burnout_time_s))
    got = sm6.available_accel(0.0, np.arange(4))
    rho = np.asarray(ussa76(alts).density)
    af = SM6_CLASS.airframe
    expected = np.minimum(0.5 * rho * 1500.0**2 * af.ref_area_m2 * af.cn_max / kv_sm6,
                          SM6_CLASS.kill_vehicle.max_divert_accel_m_s2)
    np.testing.assert_allclose(got, expected, rtol=1e-4)
    assert got[0] == pytest.approx(SM6_CLASS.kill_vehicle.max_divert_accel_m_s2)
    assert got[3] < 0.05 * got[0]

    kv = GPI_CLASS.kill_vehicle
    gpi = InterceptorFlight(GPI_CLASS, r, v, np.full(4, kv.mass_kg),
                            np.full(4, -GPI_CLASS.burnout_time_s))
    np.testing.assert_allclose(gpi.available_accel(0.0, np.arange(4)),
                               kv.max_divert_accel_m_s2)
