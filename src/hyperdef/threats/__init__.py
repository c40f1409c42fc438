"""Threat trajectories: hypersonic glide vehicles, hypersonic cruise missiles, ballistic missiles.

:func:`fly` is the public entry point: it checks its input once, then flies a whole
batch of one kind of threat and returns one :class:`Trajectory`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import fields, replace

import numpy as np

from hyperdef.errors import InputError, UnreachableError
from hyperdef.threats.ballistic import fly_ballistic
from hyperdef.threats.cruise import CruiseGuidance, fly_hcm
from hyperdef.threats.hgv import MANEUVERS, GlideGuidance, fly_hgv
from hyperdef.threats.reach import reach_limits_m
from hyperdef.threats.trajectory import PHASES, Trajectory
from hyperdef.threats.vehicles import CAV_H, HCM_CRUISER, MRBM_RV

THREAT_KINDS = ("hgv", "hcm", "ballistic")

#: 1-sigma booster specific-impulse dispersion applied when a random generator is given
ISP_DISPERSION = 0.01
#: default integration steps, s
DEFAULT_DT_S = {"hgv": 0.5, "hcm": 0.25, "ballistic": 0.5}

__all__ = ["fly", "draw_isp_scale", "Trajectory", "THREAT_KINDS", "MANEUVERS", "PHASES",
           "DEFAULT_DT_S"]


def _lla_batch(value, name: str) -> np.ndarray:
    arr = np.atleast_2d(np.asarray(value, dtype=float))
    if arr.ndim != 2 or arr.shape[1] not in (2, 3):
        raise InputError(
            f"{name}: expected (lat, lon[, alt]) in radians, shape (B, 2) or (B, 3), "
            f"got shape {np.shape(value)}"
        )
    if arr.shape[1] == 2:
        arr = np.column_stack([arr, np.zeros(len(arr))])
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name}: values must be finite")
    lat_deg = np.degrees(arr[:, 0])
    bad = np.flatnonzero(np.abs(lat_deg) > 90.0 + 1e-9)
    if bad.size:
        raise InputError(f"{name} latitude: {lat_deg[bad[0]]:.6g} deg outside [-90, 90]")
    lon_deg = np.degrees(arr[:, 1])
    bad = np.flatnonzero(np.abs(lon_deg) > 360.0)
    if bad.size:
        raise InputError(f"{name} longitude: {lon_deg[bad[0]]:.6g} deg outside [-360, 360]")
    arr[:, 1] = (arr[:, 1] + np.pi) % (2.0 * np.pi) - np.pi
    return arr


#: guidance settings of each kind a caller may override (ballistic flight has none)
GUIDANCE_SETTINGS: dict[str, type] = {"hgv": GlideGuidance, "hcm": CruiseGuidance}
_MAY_BE_ZERO = frozenset({"weave_amplitude_rad", "skip_dip_m", "skip_rise_m"})


def guidance_settings(kind: str, overrides: Mapping[str, float],
                      field: str = "guidance") -> GlideGuidance | CruiseGuidance:
    """The kind's default guidance settings with ``overrides`` applied.

    Keys are the numeric fields of :class:`~hyperdef.threats.hgv.GlideGuidance` (``hgv``)
    or :class:`~hyperdef.threats.cruise.CruiseGuidance` (``hcm``); an angle field named
    ``..._rad`` may be given in degrees as ``..._deg`` instead (the edge convention).
    Values must be finite and > 0 (periods, gains, limits), or >= 0 for the manoeuvre
    amplitudes (``weave_amplitude``, ``skip_dip_m``, ``skip_rise_m``: 0 flies no manoeuvre).

    Raises
    ------
    InputError
        Naming ``field.key`` for a kind without guidance, an unknown key, or a bad value.
    """
    if kind not in GUIDANCE_SETTINGS:
        raise InputError(f"{field}: {kind} flights have no guidance settings to override "
                         f"(only {', '.join(GUIDANCE_SETTINGS)})")
    cls = GUIDANCE_SETTINGS[kind]
    numeric = [f.name for f in fields(cls) if f.type in (float, "float")]
    allowed = sorted(numeric + [n[:-4] + "_deg" for n in numeric if n.endswith("_rad")])
    values: dict[str, float] = {}
    for key, value in overrides.items():
        if key not in allowed:
            raise InputError(f"{field}.{key}: unknown {kind} guidance setting; allowed: "
                             f"{', '.join(allowed)}")
        name = key[:-4] + "_rad" if key.endswith("_deg") else key
        low, bound = (0.0, ">= 0") if name in _MAY_BE_ZERO else (0.0, "> 0")
        if isinstance(value, bool) or not isinstance(value, int | float) or not (
                math.isfinite(value) and (value >= low if bound == ">= 0" else value > low)):
            raise InputError(f"{field}.{key}: {value!r} must be a finite number {bound}")
        if name in values:
            raise InputError(f"{field}.{key}: {name} is given twice (in rad and in deg)")
        values[name] = math.radians(value) if key.endswith("_deg") else float(value)
    return replace(cls(), **values)


def draw_isp_scale(rng: np.random.Generator, n: int) -> np.ndarray:
    """Booster specific-impulse factors of ``n`` vehicles: ``1 + ISP_DISPERSION N(0, 1)``,
    clipped to [0.9, 1.1] (what :func:`fly` draws from its ``rng``)."""
    return np.clip(1.0 + ISP_DISPERSION * rng.standard_normal(n), 0.9, 1.1)


def fly(
    kind: str,
    launch_lla: np.ndarray | Sequence[float],
    aim_lla: np.ndarray | Sequence[float],
    *,
    maneuver: str | Sequence[str] = "none",
    t_launch_s: float | np.ndarray = 0.0,
    rng: np.random.Generator | None = None,
    mass_kg: float | None = None,
    dt_s: float | None = None,
    record_dt_s: float = 1.0,
    guidance: Mapping[str, float] | None = None,
    isp_scale: np.ndarray | None = None,
) -> Trajectory:
    """Fly a batch of threats of one kind from launch to impact.

    Parameters
    ----------
    kind : {'hgv', 'hcm', 'ballistic'}
        Threat kind.
    launch_lla, aim_lla : array_like, shape (3,), (B, 3), (2,) or (B, 2)
        Geodetic launch and aim points: latitude and longitude in radians, altitude in
        m (0 when omitted). A single point broadcasts against a batch.
    maneuver : str or sequence of str
        ``none``, ``weave`` or ``skip`` per vehicle (glide vehicles only).
    t_launch_s : float or ndarray, shape (B,)
        Launch times, s from the scenario epoch.
    rng : numpy.random.Generator, optional
        When given, each vehicle's booster specific impulse is drawn with a 1-sigma
        dispersion of :data:`ISP_DISPERSION`; without it every flight is nominal. The
        guidance absorbs the dispersion (thrust termination, glide and cruise guidance),
        so it shows in the timing and the path, by metres at the impact point.
    mass_kg : float, optional
        Override of the payload mass (glider, cruiser dry mass or re-entry vehicle), kg.
    dt_s : float, optional
        Integration step, s (default :data:`DEFAULT_DT_S` of the kind).
    record_dt_s : float
        Interval of the recorded samples, s.
    guidance : mapping, optional
        Overrides of the kind's guidance settings (:func:`guidance_settings`), e.g.
        ``{"weave_period_s": 90, "weave_amplitude_deg": 30}`` for a glider.
    isp_scale : ndarray, shape (B,), optional
        The booster specific-impulse factors themselves, instead of drawing them from
        ``rng`` (:func:`draw_isp_scale`): a campaign draws each run's factors from that
        run's own stream and flies the vehicles of many runs in one batch. Not with
        ``rng``.

    Returns
    -------
    Trajectory

    Raises
    ------
    hyperdef.errors.InputError
        For an unknown kind or manoeuvre, a latitude outside [-90, 90] deg, a
        non-positive mass or step.
    hyperdef.errors.UnreachableError
        When an aim point lies outside the vehicle's reach.
    """
    if kind not in THREAT_KINDS:
        raise InputError(f"kind: {kind!r} unknown; allowed: {', '.join(THREAT_KINDS)}")
    launch = _lla_batch(launch_lla, "launch")
    aim = _lla_batch(aim_lla, "aim")
    maneuvers = np.atleast_1d(np.asarray(maneuver, dtype=object))
    t_launch = np.atleast_1d(np.asarray(t_launch_s, dtype=float))
    sizes = {
        "launch": len(launch),
        "aim": len(aim),
        "maneuver": len(maneuvers),
        "t_launch_s": len(t_launch),
    }
    n = max(sizes.values())
    bad = {name: size for name, size in sizes.items() if size not in (1, n)}
    if bad or maneuvers.ndim != 1 or t_launch.ndim != 1:
        raise InputError(f"batch sizes {sizes} do not match: give 1 or {n} of each")
    launch = np.broadcast_to(launch, (n, 3)).copy()
    aim = np.broadcast_to(aim, (n, 3)).copy()
    maneuvers = np.broadcast_to(maneuvers, (n,))
    t_launch = np.broadcast_to(t_launch, (n,)).copy()
    if not np.all(np.isfinite(t_launch)):
        raise InputError("t_launch_s: launch times must be finite")
    for m in set(maneuvers.tolist()):
        allowed = MANEUVERS if kind == "hgv" else ("none",)
        if m not in allowed:
            raise InputError(f"maneuver: {m!r} unknown for {kind}; allowed: {', '.join(allowed)}")
    for name, value in (("dt_s", dt_s), ("record_dt_s", record_dt_s), ("mass_kg", mass_kg)):
        if value is not None and not (np.isfinite(value) and value > 0):
            raise InputError(f"{name}: {value} must be a positive number")
    if isp_scale is not None:
        if rng is not None:
            raise InputError("isp_scale: give either rng or isp_scale, not both")
        isp_scale = np.asarray(isp_scale, dtype=float)
        if isp_scale.shape != (n,) or not np.all((isp_scale >= 0.9) & (isp_scale <= 1.1)):
            raise InputError(f"isp_scale: expected {n} factors in [0.9, 1.1]")
    elif rng is None:
        isp_scale = np.ones(n)
    else:
        isp_scale = draw_isp_scale(rng, n)

    vehicle = {"hgv": CAV_H, "hcm": HCM_CRUISER, "ballistic": MRBM_RV}[kind]
    if mass_kg is not None:
        field = "dry_mass_kg" if kind == "hcm" else "mass_kg"
        vehicle = replace(vehicle, **{field: float(mass_kg)})
    lo, hi, range_m = reach_limits_m(kind, vehicle, launch, aim)
    bad = np.flatnonzero((range_m < lo) | (range_m > hi))
    if bad.size:
        i = bad[0]
        raise UnreachableError(
            f"aim: {range_m[i] / 1e3:.0f} km from launch is outside the {kind} reach "
            f"[{lo[i] / 1e3:.0f}, {hi[i] / 1e3:.0f}] km"
        )
    options = {
        "record_dt_s": record_dt_s,
        "isp_scale": isp_scale,
        "dt_s": DEFAULT_DT_S[kind] if dt_s is None else dt_s,
    }
    if guidance:
        options["guidance"] = guidance_settings(kind, guidance)
    if kind == "hgv":
        codes = np.array([MANEUVERS.index(m) for m in maneuvers])
        return fly_hgv(launch, aim, t_launch, codes, glider=vehicle, **options)
    if kind == "hcm":
        return fly_hcm(launch, aim, t_launch, cruiser=vehicle, **options)
    return fly_ballistic(launch, aim, t_launch, rv=vehicle, **options)
