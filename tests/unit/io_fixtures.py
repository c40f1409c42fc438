"""Simulated MQ-9 ISR scenes for the KLV and GMTI format tests (no vendored files).

An MQ-9 flies the default racetrack of :mod:`hyperdef.sensors.airborne` (15 km, 90 m/s)
off Okinawa and reports a made-up set of ground movers (straight lines at 5-25 m/s,
0-200 m above the ellipsoid, 20-60 km from the orbit centre): its radar as ``raer``
(range, azimuth, elevation, range-rate, with the radar's default noise), its EO/IR
geolocation as ``xyz`` target points with a circular CE / LE covariance, and one ``los``
row that neither format can carry.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from hyperdef.core.frames import (
    ecef_to_aer,
    ecef_to_lla,
    enu_rotation,
    enu_vector_to_ecef,
    lla_to_ecef,
)
from hyperdef.sensors.airborne import AirborneRadar, Racetrack
from hyperdef.sensors.detections import concat_detections, make_detections

EPOCH = datetime(2026, 3, 1, tzinfo=UTC)
ORBIT = Racetrack(math.radians(26.3), math.radians(127.8))
MARKING = "REL TO USA, JPN"
RADAR = AirborneRadar()


def ground_movers(n_targets: int, times: np.ndarray, rng: np.random.Generator):
    """ECEF position and velocity of ``n_targets`` movers at ``times``: (K, B, 3) each."""
    bearing = rng.uniform(0.0, 2.0 * math.pi, n_targets)
    distance = rng.uniform(20e3, 60e3, n_targets)
    lat0 = ORBIT.center_lat_rad + distance * np.cos(bearing) / 6.371e6
    lon0 = ORBIT.center_lon_rad + distance * np.sin(bearing) / (
        6.371e6 * math.cos(ORBIT.center_lat_rad)
    )
    height = rng.uniform(0.0, 200.0, n_targets)
    start_lla = np.column_stack((lat0, lon0, height))
    speed = rng.uniform(5.0, 25.0, n_targets)
    course = rng.uniform(0.0, 2.0 * math.pi, n_targets)
    v_enu = np.column_stack((speed * np.sin(course), speed * np.cos(course), np.zeros(n_targets)))
    v_ecef = enu_vector_to_ecef(v_enu, start_lla)
    r0 = lla_to_ecef(start_lla)
    r = r0[None, :, :] + times[:, None, None] * v_ecef[None, :, :]
    return r, np.broadcast_to(v_ecef, r.shape)


def radar_table(rng, *, n_targets=4, times=None, node="JPN", marking=MARKING) -> pa.Table:
    """MQ-9 radar ``raer`` reports of the movers (one per target per look)."""
    times = np.arange(0.0, 20.0, 2.0) if times is None else np.asarray(times, float)
    r_t, v_t = ground_movers(n_targets, times, rng)
    r_s, v_s = ORBIT.position_velocity_ecef(times)
    k, b = np.meshgrid(np.arange(times.size), np.arange(n_targets), indexing="ij")
    k, b = k.ravel(), b.ravel()
    aer = ecef_to_aer(r_t[k, b], ecef_to_lla(r_s[k]))
    dr, dv = r_t[k, b] - r_s[k], v_t[k, b] - v_s[k]
    range_rate = np.sum(dr * dv, axis=-1) / np.linalg.norm(dr, axis=-1)
    sig = np.array([RADAR.range_sigma_m, RADAR.angle_sigma_rad, RADAR.angle_sigma_rad, 1.0])
    z = np.column_stack((aer, range_rate)) + sig * rng.standard_normal((k.size, 4))
    return make_detections(
        t=times[k],
        t_report=times[k] + 1.0,
        sensor_id="MQ9-1-radar",
        node=node,
        meas_type="raer",
        z=z,
        R=np.diag(sig**2),
        sensor_r_ecef_m=r_s[k],
        sensor_v_ecef_m_s=v_s[k],
        snr=rng.uniform(10.0, 1000.0, k.size),
        truth_id=b,
        false_alarm=False,
        marking=marking,
    )


def enu_covariance_ecef(target_r: np.ndarray, sigma_h: np.ndarray, sigma_v: np.ndarray):
    """ECEF covariance diag(sigma_h^2, sigma_h^2, sigma_v^2) in ENU at the targets."""
    rot = enu_rotation(ecef_to_lla(target_r))
    diag = np.stack((sigma_h**2, sigma_h**2, sigma_v**2), axis=-1)
    return np.einsum("nki,nk,nkj->nij", rot, diag, rot)


def eoir_table(rng, *, n_targets=3, times=None, node="USA", marking=MARKING) -> pa.Table:
    """MQ-9 EO/IR target geolocations (``xyz``) with circular CE / LE covariance."""
    times = np.arange(0.0, 10.0, 1.0) if times is None else np.asarray(times, float)
    r_t, _ = ground_movers(n_targets, times, rng)
    r_s, v_s = ORBIT.position_velocity_ecef(times)
    k, b = np.meshgrid(np.arange(times.size), np.arange(n_targets), indexing="ij")
    k, b = k.ravel(), b.ravel()
    sigma_h = rng.uniform(3.0, 30.0, k.size)
    sigma_v = rng.uniform(2.0, 20.0, k.size)
    return make_detections(
        t=times[k] + 0.123456,
        t_report=times[k] + 1.0,
        sensor_id="MQ9-1-eoir",
        node=node,
        meas_type="xyz",
        z=r_t[k, b],
        R=enu_covariance_ecef(r_t[k, b], sigma_h, sigma_v),
        sensor_r_ecef_m=r_s[k],
        sensor_v_ecef_m_s=v_s[k],
        snr=np.nan,
        truth_id=b,
        false_alarm=False,
        marking=marking,
    )


def los_row() -> pa.Table:
    """One EO/IR ``los`` report: no position, written by neither format."""
    r_s, v_s = ORBIT.position_velocity_ecef(np.array([0.5]))
    return make_detections(
        t=np.array([0.5]),
        t_report=np.array([0.5]),
        sensor_id="MQ9-1-eoir",
        node="USA",
        meas_type="los",
        z=np.array([[0.3, -0.2]]),
        R=np.eye(2) * 1e-6,
        sensor_r_ecef_m=r_s,
        sensor_v_ecef_m_s=v_s,
        snr=5.0,
        truth_id=np.array([0]),
        false_alarm=False,
        marking=MARKING,
    )


def mixed_table(seed: int = 7) -> pa.Table:
    """EO/IR ``xyz``, radar ``raer`` and one ``los`` row, sorted by time."""
    rng = np.random.default_rng(seed)
    return concat_detections([eoir_table(rng), radar_table(rng), los_row()])


def mutate(data: bytearray, rng) -> bytes:
    """1-4 random truncations, byte flips, insertions or deletions of ``data`` (fuzzing)."""
    for _ in range(rng.randint(1, 4)):
        op, i = rng.randrange(4), rng.randint(0, len(data))
        if op == 0:
            del data[i:]
        elif op == 1 and i < len(data):
            data[i] = rng.randrange(256)
        elif op == 2:
            data[i:i] = rng.randbytes(rng.randint(0, 20))
        else:
            del data[i : i + rng.randint(1, 40)]
    return bytes(data)
