"""Measurement models of the tracker: ECEF position, radar (rae, raer) and angles-only (los).

Every model implements :class:`hyperdef.tracking.protocols.MeasurementModel`, batched
over N tracks, with analytic Jacobians. Conventions follow DESIGN.md (``meas_type``):

``xyz``
    ECEF position (m); ``H = [I3, 0]``.
``rae``
    Slant range (m), azimuth (rad from north towards east, in ``[0, 2 pi)``) and
    elevation (rad) of the target in the local ENU frame at the sensor's geodetic
    position (ellipsoid normal as up), as :func:`hyperdef.core.frames.ecef_to_aer`.
``raer``
    ``rae`` plus range rate (m/s): the relative velocity ``v - v_sensor`` (both ECEF)
    projected on the line of sight; positive when the range opens.
``los``
    Azimuth and elevation only, in the local ENU frame at the sensor position, for any
    sensor, satellites included (the ENU frame at the sub-satellite geodetic point,
    lifted to the satellite's altitude).

With ``d = r - r_s`` rotated into ENU, ``e = C d`` (``C`` = :func:`enu_rotation`),
``h = sqrt(E^2 + N^2)``, range ``rho = |e|``::

    d rho / d e = e / rho
    d az  / d e = (N, -E, 0) / h^2
    d el  / d e = (-E U / h, -N U / h, h) / rho^2
    d rr  / d r = (dv - rr d / rho) / rho,   d rr / d v = d / rho

and ``d/dr = (d/de) C``. Azimuth is singular at the zenith (``h = 0``); there the
Jacobian rows are set to zero rather than infinite (h is floored at 1e-9 m).

References
----------
.. [1] D. A. Vallado, *Fundamentals of Astrodynamics and Applications*, 4th ed., 2013,
   ch. 4 (topocentric horizon coordinates: range, azimuth, elevation, and their rates).
.. [2] Y. Bar-Shalom, X. R. Li, T. Kirubarajan, *Estimation with Applications to
   Tracking and Navigation*, Wiley, 2001, section 10.3 (extended Kalman filter with
   polar/spherical measurements).
.. [3] IOGP, Guidance Note 7-2, method 9836 (geocentric/topocentric axes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from hyperdef.core.frames import aer_to_ecef, ecef_to_lla, enu_rotation
from hyperdef.errors import InputError

__all__ = [
    "Xyz",
    "Rae",
    "Raer",
    "Los",
    "MEASUREMENT_MODELS",
    "wrap_angle",
    "measurement_to_ecef",
    "measurement_covariance_to_ecef",
]

_TWO_PI = 2.0 * np.pi


def wrap_angle(angle_rad: np.ndarray) -> np.ndarray:
    """Angles wrapped to ``(-pi, pi]``, rad, any shape."""
    return np.pi - np.mod(np.pi - angle_rad, _TWO_PI)


def _sensor_arrays(x: np.ndarray, sensor_r: np.ndarray, sensor_v: np.ndarray | None):
    x = np.asarray(x, dtype=np.float64)
    n_tracks = x.shape[0]
    r_s = np.broadcast_to(np.asarray(sensor_r, dtype=np.float64), (n_tracks, 3))
    v_s = None
    if sensor_v is not None:
        v_s = np.broadcast_to(np.asarray(sensor_v, dtype=np.float64), (n_tracks, 3))
    return x, r_s, v_s


def _angles(x: np.ndarray, r_s: np.ndarray):
    """Range, azimuth, elevation and the Jacobian rows d(rho, az, el)/d r_ecef (N, 3, 3)."""
    c = enu_rotation(ecef_to_lla(r_s), check=False)  # (N, 3, 3), rows e, n, u in ECEF
    d = x[:, 0:3] - r_s
    enu = np.einsum("nij,nj->ni", c, d)
    east, north, up = enu[:, 0], enu[:, 1], enu[:, 2]
    h2 = east * east + north * north
    h = np.sqrt(h2)
    rho2 = h2 + up * up
    rho = np.sqrt(rho2)
    az = np.mod(np.arctan2(east, north), _TWO_PI)
    az = np.where(az >= _TWO_PI, 0.0, az)
    el = np.arctan2(up, h)
    h_safe = np.maximum(h, 1e-9)
    rho_safe = np.maximum(rho, 1e-9)
    jac_enu = np.zeros(x.shape[:1] + (3, 3))
    jac_enu[:, 0, 0] = east / rho_safe
    jac_enu[:, 0, 1] = north / rho_safe
    jac_enu[:, 0, 2] = up / rho_safe
    zenith = h < 1e-9
    inv_h2 = np.where(zenith, 0.0, 1.0 / (h_safe * h_safe))
    jac_enu[:, 1, 0] = north * inv_h2
    jac_enu[:, 1, 1] = -east * inv_h2
    inv_rho2 = 1.0 / (rho_safe * rho_safe)
    jac_enu[:, 2, 0] = np.where(zenith, 0.0, -east * up / h_safe) * inv_rho2
    jac_enu[:, 2, 1] = np.where(zenith, 0.0, -north * up / h_safe) * inv_rho2
    jac_enu[:, 2, 2] = h * inv_rho2
    jac = jac_enu @ c
    return d, rho_safe, np.stack((rho, az, el), axis=-1), jac


@dataclass(frozen=True, slots=True)
class Xyz:
    """ECEF position measurement, m = 3: ``z = r``, ``H = [I3, 0]``."""

    meas_type: ClassVar[str] = "xyz"
    dim: ClassVar[int] = 3

    def predict(
        self, x: np.ndarray, sensor_r_ecef_m: np.ndarray, sensor_v_ecef_m_s: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Predicted position (N, 3), m, and H (N, 3, n); the sensor is not used."""
        x = np.asarray(x, dtype=np.float64)
        H = np.zeros((x.shape[0], 3, x.shape[1]))
        H[:, [0, 1, 2], [0, 1, 2]] = 1.0
        return x[:, 0:3].copy(), H

    def residual(self, z: np.ndarray, z_pred: np.ndarray) -> np.ndarray:
        """``z - z_pred`` (N, 3), m."""
        return np.asarray(z, dtype=np.float64) - z_pred


@dataclass(frozen=True, slots=True)
class Rae:
    """Range, azimuth, elevation in the sensor's ENU frame, m = 3 (module notes)."""

    meas_type: ClassVar[str] = "rae"
    dim: ClassVar[int] = 3

    def predict(
        self, x: np.ndarray, sensor_r_ecef_m: np.ndarray, sensor_v_ecef_m_s: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Predicted (range m, azimuth rad, elevation rad) (N, 3) and H (N, 3, n).

        Parameters
        ----------
        x : ndarray, shape (N, n)
            States; only the ECEF position (first three) is used.
        sensor_r_ecef_m, sensor_v_ecef_m_s : ndarray, shape (N, 3) or (3,)
            Sensor ECEF position (m) and velocity (m/s, unused here).
        """
        x, r_s, _ = _sensor_arrays(x, sensor_r_ecef_m, None)
        _, _, z, jac = _angles(x, r_s)
        H = np.zeros((x.shape[0], 3, x.shape[1]))
        H[:, :, 0:3] = jac
        return z, H

    def residual(self, z: np.ndarray, z_pred: np.ndarray) -> np.ndarray:
        """``z - z_pred`` (N, 3) with azimuth and elevation wrapped to (-pi, pi]."""
        nu = np.asarray(z, dtype=np.float64) - z_pred
        nu[:, 1:3] = wrap_angle(nu[:, 1:3])
        return nu


@dataclass(frozen=True, slots=True)
class Raer:
    """Range, azimuth, elevation and range rate, m = 4 (module notes).

    Range rate ``(d . (v - v_s)) / |d|`` with ``d = r - r_s``, all ECEF, both
    velocities relative to the Earth (the frame's rotation cancels in the difference
    of two ECEF velocities at the same instant).
    """

    meas_type: ClassVar[str] = "raer"
    dim: ClassVar[int] = 4

    def predict(
        self, x: np.ndarray, sensor_r_ecef_m: np.ndarray, sensor_v_ecef_m_s: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Predicted (range m, az rad, el rad, range rate m/s) (N, 4) and H (N, 4, n).

        Parameters
        ----------
        x : ndarray, shape (N, n)
            States; ECEF position and velocity (first six) are used.
        sensor_r_ecef_m, sensor_v_ecef_m_s : ndarray, shape (N, 3) or (3,)
            Sensor ECEF position (m) and velocity (m/s).
        """
        x, r_s, v_s = _sensor_arrays(x, sensor_r_ecef_m, sensor_v_ecef_m_s)
        d, rho, z3, jac = _angles(x, r_s)
        dv = x[:, 3:6] - v_s
        u = d / rho[:, None]
        rate = np.einsum("ni,ni->n", u, dv)
        H = np.zeros((x.shape[0], 4, x.shape[1]))
        H[:, 0:3, 0:3] = jac
        H[:, 3, 0:3] = (dv - rate[:, None] * u) / rho[:, None]
        H[:, 3, 3:6] = u
        return np.column_stack((z3, rate)), H

    def residual(self, z: np.ndarray, z_pred: np.ndarray) -> np.ndarray:
        """``z - z_pred`` (N, 4) with azimuth and elevation wrapped to (-pi, pi]."""
        nu = np.asarray(z, dtype=np.float64) - z_pred
        nu[:, 1:3] = wrap_angle(nu[:, 1:3])
        return nu


@dataclass(frozen=True, slots=True)
class Los:
    """Angles only: azimuth and elevation in the ENU frame at the sensor, m = 2.

    For a space sensor the frame is the ENU frame at the satellite's own geodetic
    position (up along the ellipsoid normal through it), so a target below the
    satellite has a negative elevation, near -pi/2 at the nadir.
    """

    meas_type: ClassVar[str] = "los"
    dim: ClassVar[int] = 2

    def predict(
        self, x: np.ndarray, sensor_r_ecef_m: np.ndarray, sensor_v_ecef_m_s: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Predicted (azimuth rad, elevation rad) (N, 2) and H (N, 2, n)."""
        x, r_s, _ = _sensor_arrays(x, sensor_r_ecef_m, None)
        _, _, z3, jac = _angles(x, r_s)
        H = np.zeros((x.shape[0], 2, x.shape[1]))
        H[:, :, 0:3] = jac[:, 1:3]
        return z3[:, 1:3].copy(), H

    def residual(self, z: np.ndarray, z_pred: np.ndarray) -> np.ndarray:
        """``z - z_pred`` (N, 2), both angles wrapped to (-pi, pi]."""
        return wrap_angle(np.asarray(z, dtype=np.float64) - z_pred)


MEASUREMENT_MODELS: dict[str, Xyz | Rae | Raer | Los] = {
    "xyz": Xyz(),
    "rae": Rae(),
    "raer": Raer(),
    "los": Los(),
}


def _check_meas(meas_type: str, z: np.ndarray, sensor_r: np.ndarray):
    if meas_type not in MEASUREMENT_MODELS:
        raise InputError(
            f"meas_type: {meas_type!r} unknown; allowed: {', '.join(MEASUREMENT_MODELS)}"
        )
    dim = MEASUREMENT_MODELS[meas_type].dim
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or z.shape[1] != dim:
        raise InputError(f"z: {meas_type} measurements need shape (N, {dim}), got {z.shape}")
    r_s = np.asarray(sensor_r, dtype=np.float64)
    if r_s.shape not in ((3,), (z.shape[0], 3)):
        raise InputError(f"sensor_r: expected shape (3,) or ({z.shape[0]}, 3), got {r_s.shape}")
    return z, np.broadcast_to(r_s, (z.shape[0], 3))


def measurement_to_ecef(meas_type: str, z: np.ndarray, sensor_r: np.ndarray) -> np.ndarray:
    """ECEF position of measurements, for track initiation.

    Parameters
    ----------
    meas_type : {'xyz', 'rae', 'raer', 'los'}
    z : ndarray, shape (N, m)
        Measurements (DESIGN.md units).
    sensor_r : ndarray, shape (N, 3) or (3,)
        Sensor ECEF position, m.

    Returns
    -------
    ndarray, shape (N, 3)
        ECEF position, m; NaN for ``los`` (angles alone give no range).

    Raises
    ------
    hyperdef.errors.InputError
        For an unknown ``meas_type`` or mismatched shapes.
    """
    z, r_s = _check_meas(meas_type, z, sensor_r)
    if meas_type == "xyz":
        return z.copy()
    if meas_type == "los":
        return np.full((z.shape[0], 3), np.nan)
    return aer_to_ecef(z[:, 0:3], ecef_to_lla(r_s), check=False)


def measurement_covariance_to_ecef(
    z: np.ndarray, R: np.ndarray, sensor_r: np.ndarray, meas_type: str = "rae"
) -> np.ndarray:
    """ECEF position covariance of converted measurements, by the conversion's Jacobian.

    ``P = C^T J R_rae J^T C`` with ``J = d(E, N, U) / d(rho, az, el)`` at the measured
    values and ``C`` the ECEF-to-ENU rotation at the sensor; for ``raer`` the range-rate
    row and column of R are dropped, for ``xyz`` R is returned as it is.

    Notes
    -----
    This is the linearised (first-order) conversion. It is consistent while the
    cross-range error is small against the range: Lerro and Bar-Shalom's criterion is
    ``rho sigma_angle^2 / sigma_rho < 0.4``. Beyond it, the converted position is biased
    by the factor ``exp(-sigma_angle^2 / 2)`` along the range and the linearised
    covariance is too small; use the debiased or unbiased conversions of [1], [2] there.
    For track initiation at the ranges and accuracies of hyperdef's radars (sigma_angle
    ~ 1 mrad) the linearised form is adequate.

    Parameters
    ----------
    z : ndarray, shape (N, 3) or (N, 4)
        ``rae`` or ``raer`` measurements.
    R : ndarray, shape (N, m, m)
        Their covariance.
    sensor_r : ndarray, shape (N, 3) or (3,)
        Sensor ECEF position, m.
    meas_type : {'rae', 'raer', 'xyz'}
        Measurement type (``los`` has no position covariance).

    Returns
    -------
    ndarray, shape (N, 3, 3)
        ECEF position covariance, m^2.

    References
    ----------
    .. [1] D. Lerro, Y. Bar-Shalom, "Tracking with debiased consistent converted
       measurements versus EKF", IEEE Trans. Aerospace and Electronic Systems 29(3),
       1015-1022 (1993), doi:10.1109/7.220948.
    .. [2] L. Mo, X. Song, Y. Zhou, Z. K. Sun, Y. Bar-Shalom, "Unbiased converted
       measurements for tracking", IEEE Trans. Aerospace and Electronic Systems 34(3),
       1023-1027 (1998), doi:10.1109/7.705921.
    """
    if meas_type == "los":
        raise InputError("meas_type: 'los' measurements have no position covariance")
    z, r_s = _check_meas(meas_type, z, sensor_r)
    R = np.asarray(R, dtype=np.float64)
    m = z.shape[1]
    if R.shape != (z.shape[0], m, m):
        raise InputError(f"R: expected shape ({z.shape[0]}, {m}, {m}), got {R.shape}")
    if meas_type == "xyz":
        return R.copy()
    rho, az, el = z[:, 0], z[:, 1], z[:, 2]
    sa, ca, se, ce = np.sin(az), np.cos(az), np.sin(el), np.cos(el)
    jac = np.empty((z.shape[0], 3, 3))  # rows E, N, U; columns rho, az, el
    jac[:, 0, 0] = ce * sa
    jac[:, 0, 1] = rho * ce * ca
    jac[:, 0, 2] = -rho * se * sa
    jac[:, 1, 0] = ce * ca
    jac[:, 1, 1] = -rho * ce * sa
    jac[:, 1, 2] = -rho * se * ca
    jac[:, 2, 0] = se
    jac[:, 2, 1] = 0.0
    jac[:, 2, 2] = rho * ce
    c = enu_rotation(ecef_to_lla(r_s), check=False)
    full = np.swapaxes(c, -1, -2) @ jac
    # (full R) full^T, the product written over jac (no longer needed)
    return np.matmul(full, R[:, 0:3, 0:3], out=jac) @ np.swapaxes(full, -1, -2)
