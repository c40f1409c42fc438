"""Validation of the 3-DOF engagement simulation (issue: interceptors and homing guidance).

References: Zarchan, *Tactical and Strategic Missile Guidance*, 6th ed., AIAA 2012 (PN
against a non-manoeuvring target has zero miss with perfect information; against a
manoeuvring target APN and the optimal law need less acceleration than PN, ch. 8);
Wilson (1927) for the kill-probability intervals.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hyperdef.core.earth import G0_M_S2
from hyperdef.engagement.interceptor import GPI_CLASS, SM6_CLASS
from hyperdef.engagement.simulate import (
    EngagementOptions,
    closest_approach_in_step,
    engage,
    engage_terminal,
    terminal_start,
)
from hyperdef.threats import fly
from hyperdef.threats.trajectory import PHASE_CODE

DEFENDED = np.radians([26.2, 127.7, 0.0])


@pytest.fixture(scope="module")
def ballistic():
    return fly("ballistic", np.radians([33.0, 120.0, 0.0]), DEFENDED)


@pytest.mark.parametrize("interceptor", [GPI_CLASS, SM6_CLASS], ids=["gpi", "sm6"])
def test_pn_hits_a_ballistic_target_with_ideal_measurements(ballistic, interceptor):
    """Zarchan ch. 2: PN with perfect information nulls the miss of a non-manoeuvring target."""
    result = engage(interceptor, ballistic, site_lla=DEFENDED, t_launch_s=300.0,
                    options=EngagementOptions(law="pn", nav_ratio=4.0, ideal=True))
    assert result.status[0] == "hit", f"{interceptor.name}: {result.status[0]}"
    assert result.miss_m[0] < 1.0, f"{interceptor.name}: miss {result.miss_m[0]:.3f} m >= 1 m"
    assert np.isfinite(result.t_acquire_s[0]) and result.t_acquire_s[0] < result.t_intercept_s[0]


def test_closest_approach_is_exact_for_straight_relative_motion():
    """The cubic Hermite minimum reproduces |p0 x v| / |v| wherever the minimum falls."""
    rng = np.random.default_rng(3)
    p0 = rng.normal(0.0, 1000.0, (200, 3))
    v = rng.normal(0.0, 3000.0, (200, 3))
    t_min = -np.einsum("ij,ij->i", p0, v) / np.einsum("ij,ij->i", v, v)
    h = 0.01
    start = t_min - rng.uniform(0.0, h, 200)  # the minimum falls inside the step
    a = p0 + v * start[:, None]
    b = p0 + v * (start + h)[:, None]
    miss, s = closest_approach_in_step(a, v, b, v, h)
    exact = np.linalg.norm(np.cross(p0, v), axis=1) / np.linalg.norm(v, axis=1)
    np.testing.assert_allclose(miss, exact, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(start + s * h, t_min, atol=1e-9)


def test_miss_does_not_depend_on_the_step(ballistic):
    """A terminal run with a limited divert misses by the same distance at 100 and 200 Hz."""
    kv = dataclasses.replace(GPI_CLASS.kill_vehicle, max_divert_accel_m_s2=0.3 * G0_M_S2)
    weak = dataclasses.replace(GPI_CLASS, kill_vehicle=kv)
    r0, v0 = terminal_start(ballistic, 0, 350.0, time_to_go_s=8.0,
                            interceptor_speed_m_s=3000.0, heading_error_rad=np.radians(3.0))
    misses = []
    for dt in (0.01, 0.005):
        res = engage_terminal(weak, ballistic, t_start_s=350.0, r_ecef_m=r0, v_ecef_m_s=v0,
                              options=EngagementOptions(law="pn", ideal=True,
                                                        dt_terminal_s=dt))
        misses.append(res.miss_m[0])
    assert misses[0] > 10.0, "the case must miss to test the interpolation"
    assert abs(misses[0] - misses[1]) < 0.01 * misses[0], f"misses {misses}"


def test_apn_and_zem_beat_pn_against_a_weaving_glider():
    """500 draws against a weaving HGV with a 1 g divert limit (Zarchan ch. 8).

    The glider's S-turns make a target acceleration of several m/s^2 that changes slowly
    over the last seconds; PN lets it build a miss the limited divert cannot take out,
    while APN and the optimal law use the estimated target acceleration from the start.
    Kill probabilities with Wilson 95% intervals are printed (run with -s) and compared.
    """
    n_targets = 12
    weave_period_s = 150.0
    launches = np.arange(n_targets) * weave_period_s / n_targets
    hgv = fly("hgv", np.radians([40.0, 120.0, 0.0]), DEFENDED, maneuver="weave",
              t_launch_s=launches)
    gliding = hgv.t[(hgv.phase == PHASE_CODE["glide"]) & (hgv.object_index == n_targets - 1)]
    t_start = float(gliding.min()) + 30.0
    assert np.all(hgv.t[hgv.last_row] > t_start + 60.0)
    n = 500
    rng = np.random.default_rng(2026)
    target = rng.integers(0, n_targets, n)
    r0, v0 = terminal_start(hgv, target, t_start, time_to_go_s=12.0,
                            interceptor_speed_m_s=3500.0, heading_error_rad=np.radians(1.0),
                            rng=rng, n_draws=n)
    kv = dataclasses.replace(GPI_CLASS.kill_vehicle, max_divert_accel_m_s2=1.0 * G0_M_S2)
    interceptor = dataclasses.replace(GPI_CLASS, kill_vehicle=kv)
    pk = {}
    for law in ("pn", "apn", "zem"):
        res = engage_terminal(interceptor, hgv, target_index=target, t_start_s=t_start,
                              r_ecef_m=r0, v_ecef_m_s=v0,
                              options=EngagementOptions(law=law, nav_ratio=4.0),
                              rng=np.random.default_rng(7))
        assert set(res.status) <= {"hit", "miss"}, res.counts()
        pk[law] = res.kill_probability()
        print(f"{law}: Pk {pk[law][0]:.3f} (95% {pk[law][1]:.3f}-{pk[law][2]:.3f})")
    for law in ("apn", "zem"):
        assert pk[law][1] > pk["pn"][2], (
            f"{law} Pk {pk[law]} does not beat PN {pk['pn']} beyond the Wilson intervals")
