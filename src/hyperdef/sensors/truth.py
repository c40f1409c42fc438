"""Threat truth sampled at the instants a sensor looks.

Sensors look at their own times (a radar's revisit, an infrared frame), not at the
integrator's record times. :func:`truth_at` interpolates every object of a
:class:`~hyperdef.threats.trajectory.Trajectory` at a common grid of times in one
vectorised pass: position by cubic Hermite interpolation with the recorded velocity as
the derivative (so the interpolated velocity is the Hermite derivative and the two stay
consistent), scalar quantities (heat flux, Mach, dynamic pressure, altitude) linearly.

References
----------
de Boor, C., *A Practical Guide to Splines*, rev. ed., Springer, 2001, ch. IV
(cubic Hermite interpolation; error O(h^4) in position).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hyperdef.threats.trajectory import Trajectory


@dataclass(frozen=True, slots=True)
class TruthSamples:
    """Truth of every object at K times, as (B, K) grids.

    ``valid[b, k]`` is False where object b does not exist at time k (before launch,
    after impact); the other arrays hold NaN there.

    Attributes
    ----------
    t : ndarray, shape (K,)
        Sample times, s from epoch.
    valid : ndarray of bool, shape (B, K)
    r_ecef_m, v_ecef_m_s : ndarray, shape (B, K, 3)
        ECEF position (m) and Earth-relative velocity (m/s).
    alt_m, mach, dynamic_pressure_pa, heat_flux_w_m2 : ndarray, shape (B, K)
    phase : ndarray of int, shape (B, K)
        Phase code (:data:`~hyperdef.threats.trajectory.PHASES`) of the sample before;
        -1 where not valid.
    """

    t: np.ndarray
    valid: np.ndarray
    r_ecef_m: np.ndarray
    v_ecef_m_s: np.ndarray
    alt_m: np.ndarray
    mach: np.ndarray
    dynamic_pressure_pa: np.ndarray
    heat_flux_w_m2: np.ndarray
    phase: np.ndarray


def truth_at(trajectory: Trajectory, times_s: np.ndarray) -> TruthSamples:
    """Interpolate every object of ``trajectory`` at the times ``times_s``.

    Parameters
    ----------
    trajectory : Trajectory
        B objects, each sampled in increasing time.
    times_s : ndarray, shape (K,)
        Query times, s from epoch, any order.

    Returns
    -------
    TruthSamples
        (B, K) grids; an object is valid from its first to its last sample inclusive.
    """
    tq = np.asarray(times_s, dtype=float).reshape(-1)
    n_obj = trajectory.n_objects
    k = tq.size
    starts = trajectory.offsets[:-1]
    ends = trajectory.offsets[1:] - 1
    t = trajectory.t
    t_first = t[starts]
    t_last = t[ends]
    # one sorted key over all objects: object index times a span longer than any flight
    span = (
        float(np.max(t_last) - min(np.min(t_first), np.min(tq), 0.0))
        + 1.0
        + float(np.max(np.abs(tq), initial=0.0))
    )
    obj = trajectory.object_index
    key = t + obj * span
    query = tq[None, :] + np.arange(n_obj)[:, None] * span
    valid = (tq[None, :] >= t_first[:, None]) & (tq[None, :] <= t_last[:, None])
    j = np.searchsorted(key, query.reshape(-1), side="right").reshape(n_obj, k) - 1
    j = np.clip(j, starts[:, None], np.maximum(ends - 1, starts)[:, None])
    j1 = np.minimum(j + 1, ends[:, None])
    t0 = t[j]
    h = t[j1] - t0
    safe_h = np.where(h > 0, h, 1.0)
    s = np.where(h > 0, (tq[None, :] - t0) / safe_h, 0.0)[..., None]
    r0, r1 = trajectory.r_ecef_m[j], trajectory.r_ecef_m[j1]
    v0, v1 = trajectory.v_ecef_m_s[j], trajectory.v_ecef_m_s[j1]
    hh = h[..., None]
    s2 = s * s
    s3 = s2 * s
    r = (
        (2 * s3 - 3 * s2 + 1) * r0
        + (s3 - 2 * s2 + s) * hh * v0
        + (-2 * s3 + 3 * s2) * r1
        + (s3 - s2) * hh * v1
    )
    v = (
        (6 * s2 - 6 * s) * (r0 - r1) / np.where(hh > 0, hh, 1.0)
        + (3 * s2 - 4 * s + 1) * v0
        + (3 * s2 - 2 * s) * v1
    )
    v = np.where(hh > 0, v, v0)

    def linear(values: np.ndarray) -> np.ndarray:
        w = s[..., 0]
        out = (1.0 - w) * values[j] + w * values[j1]
        return np.where(valid, out, np.nan)

    nan3 = ~valid[..., None]
    return TruthSamples(
        t=tq,
        valid=valid,
        r_ecef_m=np.where(nan3, np.nan, r),
        v_ecef_m_s=np.where(nan3, np.nan, v),
        alt_m=linear(trajectory.lla[:, 2]),
        mach=linear(trajectory.mach),
        dynamic_pressure_pa=linear(trajectory.dynamic_pressure_pa),
        heat_flux_w_m2=linear(trajectory.heat_flux_w_m2),
        phase=np.where(valid, trajectory.phase[j], -1),
    )
