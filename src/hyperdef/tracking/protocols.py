"""The interfaces every motion and measurement model of the tracker implements.

All arrays are batched over tracks (axis 0, size N) and SI (m, s, rad), in ECEF.
A model is a small frozen dataclass holding its parameters (STYLE 4); its methods are
pure functions of their arguments.

Motion model (``MotionModel``)
    ``dim``: state length n. The first six components are always ECEF position and
    velocity (x, y, z, vx, vy, vz), so every model's estimate can be written to the
    Tracks table and mixed in an IMM; extra components (acceleration, ballistic
    coefficient, lift and bank parameters) follow.

    ``predict(x, dt_s) -> (x_pred, F)``: the state propagated by ``dt_s`` (shape (N,)
    or scalar, s) and the Jacobian of the propagation, F of shape (N, n, n) (for a
    linear model simply the transition matrix).

    ``process_noise(x, dt_s) -> Q``: the discrete process-noise covariance (N, n, n).

Measurement model (``MeasurementModel``)
    ``meas_type``: one of ``xyz``, ``rae``, ``raer``, ``los`` (DESIGN.md); ``dim``: m.

    ``predict(x, sensor_r_ecef_m, sensor_v_ecef_m_s) -> (z_pred, H)``: the predicted
    measurement (N, m) of states x (N, n) (only the first six components are used) seen
    from sensors at the given ECEF positions and velocities (N, 3), and its Jacobian
    H (N, m, n).

    ``residual(z, z_pred) -> nu``: measurement minus prediction (N, m), with angles
    wrapped to (-pi, pi].
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class MotionModel(Protocol):
    dim: int

    def predict(self, x: np.ndarray, dt_s: np.ndarray | float
                ) -> tuple[np.ndarray, np.ndarray]: ...

    def process_noise(self, x: np.ndarray, dt_s: np.ndarray | float) -> np.ndarray: ...


class MeasurementModel(Protocol):
    meas_type: str
    dim: int

    def predict(self, x: np.ndarray, sensor_r_ecef_m: np.ndarray,
                sensor_v_ecef_m_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def residual(self, z: np.ndarray, z_pred: np.ndarray) -> np.ndarray: ...
