"""U.S. Standard Atmosphere 1976: temperature, pressure, density and speed of sound.

Three public entry points, one model:

- :func:`ussa76` evaluates the model itself (any array shape, validated input);
- :func:`ussa76_fast` reads density and speed of sound from a precomputed table,
  for the equations of motion (four calls per RK4 step for every vehicle);
- :func:`altitude_for_density` inverts the same table (glide guidance asks for the
  altitude of a reference dynamic pressure).

Altitudes are GEOMETRIC, in metres above the reference sea level, everywhere in
this module's public API. The model is assembled from four pieces:

========================  ==================================================================
geometric altitude        method
========================  ==================================================================
below -5 km               clipped: the state at -5 km is returned
-5 km to 86 km            the document's seven geopotential layers (hydrostatic, exact);
                          -5 km to 0 km uses the first layer's lapse rate, as the document
                          does for its tables below sea level
86 km to 120 km           the document's geometric temperature profile; pressure and density
                          interpolated through Table I with a monotone cubic in log space
above 120 km              isothermal continuation at 360 K (see ``ussa76`` notes)
========================  ==================================================================

References
----------
.. [1] NOAA, NASA and USAF, *U.S. Standard Atmosphere, 1976*, NOAA-S/T 76-1562,
   U.S. Government Printing Office, Washington, DC, October 1976. Part 1: defining
   constants, eq. 18 (geopotential altitude), Table 4 (layers to 84.852 km'),
   eqs. 33a and 33b (pressure), eq. 42 (density), eq. 50 (speed of sound), Table 8
   (M/M0 from 80 to 86 km), the temperature-height profile above 86 km; Table I
   (geometric altitude, metric units).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hyperdef.errors import InputError

__all__ = [
    "AtmosphereState",
    "altitude_for_density",
    "geometric_to_geopotential",
    "geopotential_to_geometric",
    "ussa76",
    "ussa76_fast",
]

# --- Defining constants of the 1976 document (Part 1) ---------------------------------
R0_M = 6_356_766.0  # effective Earth radius used for geopotential altitude [m]
G0_M_S2 = 9.80665  # sea-level gravity g0 [m/s^2] (= m^2/(s^2 m'))
RSTAR_J_KMOL_K = 8_314.32  # universal gas constant R* [J/(kmol K)], 1976 value
M0_KG_KMOL = 28.9644  # sea-level mean molecular weight M0 [kg/kmol]
GAMMA = 1.4  # ratio of specific heats of air
T0_K = 288.15  # sea-level temperature [K]
P0_PA = 101_325.0  # sea-level pressure [Pa]

ALT_MIN_M = -5_000.0  # lowest altitude the model evaluates; lower inputs are clipped

# --- 0 to 86 km: Table 4, seven layers in geopotential altitude H [m'] -----------------
_LAYER_BASE_H_M = np.array([0.0, 11_000.0, 20_000.0, 32_000.0, 47_000.0, 51_000.0, 71_000.0])
_LAYER_LAPSE_K_M = np.array([-6.5, 0.0, 1.0, 2.8, 0.0, -2.8, -2.0]) * 1e-3  # dTm/dH [K/m']
_HYDROSTATIC_CONST = G0_M_S2 * M0_KG_KMOL / RSTAR_J_KMOL_K  # g0 M0 / R* [K/m']

# Table 8: M/M0 against geometric altitude, 80 to 86 km every 0.5 km. Tm (the
# molecular-scale temperature the layers define) times M/M0 is the kinetic temperature.
_MRATIO_Z_M = 80_000.0 + 500.0 * np.arange(13)
_MRATIO = np.array([
    1.000000, 0.999996, 0.999989, 0.999971, 0.999941, 0.999909, 0.999870,
    0.999829, 0.999786, 0.999741, 0.999694, 0.999641, 0.999579,
])  # fmt: skip

# --- 86 to 120 km: geometric temperature profile (Part 1) -----------------------------
_Z7_M = 86_000.0  # top of the layered model, H = 84 852 m'
_T7_K = 186.8673  # kinetic temperature, isothermal 86 to 91 km
_Z8_M = 91_000.0  # start of the elliptical segment
_TC_K = 263.1905  # ellipse centre temperature Tc
_A_ELLIPSE_K = -76.3232  # ellipse temperature semi-axis A
_A_ELLIPSE_M = -19_942.9  # ellipse altitude semi-axis a
_Z9_M = 110_000.0  # start of the linear segment
_T9_K = 240.0
_LK9_K_M = 0.012  # 12 K/km
_Z10_M = 120_000.0  # top of the tabulated region
_T10_K = 360.0
_M10_KG_KMOL = 26.20  # mean molecular weight at 120 km (Table I)

# Table I (geometric altitude, metric units) of [1], pressure column: 1 km steps to
# 101 km, 2 km to 109 km, 1 km to 120 km.
_TABLE_I_P_Z_KM = np.array([
    86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 103, 105, 107,
    109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120,
], dtype=float)  # fmt: skip
_TABLE_I_P_PA = np.array([
    3.7338e-1, 3.1259e-1, 2.6173e-1, 2.1919e-1, 1.8359e-1, 1.5381e-1, 1.2887e-1,
    1.0801e-1, 9.0560e-2, 7.5966e-2, 6.3765e-2, 5.3571e-2, 4.5057e-2, 3.7948e-2,
    3.2011e-2, 2.7192e-2, 1.9742e-2, 1.4477e-2, 1.0751e-2, 8.1142e-3, 7.1042e-3,
    6.2614e-3, 5.5547e-3, 4.9570e-3, 4.4473e-3, 4.0096e-3, 3.6312e-3, 3.3022e-3,
    3.0144e-3, 2.7615e-3, 2.5382e-3,
])  # fmt: skip
# Table I density column: 1 km steps to 100 km, then 2 km steps to 120 km.
_TABLE_I_RHO_Z_KM = np.concatenate([np.arange(86.0, 101.0), np.arange(102.0, 121.0, 2.0)])
_TABLE_I_RHO_KG_M3 = np.array([
    6.958e-6, 5.824e-6, 4.875e-6, 4.081e-6, 3.416e-6, 2.860e-6, 2.393e-6, 2.000e-6,
    1.670e-6, 1.393e-6, 1.162e-6, 9.685e-7, 8.071e-7, 6.725e-7, 5.604e-7,
    3.935e-7, 2.769e-7, 1.954e-7, 1.381e-7, 9.708e-8, 6.838e-8, 4.975e-8, 3.720e-8,
    2.847e-8, 2.222e-8,
])  # fmt: skip
# Table I mean molecular weight at the odd kilometres 101-119, where the density column
# has no row: density there is p M / (R* T) from Table I's own p and M and the defining
# T, which halves the interpolation error between 100 and 120 km (7e-4 to under 2e-4).
_TABLE_I_M_ODD_Z_KM = np.arange(101.0, 120.0, 2.0)
_TABLE_I_M_ODD_KG_KMOL = np.array(
    [28.30, 28.10, 27.88, 27.64, 27.39, 27.14, 26.90, 26.68, 26.48, 26.29]
)

# --- Fast table ------------------------------------------------------------------------
_FAST_STEP_M = 50.0
_FAST_DENSE_TOP_M = 200_000.0
_FAST_TOP_M = 1_000_000.0  # one extra node: above 120 km log-density is linear in z


@dataclass(frozen=True, slots=True)
class AtmosphereState:
    """Atmospheric state at a set of altitudes; every array has the input's shape.

    Attributes
    ----------
    temperature : ndarray
        Kinetic temperature [K].
    pressure : ndarray
        Static pressure [Pa].
    density : ndarray
        Mass density [kg/m^3].
    speed_of_sound : ndarray
        Speed of sound [m/s].
    """

    temperature: NDArray[np.float64]
    pressure: NDArray[np.float64]
    density: NDArray[np.float64]
    speed_of_sound: NDArray[np.float64]


def geometric_to_geopotential(alt_m: ArrayLike) -> NDArray[np.float64]:
    """Geopotential altitude H = r0 Z / (r0 + Z) for a geometric altitude Z ([1] eq. 18).

    Parameters
    ----------
    alt_m : float or array_like
        Geometric altitude Z [m].

    Returns
    -------
    ndarray
        Geopotential altitude H [m'], same shape as ``alt_m``.
    """
    z = np.asarray(alt_m, dtype=np.float64)
    return R0_M * z / (R0_M + z)


def geopotential_to_geometric(alt_geopotential_m: ArrayLike) -> NDArray[np.float64]:
    """Geometric altitude Z = r0 H / (r0 - H) for a geopotential altitude H (inverse of eq. 18).

    Parameters
    ----------
    alt_geopotential_m : float or array_like
        Geopotential altitude H [m'].

    Returns
    -------
    ndarray
        Geometric altitude Z [m], same shape as the input.
    """
    h = np.asarray(alt_geopotential_m, dtype=np.float64)
    return R0_M * h / (R0_M - h)


def _layer_base_values() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Molecular-scale temperature and pressure at each layer base (eqs. 33a, 33b)."""
    t_base = [T0_K]
    p_base = [P0_PA]
    for b in range(len(_LAYER_BASE_H_M) - 1):
        dh = _LAYER_BASE_H_M[b + 1] - _LAYER_BASE_H_M[b]
        lapse = _LAYER_LAPSE_K_M[b]
        t_top = t_base[b] + lapse * dh
        if lapse == 0.0:
            p_top = p_base[b] * np.exp(-_HYDROSTATIC_CONST * dh / t_base[b])
        else:
            p_top = p_base[b] * (t_base[b] / t_top) ** (_HYDROSTATIC_CONST / lapse)
        t_base.append(t_top)
        p_base.append(float(p_top))
    return np.array(t_base), np.array(p_base)


# Seven multiplications: the only model work done at import.
_LAYER_BASE_TM_K, _LAYER_BASE_P_PA = _layer_base_values()
_LAYER_IS_ISOTHERMAL = _LAYER_LAPSE_K_M == 0.0
_LAYER_EXPONENT = _HYDROSTATIC_CONST / np.where(_LAYER_IS_ISOTHERMAL, 1.0, _LAYER_LAPSE_K_M)


def _layered(z_m: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
    """Kernel for -5 km <= z <= 86 km: (T, p, rho, a). Trusts its input."""
    h = R0_M * z_m / (R0_M + z_m)
    b = np.clip(np.searchsorted(_LAYER_BASE_H_M, h, side="right") - 1, 0, 6)
    dh = h - _LAYER_BASE_H_M[b]
    t_base = _LAYER_BASE_TM_K[b]
    tm = t_base + _LAYER_LAPSE_K_M[b] * dh  # molecular-scale temperature
    p = _LAYER_BASE_P_PA[b] * np.where(
        _LAYER_IS_ISOTHERMAL[b],
        np.exp(-_HYDROSTATIC_CONST * dh / t_base),  # eq. 33b
        (t_base / tm) ** _LAYER_EXPONENT[b],  # eq. 33a
    )
    rho = p * M0_KG_KMOL / (RSTAR_J_KMOL_K * tm)  # eq. 42
    a = np.sqrt(GAMMA * RSTAR_J_KMOL_K * tm / M0_KG_KMOL)  # eq. 50
    t = tm * np.interp(z_m, _MRATIO_Z_M, _MRATIO)  # kinetic T = Tm M/M0 (Table 8)
    return t, p, rho, a


def _temperature_above_86km(z_m: NDArray[np.float64]) -> NDArray[np.float64]:
    """Kinetic temperature [K] on the 86-120 km geometric profile of [1]."""
    ellipse_arg = np.clip(1.0 - ((z_m - _Z8_M) / _A_ELLIPSE_M) ** 2, 0.0, 1.0)
    return np.select(
        [z_m < _Z8_M, z_m < _Z9_M],
        [np.full(z_m.shape, _T7_K), _TC_K + _A_ELLIPSE_K * np.sqrt(ellipse_arg)],
        default=_T9_K + _LK9_K_M * (z_m - _Z9_M),
    )


@functools.cache
def _table_i_interpolants() -> tuple[Any, Any]:
    """Monotone cubics through log p and log rho of Table I, 86 to 120 km (built once).

    The 86 km nodes take the layered model's values, which agree with Table I to 3e-5,
    so the splice with the layered model is continuous.
    """
    from scipy.interpolate import PchipInterpolator  # deferred: keep import cheap

    _, p86, rho86, _ = _layered(np.array([_Z7_M]))
    log_p = np.log(_TABLE_I_P_PA)
    log_p[0] = np.log(p86[0])
    log_p_of_z = PchipInterpolator(_TABLE_I_P_Z_KM * 1e3, log_p, extrapolate=False)

    z_odd_m = _TABLE_I_M_ODD_Z_KM * 1e3
    rho_odd = (
        np.exp(log_p_of_z(z_odd_m))
        * _TABLE_I_M_ODD_KG_KMOL
        / (RSTAR_J_KMOL_K * _temperature_above_86km(z_odd_m))
    )
    z_rho_m = np.concatenate([_TABLE_I_RHO_Z_KM * 1e3, z_odd_m])
    log_rho = np.log(np.concatenate([_TABLE_I_RHO_KG_M3, rho_odd]))
    log_rho[0] = np.log(rho86[0])
    order = np.argsort(z_rho_m)
    log_rho_of_z = PchipInterpolator(z_rho_m[order], log_rho[order], extrapolate=False)
    return log_p_of_z, log_rho_of_z


def _tabulated(z_m: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
    """Kernel for 86 km < z <= 120 km: (T, p, rho, a). Trusts its input."""
    log_p, log_rho = _table_i_interpolants()
    t = _temperature_above_86km(z_m)
    a = np.sqrt(GAMMA * RSTAR_J_KMOL_K * t / M0_KG_KMOL)
    return t, np.exp(log_p(z_m)), np.exp(log_rho(z_m)), a


@functools.cache
def _isothermal_top() -> tuple[float, float, float]:
    """Pressure and density at 120 km and the scale height used above [Pa, kg/m^3, m]."""
    log_p, log_rho = _table_i_interpolants()
    g10 = G0_M_S2 * (R0_M / (R0_M + _Z10_M)) ** 2
    scale_height_m = RSTAR_J_KMOL_K * _T10_K / (_M10_KG_KMOL * g10)
    return float(np.exp(log_p(_Z10_M))), float(np.exp(log_rho(_Z10_M))), scale_height_m


def _isothermal(z_m: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
    """Kernel for z > 120 km: (T, p, rho, a). Trusts its input."""
    p10, rho10, scale_height_m = _isothermal_top()
    decay = np.exp(-(z_m - _Z10_M) / scale_height_m)
    t = np.full(z_m.shape, _T10_K)
    a = np.full(z_m.shape, np.sqrt(GAMMA * RSTAR_J_KMOL_K * _T10_K / M0_KG_KMOL))
    return t, p10 * decay, rho10 * decay, a


def ussa76(alt_m: ArrayLike) -> AtmosphereState:
    """U.S. Standard Atmosphere 1976 at geometric altitudes.

    Parameters
    ----------
    alt_m : float or array_like, any shape
        Geometric altitude above sea level [m]. Must be finite. Values below -5 km are
        clipped to -5 km.

    Returns
    -------
    AtmosphereState
        Temperature [K], pressure [Pa], density [kg/m^3] and speed of sound [m/s], each
        an ndarray of the input's shape (0-d for a scalar).

    Raises
    ------
    InputError
        If ``alt_m`` is not numeric or holds a NaN or an infinity.

    Notes
    -----
    -5 to 86 km: the seven layers of Table 4, on geopotential altitude
    H = r0 Z / (r0 + Z) (eq. 18), with base pressures propagated from 101 325 Pa by
    the hydrostatic formulas 33a (gradient layers) and 33b (isothermal layers), density
    from eq. 42 and speed of sound from eq. 50. From -5 km to 0 km the first layer is
    extended downwards, as the document's own tables do. Between 80 and 86 km the
    returned temperature is the kinetic one, Tm M/M0, with M/M0 linearly interpolated
    in Table 8 (1 at 80 km to 0.999579 at 86 km, at most 0.079 K); pressure, density
    and speed of sound do not depend on that ratio. The temperatures Table I prints
    from 80.5 to 85.5 km are Tm (M/M0 taken as 1), so they exceed this function's by
    up to 0.042 %.

    Above 86 km to 120 km: the document's geometric temperature profile (isothermal 186.8673 K
    to 91 km, elliptical to 110 km, +12 K/km to 360 K at 120 km). Pressure and density
    are PCHIP (monotone cubic) interpolants of log p and log rho through Table I,
    nodes every 1 km (density at 101, 103, ..., 119 km, which Table I skips, is
    p M / (R* T) from its pressure and molecular-weight columns). They match Table I
    to 2e-4 between nodes. The full model's integration of species number densities
    is not reproduced. The 86 km nodes take the layered model's values, which agree
    with Table I to 3e-5, so the splice is continuous.

    Above 120 km: isothermal at 360 K, with p and rho falling as
    exp(-(Z - 120 km) / Hs), Hs = R* T / (M g) at 120 km (M = 26.20 kg/kmol), about
    12.1 km. This keeps values positive, finite, decreasing and continuous, but it is
    not the document's exosphere (temperature rising to 1000 K, molecular weight
    falling): density is 0.90x Table I at 150 km and 0.12x at 200 km. Drag there is
    negligible for the vehicles hyperdef flies. Values underflow to 0 above about
    9,000 km.

    Speed of sound is defined by the document only to 86 km (eq. 50, with Tm and M0).
    Above 86 km this function uses the same formula with the kinetic temperature and
    M0, so it drops by 2.1e-4 (the square root of M/M0 = 0.999579) just above 86 km;
    86 km itself belongs to the layered model and gives the document's 274.10 m/s.

    References
    ----------
    .. [1] NOAA, NASA and USAF, *U.S. Standard Atmosphere, 1976*, NOAA-S/T 76-1562,
       Washington, DC, October 1976: eqs. 18, 33a, 33b, 42, 50; Tables 4 and 8;
       Table I (geometric altitude, metric units).

    Examples
    --------
    >>> state = ussa76([0.0, 11_000.0])
    >>> state.temperature.round(3)
    array([288.15 , 216.774])
    """
    try:
        z = np.array(alt_m, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"alt_m: cannot read a {type(alt_m).__name__} as altitudes; "
            "give a number or an array of numbers, in metres"
        ) from exc
    finite = np.isfinite(z)
    if not finite.all():
        bad = z[~finite].flat[0]
        raise InputError(
            f"alt_m: {np.count_nonzero(~finite)} value(s) not finite (first {bad}); "
            "give finite geometric altitudes in metres"
        )
    np.maximum(z, ALT_MIN_M, out=z)

    t = np.empty_like(z)
    p = np.empty_like(z)
    rho = np.empty_like(z)
    a = np.empty_like(z)
    regions = (
        (z <= _Z7_M, _layered),
        ((z > _Z7_M) & (z <= _Z10_M), _tabulated),
        (z > _Z10_M, _isothermal),
    )
    for mask, kernel in regions:
        if mask.any():
            t[mask], p[mask], rho[mask], a[mask] = kernel(z[mask])
    return AtmosphereState(temperature=t, pressure=p, density=rho, speed_of_sound=a)


@dataclass(frozen=True, slots=True)
class _FastTable:
    """Piecewise-linear USSA76 table on nodes x[0] < ... < x[n-1] (intervals j = 0..n-2).

    A query finds its uniform 50 m cell arithmetically, maps it through ``cell_to_interval``
    to the first interval in that cell, and steps once to the next interval if it lies at
    or above ``interval_top`` (only cells holding an extra node have two intervals). The
    last interval's top is +inf, so altitudes above the table extrapolate along it.
    """

    interval_base_m: NDArray[np.float64]
    interval_top_m: NDArray[np.float64]
    log_rho_base: NDArray[np.float64]
    log_rho_slope_per_m: NDArray[np.float64]
    sound_base_m_s: NDArray[np.float64]
    sound_slope_per_s: NDArray[np.float64]
    cell_to_interval: NDArray[np.intp]
    last_cell: float
    node_m: NDArray[np.float64]
    node_log_rho: NDArray[np.float64]
    packed: NDArray[np.float64]  # rows: base, top, log rho, its slope, sound, its slope
    density_packed: NDArray[np.float64]  # rows: base, log rho, its slope


@functools.cache
def _fast_table() -> _FastTable:
    """Build the table once, on first use (1 ms, plus importing scipy.interpolate).

    Nodes: every 50 m from -5 km to 200 km; every geometric layer base (the temperature
    gradient jumps there, so a node keeps linear interpolation second-order accurate);
    1 micrometre above 86 km (the speed of sound steps just above 86 km); and 1000 km. Above
    120 km log density is linear in altitude and the speed of sound constant, so the
    interpolation, and the extrapolation above the top node, are exact there.
    """
    uniform_m = ALT_MIN_M + _FAST_STEP_M * np.arange(
        round((_FAST_DENSE_TOP_M - ALT_MIN_M) / _FAST_STEP_M) + 1
    )
    extra_m = np.append(geopotential_to_geometric(_LAYER_BASE_H_M[1:]), _Z7_M + 1e-6)
    node_m = np.append(np.union1d(uniform_m, extra_m), _FAST_TOP_M)
    state = ussa76(node_m)
    log_rho = np.log(state.density)
    sound = state.speed_of_sound
    width_m = np.diff(node_m)
    cell_to_interval = np.searchsorted(node_m, uniform_m[:-1], side="right") - 1
    # At most one extra node per uniform cell, so one step forward always suffices.
    assert np.all(np.diff(cell_to_interval) <= 2)
    columns = (node_m[:-1].copy(), np.append(node_m[1:-1], np.inf), log_rho[:-1].copy(),
               np.diff(log_rho) / width_m, sound[:-1].copy(), np.diff(sound) / width_m)
    return _FastTable(
        interval_base_m=columns[0],
        interval_top_m=columns[1],
        log_rho_base=columns[2],
        log_rho_slope_per_m=columns[3],
        sound_base_m_s=columns[4],
        sound_slope_per_s=columns[5],
        cell_to_interval=cell_to_interval.astype(np.intp),
        last_cell=float(len(uniform_m) - 2),
        node_m=node_m,
        node_log_rho=log_rho,
        packed=np.stack(columns),
        density_packed=np.stack((columns[0], columns[2], columns[3])),
    )


def ussa76_fast(alt_m: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Density and speed of sound from a precomputed USSA76 table, for hot loops.

    Linear interpolation of log density and of speed of sound on a table of
    :func:`ussa76` (nodes every 50 m from -5 to 200 km plus every layer boundary),
    built once on first use. The cell is found arithmetically, not by search, so the
    cost does not depend on the order of the altitudes (about 0.1 ms for 10,000).
    Relative error against :func:`ussa76`: below 1e-5 in density and in speed of
    sound at every altitude (6e-6 and 4e-6 measured); above 120 km both are exact.

    Parameters
    ----------
    alt_m : float or array_like, any shape
        Geometric altitude [m]. NOT validated: this is an equations-of-motion kernel,
        and a NaN altitude gives NaN outputs, which the integrator reports as a
        diverged run, instead of an exception that would stop a campaign. Altitudes
        below -5 km are clipped to -5 km, as in :func:`ussa76`.

    Returns
    -------
    density : ndarray
        Mass density [kg/m^3], shape of ``alt_m``.
    speed_of_sound : ndarray
        Speed of sound [m/s], shape of ``alt_m``.

    See Also
    --------
    ussa76 : the model itself, with temperature and pressure.

    References
    ----------
    .. [1] NOAA, NASA and USAF, *U.S. Standard Atmosphere, 1976*, NOAA-S/T 76-1562,
       Washington, DC, October 1976.
    """
    tab = _fast_table()
    z, j = _fast_interval(tab, alt_m)
    base, _, log_rho, log_rho_slope, sound, sound_slope = tab.packed.take(j, axis=-1)
    dz = z - base
    return np.exp(log_rho + dz * log_rho_slope), sound + dz * sound_slope


def density_fast(alt_m: ArrayLike) -> NDArray[np.float64]:
    """Density alone from the table of :func:`ussa76_fast`, for kernels without Mach.

    The same lookup and the same arithmetic as the density of :func:`ussa76_fast` (equal
    to the last bit), without gathering and interpolating the speed of sound: half the
    table reads. The trackers' ballistic and glide models call it at every RK4 stage.

    Parameters
    ----------
    alt_m : float or array_like, any shape
        Geometric altitude [m], NOT validated (see :func:`ussa76_fast`).

    Returns
    -------
    density : ndarray
        Mass density [kg/m^3], shape of ``alt_m``.

    See Also
    --------
    ussa76_fast : the table, its accuracy and its source (USSA76, NOAA-S/T 76-1562).
    """
    return _density_and_cell_slope(alt_m)[0]


def density_log_slope_fast(alt_m: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Density of :func:`density_fast` and its logarithmic derivative ``d ln(rho) / dh``.

    The table is linear in log density between its nodes, so within a cell the
    derivative is exact: the cell's slope (1/m), and 0 below -5 km, where the altitude
    is clipped. The trackers' ballistic and glide models take their Jacobian from it
    (the density gradient is most of the drag's dependence on position).

    Parameters
    ----------
    alt_m : float or array_like, any shape
        Geometric altitude [m], NOT validated (see :func:`ussa76_fast`).

    Returns
    -------
    density : ndarray
        Mass density [kg/m^3], equal to the bit to :func:`density_fast`.
    log_slope : ndarray
        ``d ln(rho) / dh`` [1/m], shape of ``alt_m``.

    See Also
    --------
    ussa76_fast : the table, its accuracy and its source (USSA76, NOAA-S/T 76-1562).
    """
    density, log_rho_slope = _density_and_cell_slope(alt_m)
    return density, np.where(np.asarray(alt_m) >= ALT_MIN_M, log_rho_slope, 0.0)


def _density_and_cell_slope(alt_m: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Table density and the log-density slope of each altitude's cell (1/m)."""
    tab = _fast_table()
    z, j = _fast_interval(tab, alt_m)
    base, log_rho, log_rho_slope = tab.density_packed.take(j, axis=-1)
    return np.exp(log_rho + (z - base) * log_rho_slope), log_rho_slope


def _fast_interval(tab: _FastTable, alt_m: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Clipped altitude and table interval of each altitude (see :class:`_FastTable`)."""
    z = np.maximum(alt_m, ALT_MIN_M)  # NaN stays NaN
    # fmin sends NaN to a valid cell; dz carries the NaN to the outputs.
    cell = np.fmin((z - ALT_MIN_M) * (1.0 / _FAST_STEP_M), tab.last_cell).astype(np.intp)
    j = tab.cell_to_interval.take(cell)
    return z, j + (z >= tab.interval_top_m.take(j))


def altitude_for_density(rho_kg_m3: ArrayLike) -> NDArray[np.float64]:
    """Geometric altitude at which the USSA76 density equals ``rho_kg_m3``.

    Inverse of the :func:`ussa76_fast` table (linear in log density, which the model's
    density decreases strictly through), so ``altitude_for_density(ussa76_fast(z)[0])``
    returns ``z``.

    Parameters
    ----------
    rho_kg_m3 : float or array_like, any shape
        Mass density [kg/m^3], finite and positive.

    Returns
    -------
    ndarray or float
        Geometric altitude [m], shape of the input, clipped to the table's range
        [-5 km, 1000 km]: a density above the one at -5 km gives -5 km.

    Raises
    ------
    InputError
        If ``rho_kg_m3`` is not numeric, or holds a value that is not finite and
        positive.

    References
    ----------
    .. [1] NOAA, NASA and USAF, *U.S. Standard Atmosphere, 1976*, NOAA-S/T 76-1562,
       Washington, DC, October 1976.
    """
    try:
        rho = np.asarray(rho_kg_m3, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"rho_kg_m3: cannot read a {type(rho_kg_m3).__name__} as densities; "
            "give a number or an array of numbers, in kg/m^3"
        ) from exc
    valid = np.isfinite(rho) & (rho > 0.0)
    if not valid.all():
        bad = rho[~valid].flat[0]
        raise InputError(
            f"rho_kg_m3: {np.count_nonzero(~valid)} value(s) not finite and positive "
            f"(first {bad}); give densities in kg/m^3 above 0"
        )
    tab = _fast_table()
    return np.interp(np.log(rho), tab.node_log_rho[::-1], tab.node_m[::-1])


_INVERSE_STEP = 1e-3  # step of the inverse table in ln(density)


@functools.cache
def _inverse_table() -> tuple[float, float, NDArray[np.float64], NDArray[np.float64]]:
    """Altitude on a uniform grid of ln(density) for :func:`altitude_for_log_density_fast`."""
    tab = _fast_table()
    lo = float(tab.node_log_rho[-1])  # top of the table: least dense
    hi = float(tab.node_log_rho[0])
    grid = lo + _INVERSE_STEP * np.arange(int((hi - lo) / _INVERSE_STEP) + 2)
    alt = np.interp(grid, tab.node_log_rho[::-1], tab.node_m[::-1])
    return lo, float(len(grid) - 2), alt[:-1].copy(), np.diff(alt) / _INVERSE_STEP


def altitude_for_log_density_fast(log_rho: NDArray[np.float64]) -> NDArray[np.float64]:
    """Geometric altitude (m) for ``ln(density / (kg/m^3))``, for hot loops.

    Linear interpolation on a uniform grid of ln(density) (step 1e-3, about 7 m of
    altitude) through the :func:`ussa76_fast` table, the cell found arithmetically;
    within 0.1 m of :func:`altitude_for_density`. Not validated; densities beyond the
    table are clipped to its ends.

    Parameters
    ----------
    log_rho : ndarray
        Natural logarithm of density in kg/m^3, any shape.
    """
    lo, last, alt_base, slope = _inverse_table()
    x = np.clip((log_rho - lo) * (1.0 / _INVERSE_STEP), 0.0, last)
    j = x.astype(np.intp)
    return alt_base.take(j) + (x - j) * _INVERSE_STEP * slope.take(j)
