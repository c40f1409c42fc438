"""Shared data for the store tests: synthetic detections and tracks under given markings.

Imported by ``tests/unit/test_store.py``, ``test_access.py``, ``test_audit.py`` and
``tests/integration/test_store_postgres.py`` (pytest puts ``tests/`` on ``sys.path`` for
the root conftest).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from hyperdef.core.frames import lla_to_ecef
from hyperdef.io import IngestResult
from hyperdef.sensors.detections import concat_detections, make_detections
from hyperdef.tracking.tracker import TRACKS_SCHEMA

EPOCH = datetime(2026, 11, 27, tzinfo=UTC)
EPOCH_S = EPOCH.timestamp()
#: a ground radar near Tokyo (lat, lon rad; alt m) and its ECEF position
RADAR_LLA = np.array([np.radians(35.6), np.radians(139.7), 50.0])
RADAR_ECEF = lla_to_ecef(RADAR_LLA)


def detections(
    n: int,
    *,
    marking: str = "REL TO USA, JPN",
    node: str = "USA",
    t0: float = 0.0,
    dt: float = 1.0,
    seed: int = 0,
    sensor_id: str = "radar-1",
) -> pa.Table:
    """n detections: a third xyz, a third rae, a third los (positions over Japan)."""
    rng = np.random.default_rng(seed)
    t = t0 + dt * np.arange(n)
    kinds = np.arange(n) % 3
    tables = []
    for k, kind in enumerate(("xyz", "rae", "los")):
        rows = np.flatnonzero(kinds == k)
        m = rows.size
        if m == 0:
            continue
        if kind == "xyz":
            lla = np.column_stack(
                (
                    np.radians(rng.uniform(30, 40, m)),
                    np.radians(rng.uniform(130, 145, m)),
                    rng.uniform(2e4, 6e4, m),
                )
            )
            z = lla_to_ecef(lla)
            cov = np.eye(3) * 100.0
        elif kind == "rae":
            z = np.column_stack(
                (rng.uniform(5e4, 3e5, m), rng.uniform(0, 2 * np.pi, m), rng.uniform(0.05, 0.5, m))
            )
            cov = np.diag([100.0, 1e-6, 1e-6])
        else:
            z = np.column_stack((rng.uniform(0, 2 * np.pi, m), rng.uniform(0.05, 0.5, m)))
            cov = np.eye(2) * 1e-6
        tables.append(
            make_detections(
                t=t[rows],
                t_report=t[rows] + 0.5,
                sensor_id=sensor_id,
                node=node,
                meas_type=kind,
                z=z,
                R=cov,
                sensor_r_ecef_m=RADAR_ECEF,
                sensor_v_ecef_m_s=np.zeros(3),
                snr=rng.uniform(10, 100, m),
                truth_id=rng.integers(-1, 5, m),
                false_alarm=False,
                marking=marking,
            )  # fmt: skip
        )
    return concat_detections(tables)


def tracks(n: int, *, marking: str = "REL TO USA, JPN", node: str = "USA", t0: float = 0.0):
    """n track rows over Japan (one track id per 10 rows)."""
    lla = np.column_stack(
        (
            np.radians(np.linspace(30, 40, n)),
            np.radians(np.linspace(130, 145, n)),
            np.full(n, 3e4),
        )
    )
    r = lla_to_ecef(lla) if n else np.zeros((0, 3))
    columns = {
        "t": t0 + np.arange(n, dtype=float),
        "track_id": np.arange(n, dtype=np.int64) // 10,
        "node": [node] * n,
        "status": ["confirmed"] * n,
        "x": r[:, 0], "y": r[:, 1], "z": r[:, 2],
        "vx": np.full(n, 2000.0), "vy": np.zeros(n), "vz": np.zeros(n),
        "P": [list(np.eye(6).ravel() * (i + 1)) for i in range(n)],
        "model_probs": [[0.5, 0.5]] * n,
        "marking": [marking] * n,
        "n_updates": np.arange(n, dtype=np.int64),
        "truth_id": np.zeros(n, dtype=np.int64),
    }  # fmt: skip
    return pa.Table.from_pydict(columns, schema=TRACKS_SCHEMA)


def result(detections_table=None, tracks_table=None, **skipped) -> IngestResult:
    """An IngestResult at :data:`EPOCH`."""
    from collections import Counter

    return IngestResult(
        format="test",
        epoch=EPOCH,
        detections=detections_table,
        tracks=tracks_table,
        packets=0,
        skipped=Counter(skipped),
    )
