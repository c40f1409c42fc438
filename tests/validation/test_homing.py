"""Validation of :mod:`hyperdef.engagement.homing` against Zarchan's closed forms.

Source: P. Zarchan, *Tactical and Strategic Missile Guidance*, 6th ed., AIAA 2012:
ch. 2 (zero-lag PN acceleration ratio), ch. 3 (adjoints), ch. 4 and 6 (single
time-constant guidance system, normalised miss; the adjoint in the Laplace domain),
ch. 8 (augmented PN and the optimal law). VALIDATION.md, Guidance section, quotes the
N' = 3 and N' = 4 step-manoeuvre forms and the standard case.

Closed forms for N' = 5 and for heading error (derived here, not copied). For a single
lag 1/(1 + sT) the adjoint of the PN loop gives, in the Laplace variable s of the flight
time, miss(s) = u(s) (sT / (1 + sT))^N' with u = n_T / s^3 for a step manoeuvre and
u = -V_M HE / s^2 for a heading error (Zarchan ch. 6 does this for the step). With
a = 1/T, s^m / (s + a)^n = sum_k C(m, k) (-a)^(m - k) / (s + a)^(n - k) (binomial
expansion of s = (s + a) - a), each term inverting to t^(n-k-1) e^(-at) / (n-k-1)!, so
with x = t_F / T:

- step, m = N' - 3, miss / (n_T T^2):
  N' = 3: x^2 e^-x / 2;  N' = 4: (x^2/2 - x^3/6) e^-x;  N' = 5: (x^2/2 - x^3/3 + x^4/24) e^-x
- heading error, m = N' - 2, miss / (-V_M HE T):
  N' = 3: (x - x^2/2) e^-x;  N' = 4: (x - x^2 + x^3/6) e^-x;
  N' = 5: (x - 3x^2/2 + x^3/2 - x^4/24) e^-x

The N' = 3 and 4 step forms reproduce VALIDATION.md's, which checks the derivation.
The normalised misses cross zero, so every 1 % tolerance is taken relative to the peak
|normalised miss| over the x grid of the test (0.25 <= x <= 10), and said so in the
failure message.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hyperdef.engagement import (
    G0_M_S2,
    HomingLoop,
    acceleration_history,
    miss_adjoint,
    miss_forward,
)
from hyperdef.errors import InputError

FT_M = 0.3048
X = np.linspace(0.25, 10.0, 40)          # t_F / T
T_S = 1.0
N_T = 10.0                               # m/s^2
V_M, HE = 1000.0, 0.01                   # m/s, rad

STEP_CLOSED_FORMS = {
    3: lambda x: x**2 * np.exp(-x) / 2,
    4: lambda x: x**2 * np.exp(-x) * (1 - x / 3) / 2,
    5: lambda x: (x**2 / 2 - x**3 / 3 + x**4 / 24) * np.exp(-x),
}
HEADING_CLOSED_FORMS = {
    3: lambda x: (x - x**2 / 2) * np.exp(-x),
    4: lambda x: (x - x**2 + x**3 / 6) * np.exp(-x),
    5: lambda x: (x - 1.5 * x**2 + x**3 / 2 - x**4 / 24) * np.exp(-x),
}


def loop(law="pn", nav_ratio=4.0, tau_s=T_S, n_t=0.0, he=0.0) -> HomingLoop:
    return HomingLoop(law=law, nav_ratio=nav_ratio, time_constant_s=tau_s,
                      closing_speed_m_s=4000 * FT_M, missile_speed_m_s=V_M,
                      target_accel_m_s2=n_t, heading_error_rad=he)


def peak_relative_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.max(np.abs(got - want)) / np.max(np.abs(want)))


# --- zero-lag PN, step manoeuvre (Zarchan ch. 2) -----------------------------------------

@pytest.mark.parametrize("nav_ratio", [3, 4, 5])
def test_zero_lag_pn_acceleration_ratio(nav_ratio):
    """n_c/n_T = N'/(N'-2) [1 - (1 - t/t_F)^(N'-2)] within 1 % of its final value.

    Checked for t <= 0.99 t_F: beyond, n_c = N' ZEM / t_go^2 divides the integration
    error of a ZEM that tends to 0 by t_go^2.
    """
    tf = 10.0
    hist = acceleration_history(loop(nav_ratio=nav_ratio, tau_s=0.0, n_t=N_T), tf)
    k = nav_ratio / (nav_ratio - 2)
    want = k * (1 - (1 - hist.t_s / tf) ** (nav_ratio - 2))
    keep = hist.t_s <= 0.99 * tf
    err = np.max(np.abs(hist.command_accel_m_s2[keep] / N_T - want[keep])) / k
    assert err < 0.01, f"N'={nav_ratio}: zero-lag n_c/n_T off the ch. 2 closed form by {err:.2%}"
    assert np.allclose(hist.missile_accel_m_s2[keep], hist.command_accel_m_s2[keep])
    assert abs(hist.separation_m[-1]) < 1e-9 * N_T * tf**2, "zero-lag PN must not miss"


# --- single time constant: step manoeuvre and heading error (ch. 4, 6) -------------------

@pytest.mark.parametrize("nav_ratio", [3, 4, 5])
def test_step_manoeuvre_normalised_miss(nav_ratio):
    want = STEP_CLOSED_FORMS[nav_ratio](X)
    case = loop(nav_ratio=nav_ratio, n_t=N_T)
    scale = N_T * T_S**2
    fwd = miss_forward(case, X * T_S) / scale
    adj = miss_adjoint(case, X * T_S) / scale
    for name, got in (("forward", fwd), ("adjoint", adj)):
        err = peak_relative_error(got, want)
        assert err < 0.01, (f"N'={nav_ratio} step: {name} miss/(nT T^2) off the closed form "
                            f"by {err:.2%} of the peak normalised miss")
    err = peak_relative_error(fwd, adj)
    assert err < 1e-3, f"N'={nav_ratio} step: forward and adjoint differ by {err:.2e} of peak"


@pytest.mark.parametrize("nav_ratio", [3, 4, 5])
def test_heading_error_normalised_miss(nav_ratio):
    want = HEADING_CLOSED_FORMS[nav_ratio](X)
    case = loop(nav_ratio=nav_ratio, he=HE)
    scale = -V_M * HE * T_S
    fwd = miss_forward(case, X * T_S) / scale
    adj = miss_adjoint(case, X * T_S) / scale
    for name, got in (("forward", fwd), ("adjoint", adj)):
        err = peak_relative_error(got, want)
        assert err < 0.01, (f"N'={nav_ratio} heading error: {name} miss/(-VM HE T) off the "
                            f"closed form by {err:.2%} of the peak normalised miss")
    err = peak_relative_error(fwd, adj)
    assert err < 1e-3, f"N'={nav_ratio} HE: forward and adjoint differ by {err:.2e} of peak"


def test_both_inputs_superpose():
    both = miss_adjoint(loop(n_t=N_T, he=HE), X)
    parts = miss_adjoint(loop(n_t=N_T), X) + miss_adjoint(loop(he=HE), X)
    np.testing.assert_allclose(both, parts, rtol=0, atol=1e-9,
                               err_msg="the linear loop's misses must superpose")


def test_standard_case():
    """N' = 4, T = 1 s, V_c = 4,000 ft/s, 3 g, t_F = 10 s (VALIDATION.md): about -0.156 m."""
    case = loop(nav_ratio=4.0, n_t=3 * G0_M_S2)
    want = 10**2 * math.exp(-10) * (1 - 10 / 3) / 2 * 3 * G0_M_S2 * T_S**2
    fwd = float(miss_forward(case, 10.0)[0])
    adj = float(miss_adjoint(case, 10.0)[0])
    for name, got in (("forward", fwd), ("adjoint", adj)):
        assert abs(got - want) < 1e-3 * abs(want), (
            f"standard case: {name} miss {got:.6f} m, closed form {want:.6f} m")


# --- augmented PN and the optimal (ZEM) law (ch. 8) --------------------------------------

def test_apn_zero_lag_removes_miss_and_halves_the_command():
    """Zero lag: APN misses nothing and n_c/n_T = (N'/2)(1 - t/t_F)^(N'-2) (ch. 8).

    PN also misses nothing with zero lag; APN's gain is in the acceleration: it starts at
    N'/2 n_T and falls to 0 instead of rising to N'/(N'-2) n_T.
    """
    tf = 10.0
    assert np.all(np.abs(miss_forward(loop("apn", tau_s=0.0, n_t=N_T), X)) < 1e-9)
    hist = acceleration_history(loop("apn", nav_ratio=4.0, tau_s=0.0, n_t=N_T), tf)
    keep = hist.t_s <= 0.99 * tf
    want = 2.0 * (1 - hist.t_s[keep] / tf) ** 2
    err = np.max(np.abs(hist.command_accel_m_s2[keep] / N_T - want)) / 2.0
    assert err < 0.01, f"zero-lag APN n_c/n_T off (N'/2)(1 - t/tF)^(N'-2) by {err:.2%}"


def test_apn_with_lag_reduces_the_peak_miss_for_n3():
    """Single lag, N' = 3: the peak |miss|/(n_T T^2) over 0 < t_F/T <= 10 drops from
    2/e^2 = 0.271 (PN: x^2 e^-x / 2 peaks at x = 2) to about 0.147 with APN.

    (For N' = 5 APN's peak is larger than PN's; the reduction is not universal.)
    """
    x = np.linspace(0.05, 10.0, 200)
    pn = np.abs(miss_adjoint(loop("pn", 3.0, n_t=N_T), x)).max() / N_T
    apn = np.abs(miss_adjoint(loop("apn", 3.0, n_t=N_T), x)).max() / N_T
    assert abs(pn - 2 * math.exp(-2)) < 1e-3, f"PN N'=3 peak {pn:.4f}, expected 2/e^2"
    assert 0.4 * pn < apn < 0.7 * pn, f"APN peak {apn:.4f} not well below PN's {pn:.4f}"


@pytest.mark.parametrize("nav_ratio", [3.0, 4.0])
def test_zem_law_beats_pn_at_short_flight_times(nav_ratio):
    """t_F/T = 2-4: the optimal law, whose ZEM includes n_T and the lag, leaves (almost)
    no miss for a step manoeuvre or heading error; PN leaves a fraction of n_T T^2."""
    x = np.array([2.0, 2.5, 3.5, 4.0])
    pn = np.abs(miss_forward(loop("pn", nav_ratio, n_t=N_T, he=HE), x))
    zem = np.abs(miss_forward(loop("zem", nav_ratio, n_t=N_T, he=HE), x))
    assert np.all(pn > 0.01 * N_T), f"PN misses {pn} m unexpectedly small"
    assert np.all(zem < 1e-4 * pn), f"ZEM misses {zem} m not far below PN's {pn} m"
    np.testing.assert_allclose(miss_adjoint(loop("zem", n_t=N_T, he=HE), x), 0.0,
                               atol=1e-6, err_msg="ZEM adjoint miss not ~0")


# --- bad input ---------------------------------------------------------------------------

@pytest.mark.parametrize(("case", "times", "fragment"), [
    (loop(nav_ratio=0.0), [1.0], "nav_ratio: 0"),
    (loop(nav_ratio=-3.0), [1.0], "nav_ratio: -3"),
    (loop(tau_s=-1.0), [1.0], "time_constant_s: -1"),
    (loop(law="foo"), [1.0], "law: 'foo' is not one of pn, apn, zem"),
    (loop(), [0.0], "flight_times_s: 0"),
    (loop(), [5.0, -1.0], "flight_times_s: -1"),
    (HomingLoop(closing_speed_m_s=0.0), [1.0], "closing_speed_m_s: 0"),
    (HomingLoop(missile_speed_m_s=-5.0), [1.0], "missile_speed_m_s: -5"),
    (HomingLoop(target_accel_m_s2=float("nan")), [1.0], "target_accel_m_s2"),
])
def test_bad_input_is_named(case, times, fragment):
    for func in (miss_forward, miss_adjoint):
        with pytest.raises(InputError, match=None) as info:
            func(case, times)
        message = str(info.value)
        assert fragment in message and "\n" not in message, message


def test_bad_step_is_named():
    with pytest.raises(InputError, match="dt_s: 0"):
        miss_forward(loop(), [1.0], dt_s=0.0)
