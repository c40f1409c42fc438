"""Seeker line-of-sight measurement and its filtering, batched.

The seeker measures the direction to the target (two angles) with independent Gaussian
noise of standard deviation sigma on each, modelled as a random tilt of the true
line-of-sight unit vector across itself. A second-order fading-memory filter smooths the
measured unit vector and estimates its rate (the line-of-sight rate the guidance law
needs); with memory factor beta its gains are G = 1 - beta^2 and H = (1 - beta)^2 per
sample (Zarchan & Musoff 2015, ch. 7; Morrison 1969). Range and range rate come over the
uplink from the fire-control radar track, not from an angle-only seeker.

References
----------
.. [1] P. Zarchan and H. Musoff, *Fundamentals of Kalman Filtering: A Practical
   Approach*, 4th ed., AIAA, 2015, ch. 7 (fading-memory filters, gains G and H).
.. [2] N. Morrison, *Introduction to Sequential Smoothing and Prediction*, McGraw-Hill,
   1969, ch. 13 (discounted least squares: the fading-memory polynomial filter).
"""

from __future__ import annotations

import numpy as np

from hyperdef.engagement.flight import dot, norm


def perpendicular_basis(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors completing each row of ``u`` (unit, (n, 3)) to an orthonormal triad."""
    # cross with the axis least aligned with u, written out
    pick_x = np.abs(u[:, 0]) < 0.9
    helper = np.zeros_like(u)
    helper[pick_x, 0] = 1.0
    helper[~pick_x, 1] = 1.0
    e1 = np.empty_like(u)
    e1[:, 0] = u[:, 1] * helper[:, 2] - u[:, 2] * helper[:, 1]
    e1[:, 1] = u[:, 2] * helper[:, 0] - u[:, 0] * helper[:, 2]
    e1[:, 2] = u[:, 0] * helper[:, 1] - u[:, 1] * helper[:, 0]
    e1 /= norm(e1)[:, None]
    e2 = np.empty_like(u)
    e2[:, 0] = u[:, 1] * e1[:, 2] - u[:, 2] * e1[:, 1]
    e2[:, 1] = u[:, 2] * e1[:, 0] - u[:, 0] * e1[:, 2]
    e2[:, 2] = u[:, 0] * e1[:, 1] - u[:, 1] * e1[:, 0]
    return e1, e2


def measure_line_of_sight(u_true: np.ndarray, sigma_rad: float,
                          rng: np.random.Generator | None, *,
                          standard_normals: np.ndarray | None = None) -> np.ndarray:
    """Noisy line-of-sight unit vectors, shape (n, 3).

    Parameters
    ----------
    u_true : ndarray, shape (n, 3)
        True unit vectors from interceptor to target.
    sigma_rad : float
        Standard deviation of each of the two angle errors, rad.
    rng : numpy.random.Generator or None
        Draws the errors (unused with ``standard_normals``).
    standard_normals : ndarray, shape (n, 2), optional
        Standard normal draws to scale into the two errors instead (e.g. one stream per
        interceptor).
    """
    if sigma_rad <= 0.0:
        return u_true.copy()
    e1, e2 = perpendicular_basis(u_true)
    if standard_normals is None:
        standard_normals = rng.standard_normal((u_true.shape[0], 2))
    noise = sigma_rad * standard_normals
    tilted = u_true + noise[:, :1] * e1 + noise[:, 1:] * e2
    return tilted / norm(tilted)[:, None]


def off_boresight_cos(v_m: np.ndarray, u_los: np.ndarray) -> np.ndarray:
    """Cosine of the angle between the velocity (the body axis) and the line of sight."""
    return dot(v_m, u_los) / np.maximum(norm(v_m), 1e-9)


class LineOfSightFilter:
    """Second-order fading-memory filter of the line-of-sight unit vector, n channels.

    Parameters
    ----------
    n : int
        Number of interceptors.
    memory : float
        Fading-memory factor beta in [0, 1): larger smooths more and lags more.
    """

    def __init__(self, n: int, memory: float):
        self.memory = float(memory)
        self.u = np.zeros((n, 3))
        self.rate = np.zeros((n, 3))
        self.started = np.zeros(n, dtype=bool)

    def start(self, idx: np.ndarray, u_measured: np.ndarray, rate: np.ndarray) -> None:
        """Initialise channels ``idx`` from a first measurement and a rate guess (1/s)."""
        self.u[idx] = u_measured
        self.rate[idx] = rate
        self.started[idx] = True

    def update(self, idx: np.ndarray, u_measured: np.ndarray, dt_s: float
               ) -> tuple[np.ndarray, np.ndarray]:
        """Predict by ``dt_s`` and correct with new measurements; return (u, du/dt)."""
        beta = self.memory
        g = 1.0 - beta * beta
        h = (1.0 - beta) ** 2
        predicted = self.u[idx] + self.rate[idx] * dt_s
        residual = u_measured - predicted
        u = predicted + g * residual
        rate = self.rate[idx] + (h / dt_s) * residual
        self.u[idx] = u
        self.rate[idx] = rate
        return u, rate
