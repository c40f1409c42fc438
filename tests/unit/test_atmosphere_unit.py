"""Unit and property tests for ``hyperdef.core.atmosphere``."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyperdef.core import atmosphere
from hyperdef.core.atmosphere import (
    ALT_MIN_M,
    G0_M_S2,
    R0_M,
    AtmosphereState,
    altitude_for_density,
    density_fast,
    density_log_slope_fast,
    geopotential_to_geometric,
    ussa76,
    ussa76_fast,
)
from hyperdef.errors import InputError

FIELDS = ("temperature", "pressure", "density", "speed_of_sound")
# Geometric altitudes where the layered model's temperature gradient changes.
LAYER_BOUNDARIES_M = [
    float(z) for z in geopotential_to_geometric([11e3, 20e3, 32e3, 47e3, 51e3, 71e3])
]


def _relative_jump(alt_m: float, half_gap_m: float = 1e-6) -> dict[str, float]:
    below = ussa76(alt_m - half_gap_m)
    above = ussa76(alt_m + half_gap_m)
    return {f: abs(float(getattr(above, f)) / float(getattr(below, f)) - 1.0) for f in FIELDS}


# --- shapes and the dataclass ---------------------------------------------------------


def test_scalar_gives_zero_dimensional_arrays():
    state = ussa76(10_000.0)
    for field in FIELDS:
        value = getattr(state, field)
        assert isinstance(value, np.ndarray) and value.shape == (), field


@pytest.mark.parametrize("shape", [(1,), (5,), (3, 4), (2, 1, 3)])
def test_array_shape_is_preserved(shape):
    alt_m = np.linspace(-4e3, 3e5, int(np.prod(shape))).reshape(shape)
    state = ussa76(alt_m)
    for field in FIELDS:
        assert getattr(state, field).shape == shape, field
    density, sound = ussa76_fast(alt_m)
    assert density.shape == shape and sound.shape == shape
    assert altitude_for_density(state.density).shape == shape


def test_batch_agrees_with_single_evaluations():
    alt_m = [-5e3, 0.0, 11e3, 50e3, 85e3, 86e3, 95e3, 120e3, 400e3]
    batch = ussa76(alt_m)
    for i, z in enumerate(alt_m):
        single = ussa76(z)
        for field in FIELDS:
            assert float(getattr(single, field)) == getattr(batch, field)[i], (z, field)


def test_integer_and_list_inputs_are_accepted():
    np.testing.assert_array_equal(ussa76([0, 1000]).density, ussa76(np.array([0.0, 1e3])).density)


def test_input_array_is_not_modified():
    alt_m = np.array([-9e3, 1e3])
    ussa76(alt_m)
    np.testing.assert_array_equal(alt_m, [-9e3, 1e3])


def test_state_is_a_frozen_slotted_dataclass():
    state = ussa76(0.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.density = np.array(1.0)  # type: ignore[misc]
    assert not hasattr(state, "__dict__")
    assert isinstance(state, AtmosphereState)


# --- validation at the boundary -------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, [0.0, np.nan], "high"])
def test_non_finite_or_non_numeric_altitude_raises_input_error(bad):
    with pytest.raises(InputError, match=r"^alt_m: ") as info:
        ussa76(bad)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan, np.inf, [1e-3, 0.0], "dense"])
def test_bad_density_raises_input_error(bad):
    with pytest.raises(InputError, match=r"^rho_kg_m3: ") as info:
        altitude_for_density(bad)
    assert "\n" not in str(info.value)


def test_input_error_is_a_value_error():
    with pytest.raises(ValueError):
        ussa76(float("nan"))


# --- range behaviour ------------------------------------------------------------------


def test_below_minus_5km_is_clipped():
    deep = ussa76([-5e3, -6e3, -1e6])
    for field in FIELDS:
        values = getattr(deep, field)
        assert values[1] == values[0] and values[2] == values[0], field


def test_negative_altitudes_extend_the_first_layer():
    # -5 km geometric: Tm = 288.15 + 6.5 K/km' * 5.004 km' = 320.676 K (Table 4 layer 0).
    assert float(ussa76(-5e3).temperature) == pytest.approx(320.676, abs=1e-3)


def test_pressure_and_density_decrease_strictly_from_minus_5_to_1000km():
    state = ussa76(np.linspace(ALT_MIN_M, 1e6, 201_001))  # 5 m steps
    assert np.all(np.diff(state.pressure) < 0.0)
    assert np.all(np.diff(state.density) < 0.0)


def test_values_are_finite_and_positive_up_to_2000km():
    state = ussa76(np.linspace(-10e3, 2e6, 40_001))
    for field in FIELDS:
        values = getattr(state, field)
        assert np.all(np.isfinite(values)) and np.all(values > 0.0), field


# --- continuity -----------------------------------------------------------------------


@pytest.mark.parametrize("alt_m", [*LAYER_BOUNDARIES_M, 80e3])
def test_continuous_across_layer_boundaries(alt_m):
    jumps = _relative_jump(alt_m)
    assert max(jumps.values()) < 1e-6, f"jump at {alt_m:.3f} m: {jumps}"


@pytest.mark.parametrize("alt_m", [91e3, 110e3])
def test_continuous_across_temperature_segment_joins_above_86km(alt_m):
    # The document's ellipse constants (Tc, A, a to 4 decimals) reach 239.9997 K, not
    # 240 K, at 110 km: a 0.27 mK step, 1.1e-6 relative.
    jumps = _relative_jump(alt_m)
    assert max(jumps.values()) < 2e-6, f"jump at {alt_m:.0f} m: {jumps}"


@pytest.mark.parametrize("alt_m", [86e3, 120e3])
def test_continuous_at_splice_points(alt_m):
    jumps = _relative_jump(alt_m)
    assert max(jumps.values()) < 1e-3, f"jump at {alt_m:.0f} m: {jumps}"
    # Pressure, density and temperature are spliced exactly; only the speed of sound
    # steps (by 2.1e-4 at 86 km, see ussa76 Notes).
    for field in ("temperature", "pressure", "density"):
        assert jumps[field] < 1e-6, f"{field} jump at {alt_m:.0f} m: {jumps[field]:.2e}"


# --- hydrostatics ---------------------------------------------------------------------


def test_hydrostatic_equilibrium_below_86km():
    # dp/dz = -rho g(z), g(z) = g0 (r0 / (r0 + z))^2, by central differences.
    alt_m = np.linspace(-4_000.0, 85_000.0, 357)
    half_step_m = 0.5
    dp_dz = (ussa76(alt_m + half_step_m).pressure - ussa76(alt_m - half_step_m).pressure) / (
        2.0 * half_step_m
    )
    g = G0_M_S2 * (R0_M / (R0_M + alt_m)) ** 2
    np.testing.assert_allclose(-dp_dz, ussa76(alt_m).density * g, rtol=1e-6)


def test_ideal_gas_holds_below_86km():
    # rho = p M / (R* T) with the kinetic T and M = M0 (M/M0 from Table 8 above 80 km).
    alt_m = np.linspace(-5e3, 86e3, 911)
    state = ussa76(alt_m)
    m_ratio = np.interp(alt_m, atmosphere._MRATIO_Z_M, atmosphere._MRATIO)
    molecular_weight = atmosphere.M0_KG_KMOL * m_ratio
    np.testing.assert_allclose(
        state.density,
        state.pressure * molecular_weight / (atmosphere.RSTAR_J_KMOL_K * state.temperature),
        rtol=1e-12,
    )


# --- the fast path and its inverse ----------------------------------------------------


def test_fast_density_and_speed_of_sound_match_ussa76():
    alt_m = np.random.default_rng(76).uniform(0.0, 120e3, 200_000)
    alt_m = np.concatenate([alt_m, LAYER_BOUNDARIES_M, [0.0, 86e3, 120e3]])
    state = ussa76(alt_m)
    density, sound = ussa76_fast(alt_m)
    assert np.max(np.abs(density / state.density - 1.0)) < 1e-4
    assert np.max(np.abs(sound / state.speed_of_sound - 1.0)) < 1e-4


def test_fast_path_outside_the_dense_table():
    alt_m = np.array([-1e5, -5e3, 150e3, 250e3, 1e6, 3e6])
    state = ussa76(alt_m)
    density, sound = ussa76_fast(alt_m)
    np.testing.assert_allclose(density, state.density, rtol=1e-9)
    np.testing.assert_allclose(sound, state.speed_of_sound, rtol=1e-12)


def test_fast_path_scalar_and_nan():
    density, sound = ussa76_fast(10_000.0)
    assert np.shape(density) == () and np.shape(sound) == ()
    # Not validated by design: NaN propagates so the integrator can flag the run.
    density, sound = ussa76_fast(np.array([np.nan, 1e4]))
    assert np.isnan(density[0]) and np.isnan(sound[0]) and np.isfinite(density[1])


def test_density_fast_is_the_density_of_the_fast_path_to_the_bit():
    alt_m = np.concatenate([
        np.random.default_rng(77).uniform(-8e3, 1.2e6, 50_000),
        LAYER_BOUNDARIES_M, [-1e5, -5e3, 0.0, 86e3, 86e3 + 1e-6, 120e3, 2e5, 1e6, np.nan],
    ])
    density, _ = ussa76_fast(alt_m)
    fast = density_fast(alt_m)
    assert fast.shape == alt_m.shape
    np.testing.assert_array_equal(fast, density)  # NaN in the same place too
    assert np.shape(density_fast(1e4)) == ()
    assert density_fast(1e4) == ussa76_fast(1e4)[0]


def test_density_log_slope_is_the_derivative_of_the_fast_density():
    # inside a 50 m cell the table is exactly exponential: the central difference over
    # +-1 m (cells are found away from their edges) matches the slope to rounding
    rng = np.random.default_rng(78)
    alt_m = rng.uniform(-4.9e3, 199e3, 20_000)
    alt_m = alt_m[np.abs(np.remainder(alt_m + 5e3, 50.0) - 25.0) < 20.0]
    to_boundary = np.abs(alt_m[:, None] - np.array(LAYER_BOUNDARIES_M)[None, :])
    alt_m = alt_m[to_boundary.min(axis=1) > 2.0]
    density, slope = density_log_slope_fast(alt_m)
    np.testing.assert_array_equal(density, density_fast(alt_m))
    numeric = (np.log(density_fast(alt_m + 1.0)) - np.log(density_fast(alt_m - 1.0))) / 2.0
    np.testing.assert_allclose(slope, numeric, rtol=1e-6, atol=1e-12)
    # closed form in the lowest layer (USSA76 hydrostatics with lapse rate L = 6.5 K/km):
    # d ln(rho)/dH = -(g0 M0 / (R* T) - L / T), times dH/dh = (r0 / (r0 + h))^2; the
    # secant over the 50 m cell around h = 25 m equals it at the cell's middle
    h = 25.0
    geopotential = 6_356_766.0 * h / (6_356_766.0 + h)
    temp = 288.15 - 6.5e-3 * geopotential
    exact = -(9.80665 * 28.9644 / (8_314.32 * temp) - 6.5e-3 / temp) * (
        6_356_766.0 / (6_356_766.0 + h)
    ) ** 2
    np.testing.assert_allclose(density_log_slope_fast(h)[1], exact, rtol=1e-5)
    # clipped below -5 km: the density does not change there
    below, slope_below = density_log_slope_fast(np.array([-6e3, -1e5]))
    np.testing.assert_array_equal(slope_below, 0.0)
    np.testing.assert_array_equal(below, density_fast(-5e3))


def test_fast_table_is_built_lazily_and_import_stays_cheap():
    code = (
        "import sys, hyperdef.core.atmosphere as a; "
        "print(a._fast_table.cache_info().currsize, a._table_i_interpolants.cache_info().currsize, "
        "'scipy.interpolate' in sys.modules)"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.split() == ["0", "0", "False"]


def test_altitude_for_density_inverts_the_model():
    alt_m = np.linspace(-5e3, 1e6, 100_001)
    np.testing.assert_allclose(altitude_for_density(ussa76(alt_m).density), alt_m, atol=0.1)
    np.testing.assert_allclose(altitude_for_density(ussa76_fast(alt_m)[0]), alt_m, atol=1e-6)


def test_altitude_for_density_clips_to_the_table():
    assert altitude_for_density(10.0) == pytest.approx(-5e3)
    assert altitude_for_density(1e-300) == pytest.approx(1e6)


# --- properties -----------------------------------------------------------------------

altitudes_m = st.floats(min_value=-5e3, max_value=1e6, allow_nan=False)


@settings(deadline=None)
@given(altitudes_m)
def test_property_density_round_trip(alt_m):
    assert float(altitude_for_density(ussa76(alt_m).density)) == pytest.approx(alt_m, abs=0.1)


@settings(deadline=None)
@given(altitudes_m, altitudes_m)
def test_property_higher_is_thinner(z1, z2):
    lo, hi = sorted((z1, z2))
    if hi - lo < 1e-3:
        return
    state = ussa76([lo, hi])
    assert state.pressure[1] < state.pressure[0]
    assert state.density[1] < state.density[0]
    density, _ = ussa76_fast([lo, hi])
    assert density[1] < density[0]


@settings(deadline=None)
@given(st.floats(min_value=-5e3, max_value=120e3, allow_nan=False))
def test_property_fast_density_within_1e4(alt_m):
    assert float(ussa76_fast(alt_m)[0]) == pytest.approx(float(ussa76(alt_m).density), rel=1e-4)
