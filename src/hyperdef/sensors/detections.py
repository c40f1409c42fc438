"""The Detections table: one row per report from any sensor (DESIGN.md).

Sensors produce their reports as NumPy batches of one measurement type; this module
turns such a batch into the columnar table every later stage reads, joins batches of
different sensors and types, and writes and reads it as Parquet without loss.

Columns, in order: t, t_report (s from the scenario epoch), sensor_id, node,
meas_type (``xyz``, ``rae``, ``raer`` or ``los``), z (list of the measured values, SI,
angles in rad), R (list, the measurement covariance row-major), sensor_x/y/z and
sensor_vx/vy/vz (ECEF of the sensor at t, m and m/s), snr (linear power ratio, NaN
where a sensor has none), truth_id (-1 for a false alarm), false_alarm, marking.
``truth_id`` and ``false_alarm`` are for evaluation only: a tracker never reads them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from hyperdef.errors import InputError

#: measurement types and the length of their measurement vector z
MEAS_DIM: dict[str, int] = {"xyz": 3, "rae": 3, "raer": 4, "los": 2}

SCHEMA = pa.schema(
    [
        pa.field("t", pa.float64(), metadata={"unit": "s"}),
        pa.field("t_report", pa.float64(), metadata={"unit": "s"}),
        pa.field("sensor_id", pa.string()),
        pa.field("node", pa.string()),
        pa.field("meas_type", pa.string()),
        pa.field("z", pa.list_(pa.float64()), metadata={"unit": "SI (m, rad, m/s)"}),
        pa.field("R", pa.list_(pa.float64()), metadata={"unit": "SI squared, row-major"}),
        pa.field("sensor_x", pa.float64(), metadata={"unit": "m"}),
        pa.field("sensor_y", pa.float64(), metadata={"unit": "m"}),
        pa.field("sensor_z", pa.float64(), metadata={"unit": "m"}),
        pa.field("sensor_vx", pa.float64(), metadata={"unit": "m/s"}),
        pa.field("sensor_vy", pa.float64(), metadata={"unit": "m/s"}),
        pa.field("sensor_vz", pa.float64(), metadata={"unit": "m/s"}),
        pa.field("snr", pa.float64(), metadata={"unit": "linear"}),
        pa.field("truth_id", pa.int64()),
        pa.field("false_alarm", pa.bool_()),
        pa.field("marking", pa.string()),
    ],
    metadata={"frame": "ECEF WGS-84; z in the sensor's ENU frame", "time": "s from epoch"},
)

COLUMNS: tuple[str, ...] = tuple(SCHEMA.names)


def _list_column(values: np.ndarray, width: int) -> pa.ListArray:
    flat = pa.array(np.ascontiguousarray(values, dtype=float).reshape(-1))
    offsets = pa.array(np.arange(values.shape[0] + 1, dtype=np.int32) * width)
    return pa.ListArray.from_arrays(offsets, flat)


def _broadcast(value, n: int, dtype, field: str) -> np.ndarray:
    array = np.asarray(value, dtype=dtype)
    if array.ndim == 0:
        return np.full(n, array.item(), dtype=dtype)
    if array.shape != (n,):
        raise InputError(f"{field}: shape {array.shape} does not match {n} reports")
    return array


def make_detections(
    *,
    t: np.ndarray,
    t_report: np.ndarray,
    sensor_id: str | np.ndarray,
    node: str | np.ndarray,
    meas_type: str,
    z: np.ndarray,
    R: np.ndarray,
    sensor_r_ecef_m: np.ndarray,
    sensor_v_ecef_m_s: np.ndarray,
    snr: np.ndarray | float,
    truth_id: np.ndarray,
    false_alarm: np.ndarray | bool,
    marking: str | np.ndarray,
) -> pa.Table:
    """Detections table of n reports of one measurement type.

    Parameters
    ----------
    t, t_report : ndarray, shape (n,)
        Measurement time and the time the report reaches its node, s from epoch.
    sensor_id, node, marking : str or ndarray of str, shape (n,)
    meas_type : str
        One of :data:`MEAS_DIM`.
    z : ndarray, shape (n, m)
        Measurements, m = ``MEAS_DIM[meas_type]``.
    R : ndarray, shape (n, m, m) or (m, m)
        Measurement covariances.
    sensor_r_ecef_m, sensor_v_ecef_m_s : ndarray, shape (n, 3) or (3,)
        Sensor position and velocity (ECEF) at t.
    snr : ndarray, shape (n,), or float
        Signal-to-noise power ratio, linear (NaN where the sensor has none).
    truth_id : ndarray of int, shape (n,)
        Object observed, -1 for a false alarm.
    false_alarm : ndarray of bool, shape (n,), or bool
    """
    if meas_type not in MEAS_DIM:
        raise InputError(f"meas_type: {meas_type!r} is not one of {', '.join(MEAS_DIM)}")
    m = MEAS_DIM[meas_type]
    t = np.asarray(t, dtype=float).reshape(-1)
    n = t.size
    z = np.asarray(z, dtype=float)
    z = z.reshape(n, -1) if n else z.reshape(0, m)  # a batch may hold no report
    if z.shape[1] != m:
        raise InputError(f"z: {meas_type} measurements have {m} values, got {z.shape[1]}")
    R = np.broadcast_to(np.asarray(R, dtype=float), (n, m, m))
    sensor_r = np.broadcast_to(np.asarray(sensor_r_ecef_m, dtype=float), (n, 3))
    sensor_v = np.broadcast_to(np.asarray(sensor_v_ecef_m_s, dtype=float), (n, 3))
    columns = [
        t,
        _broadcast(t_report, n, float, "t_report"),
        pa.array(_broadcast(sensor_id, n, object, "sensor_id"), pa.string()),
        pa.array(_broadcast(node, n, object, "node"), pa.string()),
        pa.array(np.full(n, meas_type, dtype=object), pa.string()),
        _list_column(z, m),
        _list_column(R.reshape(n, m * m), m * m),
        sensor_r[:, 0],
        sensor_r[:, 1],
        sensor_r[:, 2],
        sensor_v[:, 0],
        sensor_v[:, 1],
        sensor_v[:, 2],
        _broadcast(snr, n, float, "snr"),
        _broadcast(truth_id, n, np.int64, "truth_id"),
        _broadcast(false_alarm, n, bool, "false_alarm"),
        pa.array(_broadcast(marking, n, object, "marking"), pa.string()),
    ]
    return pa.Table.from_arrays(
        [pa.array(c) if isinstance(c, np.ndarray) else c for c in columns], schema=SCHEMA
    )


def empty_detections() -> pa.Table:
    """A Detections table with no rows."""
    return SCHEMA.empty_table()


def concat_detections(tables: list[pa.Table]) -> pa.Table:
    """Join Detections tables and sort the rows by measurement time (stable)."""
    if not tables:
        return empty_detections()
    joined = pa.concat_tables([table.select(COLUMNS).cast(SCHEMA) for table in tables])
    order = np.argsort(joined.column("t").to_numpy(), kind="stable")
    return joined.take(pa.array(order))


def measurements(table: pa.Table, meas_type: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows of one measurement type as arrays.

    Returns
    -------
    rows : ndarray of int, shape (k,)
        Row numbers in ``table``.
    z : ndarray, shape (k, m)
    R : ndarray, shape (k, m, m)
    """
    m = MEAS_DIM[meas_type]
    kinds = table.column("meas_type").to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(kinds == meas_type)
    sub = table.take(pa.array(rows))
    z = sub.column("z").combine_chunks().flatten().to_numpy().reshape(rows.size, m)
    R = sub.column("R").combine_chunks().flatten().to_numpy().reshape(rows.size, m, m)
    return rows, z, R


def write_detections(table: pa.Table, path: str | Path) -> None:
    """Write a Detections table to Parquet atomically (nothing half-written on failure)."""
    from hyperdef.report import atomic_output

    with atomic_output(Path(path)) as tmp:
        pq.write_table(table.cast(SCHEMA), tmp)


def read_detections(path: str | Path) -> pa.Table:
    """Read a Detections table written by :func:`write_detections`.

    Raises
    ------
    InputError
        If the file lacks a column of the Detections table.
    """
    table = pq.read_table(path)
    missing = [name for name in COLUMNS if name not in table.column_names]
    if missing:
        raise InputError(f"{path}: not a Detections table, missing columns {', '.join(missing)}")
    return table.select(COLUMNS).cast(SCHEMA)
