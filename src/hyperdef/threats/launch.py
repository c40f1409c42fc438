"""Helpers shared by every threat: launch geometry, pad state, trajectory assembly."""

from __future__ import annotations

import numpy as np

from hyperdef.core.frames import geodesic_distance_m, lla_to_ecef
from hyperdef.core.integrate import Samples
from hyperdef.threats.trajectory import Trajectory, build_trajectory


def launch_geometry(launch_lla: np.ndarray, aim_lla: np.ndarray):
    """ECEF launch and aim points and the ellipsoidal ground range between them.

    Returns ``(launch_ecef_m (B, 3), aim_ecef_m (B, 3), range_m (B,))``.
    """
    return lla_to_ecef(launch_lla), lla_to_ecef(aim_lla), geodesic_distance_m(launch_lla, aim_lla)


def pad_state(r_ecef_m: np.ndarray, mass_kg: float | np.ndarray) -> np.ndarray:
    """Point-mass state at rest on the pad, shape (B, 7)."""
    y = np.zeros((r_ecef_m.shape[0], 7))
    y[:, 0:3] = r_ecef_m
    y[:, 6] = mass_kg
    return y


def assemble(
    kind: np.ndarray,
    parts: list[tuple[Samples, int | np.ndarray]],
    nose_radius_m: np.ndarray,
    launch_lla: np.ndarray,
    aim_lla: np.ndarray,
    impact: np.ndarray,
) -> Trajectory:
    """Join the samples of every phase of a batch into one :class:`Trajectory`.

    ``parts`` pairs each phase's samples with its phase code (one code, or one per row).
    """
    index = np.concatenate([s.index for s, _ in parts])
    t = np.concatenate([s.t for s, _ in parts])
    y = np.concatenate([s.y for s, _ in parts])
    dydt = np.concatenate([s.dydt for s, _ in parts])
    phase = np.concatenate([np.broadcast_to(np.asarray(code), s.t.shape) for s, code in parts])
    status = np.where(impact, "impact", "time_limit")
    return build_trajectory(
        kind, index, t, y, dydt, phase, nose_radius_m, launch_lla, aim_lla, status
    )
