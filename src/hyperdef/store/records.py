"""Detections and Tracks tables to database rows and back, with content hashes.

A record's content hash is SHA-256 over a canonical binary encoding of its values:
a domain tag, the numbers as little-endian float64/int64 (absolute times in Unix seconds,
so the same report read against another epoch hashes the same; every NaN as the one
canonical NaN), the measurement arrays as float64 (a detection's z and R zero-padded to 4
and 16 values: its meas_type fixes their lengths), then the strings as UTF-8 separated by
NUL, the marking in its canonical form. The 32-byte digest is stored (``content_hash``,
unique), so ingesting a file twice adds nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import repeat

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hyperdef.core.frames import aer_to_ecef, ecef_to_lla
from hyperdef.core.markings import NODES, format_marking, parse_marking
from hyperdef.errors import InputError
from hyperdef.sensors.detections import MEAS_DIM
from hyperdef.sensors.detections import SCHEMA as DETECTIONS_SCHEMA
from hyperdef.tracking.tracker import TRACKS_SCHEMA

__all__ = [
    "DETECTION_COLUMNS",
    "TRACK_COLUMNS",
    "Encoded",
    "detections_table",
    "encode_detections",
    "encode_tracks",
    "tracks_table",
]

_SENSOR = ("sensor_x", "sensor_y", "sensor_z", "sensor_vx", "sensor_vy", "sensor_vz")
_STATE = ("x", "y", "z", "vx", "vy", "vz")
#: database columns written per detection, in the order of :attr:`Encoded.columns`
DETECTION_COLUMNS: tuple[str, ...] = (
    "content_hash", "source", "t_utc", "t", "t_report", "sensor_id", "node", "meas_type",
    "z", "R", *_SENSOR, "snr", "truth_id", "false_alarm", "marking", "lat", "lon", "alt",
)  # fmt: skip
#: database columns written per track
TRACK_COLUMNS: tuple[str, ...] = (
    "content_hash", "source", "t_utc", "t", "track_id", "node", "status", *_STATE,
    "P", "model_probs", "marking", "n_updates", "truth_id", "lat", "lon", "alt",
)  # fmt: skip
_STATUS = frozenset({"tentative", "confirmed", "deleted"})
_RAD = 180.0 / np.pi


@dataclass(frozen=True, slots=True)
class Encoded:
    """Rows ready for a bulk insert.

    Attributes
    ----------
    columns : tuple of str
        Database column names of each value in a row.
    data : list of list
        The values, one list per column.
    n : int
        Records.
    markings : frozenset of str
        Canonical markings present.
    groups : frozenset of tuple (marking, node)
        Distinct (marking, originating node) pairs present.
    """

    columns: tuple[str, ...]
    data: list[list]
    n: int
    markings: frozenset[str]
    groups: frozenset[tuple[str, str]]

    def rows(self, *leading) -> Iterator[tuple]:
        """The rows as tuples, each starting with the values ``leading`` (lazily)."""
        return zip(*(repeat(v, self.n) for v in leading), *self.data, strict=True)


# ------------------------------------------------------------------ column helpers


def _floats(table: pa.Table, name: str, what: str, default: float | None = None) -> np.ndarray:
    if name not in table.column_names:
        if default is None:
            raise InputError(f"{what}: missing column {name!r}")
        return np.full(table.num_rows, default)
    column = table.column(name)
    try:
        return np.asarray(column.to_numpy(), dtype=np.float64)
    except (pa.ArrowInvalid, TypeError, ValueError) as error:
        raise InputError(f"{what}.{name}: not numeric ({column.type})") from error


def _finite(values: np.ndarray, name: str) -> None:
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise InputError(f"{name}: row {bad[0]} is {values[bad[0]]}, must be a finite number")


def _ints(table: pa.Table, name: str, what: str, default: int | None) -> np.ndarray:
    if name not in table.column_names:
        return np.full(table.num_rows, default if default is not None else 0, dtype=np.int64)
    column = table.column(name)
    if column.null_count:
        raise InputError(f"{what}.{name}: has {column.null_count} null values")
    return np.asarray(column.to_numpy(), dtype=np.int64)


def _strings(table: pa.Table, name: str, what: str) -> list[str]:
    if name not in table.column_names:
        raise InputError(f"{what}: missing column {name!r}")
    column = table.column(name)
    if column.null_count:
        raise InputError(f"{what}.{name}: has {column.null_count} null values")
    try:
        return column.cast(pa.string()).to_pylist()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise InputError(f"{what}.{name}: expected strings, got {column.type}") from error


def _lists(table: pa.Table, name: str, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Flat float64 values and offsets (n + 1) of a list column."""
    if name not in table.column_names:
        raise InputError(f"{what}: missing column {name!r}")
    column = table.column(name).combine_chunks()
    if not (pa.types.is_list(column.type) or pa.types.is_large_list(column.type)):
        raise InputError(f"{what}.{name}: expected a list of float64, got {column.type}")
    if column.null_count:
        raise InputError(f"{what}.{name}: has {column.null_count} null lists")
    offsets = column.offsets.to_numpy().astype(np.int64)
    values = np.asarray(column.values.to_numpy(zero_copy_only=False), dtype="<f8")
    return values, offsets


def _blobs(values: np.ndarray, offsets: np.ndarray) -> list[bytes]:
    buffer = values.tobytes()
    bounds = (offsets * 8).tolist()
    return [buffer[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _canonical_markings(table: pa.Table, what: str) -> tuple[pa.Array, frozenset[str]]:
    """The marking column in canonical form (parsed once per distinct marking)."""
    if "marking" not in table.column_names:
        raise InputError(f"{what}: missing column 'marking'")
    column = table.column("marking").combine_chunks().cast(pa.string())
    if column.null_count:
        raise InputError(f"{what}.marking: has {column.null_count} null values")
    distinct = pc.unique(column)
    canonical = pa.array(
        [format_marking(parse_marking(m, f"{what}.marking")) for m in distinct.to_pylist()],
        pa.string(),
    )
    return canonical.take(pc.index_in(column, distinct)), frozenset(canonical.to_pylist())


def _text(table: pa.Table, names: tuple[str, ...], marking: pa.Array) -> list[bytes]:
    """Per-row UTF-8 of the string columns and the canonical marking, NUL-separated."""
    columns = [table.column(n).combine_chunks().cast(pa.string()) for n in names]
    joined = pc.binary_join_element_wise(*columns, marking, "\0")
    return joined.cast(pa.binary()).to_pylist()


def _padded(values: np.ndarray, offsets: np.ndarray, width: int) -> np.ndarray:
    """Each row's list as a row of ``width`` values, zero-padded (lengths <= width)."""
    n = offsets.shape[0] - 1
    index = np.arange(width)
    mask = index < np.diff(offsets)[:, None]
    out = np.zeros((n, width))
    out[mask] = values[(offsets[:-1, None] + index)[mask]]
    return out


def _check_nodes(nodes: list[str], what: str) -> None:
    unknown = set(nodes) - NODES
    if unknown:
        raise InputError(
            f"{what}.node: unknown node {sorted(unknown)[0]!r}; allowed ISO 3166 trigraphs: "
            + ", ".join(sorted(NODES))
        )


def _nullable(values: np.ndarray) -> list[float | None]:
    return [None if v != v else v for v in values.tolist()]


def _numeric_block(floats: list[np.ndarray], ints: list[np.ndarray]) -> tuple[bytes, int]:
    """Per-row canonical bytes of the numeric values, as one buffer and its row width."""
    n = floats[0].shape[0]
    f = np.column_stack(floats).astype("<f8")  # 1-D columns and 2-D blocks alike
    f[np.isnan(f)] = np.nan  # one canonical NaN bit pattern
    parts = [f.view(np.uint8).reshape(n, -1)]
    parts += [np.asarray(i, dtype="<i8").reshape(n, 1).view(np.uint8) for i in ints]
    block = np.ascontiguousarray(np.concatenate(parts, axis=1))
    return block.tobytes(), block.shape[1]


def _hashes(tag: bytes, block: bytes, width: int, *per_row: list[bytes]) -> list[bytes]:
    sha = hashlib.sha256
    starts = range(0, len(block), width)
    if len(per_row) == 1:  # the common, faster path
        return [
            sha(tag + block[s : s + width] + extra).digest()
            for s, extra in zip(starts, per_row[0], strict=True)
        ]
    return [
        sha(b"".join((tag, block[s : s + width], *extra))).digest()
        for s, *extra in zip(starts, *per_row, strict=True)
    ]


def _lla_deg(r_ecef_m: np.ndarray) -> np.ndarray:
    """Geodetic lat, lon (deg) and alt (m) of ECEF positions; NaN where not a position."""
    out = np.full(r_ecef_m.shape, np.nan)
    ok = np.isfinite(r_ecef_m).all(axis=1) & (np.linalg.norm(r_ecef_m, axis=1) > 1.0e6)
    if ok.any():
        lla = ecef_to_lla(r_ecef_m[ok])
        out[ok, 0] = lla[:, 0] * _RAD
        out[ok, 1] = lla[:, 1] * _RAD
        out[ok, 2] = lla[:, 2]
    return out


# ------------------------------------------------------------------ detections


def _detection_positions(kinds, z_values, z_offsets, sensor_r) -> np.ndarray:
    """ECEF position of each detection that has one (xyz, rae, raer); NaN otherwise."""
    n = kinds.shape[0]
    position = np.full((n, 3), np.nan)
    first = z_offsets[:-1]
    z3 = np.full((n, 3), np.nan)
    has3 = np.isin(kinds, ("xyz", "rae", "raer"))
    for k in range(3):
        z3[has3, k] = z_values[first[has3] + k]
    xyz = kinds == "xyz"
    position[xyz] = z3[xyz]
    ranged = np.isin(kinds, ("rae", "raer")) & np.isfinite(sensor_r).all(axis=1)
    ranged &= np.linalg.norm(np.nan_to_num(sensor_r), axis=1) > 1.0e6
    if ranged.any():
        ref = ecef_to_lla(sensor_r[ranged])
        position[ranged] = aer_to_ecef(z3[ranged], ref, check=False)
    return position


def encode_detections(table: pa.Table, epoch_s: float, source: str) -> Encoded:
    """Rows of a Detections table for the ``detections`` table.

    Parameters
    ----------
    table : pyarrow.Table
        Detections (DESIGN.md columns; ``t_report``, ``snr``, ``truth_id``,
        ``false_alarm`` and the sensor velocity may be missing).
    epoch_s : float
        Unix time of the table's epoch, s.
    source : str
        Where the records came from (stored per record).

    Raises
    ------
    InputError
        For a missing column, an unknown node or measurement type, a bad marking, a
        non-finite time or a measurement of the wrong length.
    """
    what = "detections"
    n = table.num_rows
    t = _floats(table, "t", what)
    _finite(t, f"{what}.t")
    t_report = _floats(table, "t_report", what, default=np.nan) if n else t
    t_report = np.where(np.isnan(t_report), t, t_report)
    sensor = [_floats(table, c, what, default=np.nan if "v" in c else None) for c in _SENSOR]
    snr = _floats(table, "snr", what, default=np.nan)
    truth_id = _ints(table, "truth_id", what, -1)
    false_alarm = (
        np.asarray(table.column("false_alarm").to_numpy(zero_copy_only=False), dtype=bool)
        if "false_alarm" in table.column_names
        else np.zeros(n, dtype=bool)
    )
    sensor_id = _strings(table, "sensor_id", what)
    node = _strings(table, "node", what)
    _check_nodes(node, what)
    meas_type = _strings(table, "meas_type", what)
    unknown = set(meas_type) - MEAS_DIM.keys()
    if unknown:
        raise InputError(
            f"{what}.meas_type: {sorted(unknown)[0]!r} is not one of {', '.join(MEAS_DIM)}"
        )
    marking_array, markings = _canonical_markings(table, what)
    marking = marking_array.to_pylist()
    z_values, z_offsets = _lists(table, "z", what)
    r_values, r_offsets = _lists(table, "R", what)
    kinds = np.array(meas_type, dtype=object)
    dim = np.zeros(n, dtype=np.int64)
    for kind, m in MEAS_DIM.items():
        dim[kinds == kind] = m
    for name, offsets, want in (("z", z_offsets, dim), ("R", r_offsets, dim * dim)):
        bad = np.flatnonzero(np.diff(offsets) != want)
        if bad.size:
            i = bad[0]
            raise InputError(
                f"{what}.{name}: row {i} ({meas_type[i]}) has {offsets[i + 1] - offsets[i]} "
                f"values, expected {want[i]}"
            )
    t_utc = epoch_s + t
    t_report_utc = epoch_s + t_report
    sensor_r = np.column_stack(sensor[:3]) if n else np.zeros((0, 3))
    lla = _lla_deg(_detection_positions(kinds, z_values, z_offsets, sensor_r))
    z_blobs = _blobs(z_values, z_offsets)
    r_blobs = _blobs(r_values, r_offsets)
    # z and R zero-padded to the widest type (raer: 4 and 16); meas_type fixes the lengths
    numbers = [t_utc, t_report_utc, *sensor, snr, _padded(z_values, z_offsets, 4)]
    numbers.append(_padded(r_values, r_offsets, 16))
    block, width = (
        _numeric_block(numbers, [truth_id, false_alarm.astype(np.int64)]) if n else (b"", 1)
    )
    text = _text(table, ("sensor_id", "node", "meas_type"), marking_array)
    hashes = _hashes(b"hyperdef.detection.v1\0", block, width, text)
    columns = [
        hashes, [source] * n, t_utc.tolist(), t.tolist(), t_report.tolist(), sensor_id, node,
        meas_type, z_blobs, r_blobs, *(_nullable(c) for c in sensor), _nullable(snr),
        truth_id.tolist(), false_alarm.tolist(), marking,
        _nullable(lla[:, 0]), _nullable(lla[:, 1]), _nullable(lla[:, 2]),
    ]  # fmt: skip
    return Encoded(
        DETECTION_COLUMNS,
        columns,
        n,
        markings,
        frozenset(zip(marking, node, strict=True)),
    )


# ------------------------------------------------------------------ tracks


def encode_tracks(table: pa.Table, epoch_s: float, source: str, run_id: int = 0) -> Encoded:
    """Rows of a Tracks table for the ``tracks`` table.

    Parameters
    ----------
    table : pyarrow.Table
        Tracks (DESIGN.md columns; ``n_updates`` and ``truth_id`` may be missing).
    epoch_s : float
        Unix time of the table's epoch, s.
    source : str
        Where the records came from.
    run_id : int
        Tracking run the tracks belong to, 0 for ingested tracks (part of the hash, so
        two runs may store equal tracks).
    """
    what = "tracks"
    n = table.num_rows
    t = _floats(table, "t", what)
    _finite(t, f"{what}.t")
    state = [_floats(table, c, what) for c in _STATE]
    track_id = _ints(table, "track_id", what, None)
    if "track_id" not in table.column_names:
        raise InputError(f"{what}: missing column 'track_id'")
    has_updates = "n_updates" in table.column_names
    has_truth = "truth_id" in table.column_names
    n_updates = _ints(table, "n_updates", what, 0)
    truth_id = _ints(table, "truth_id", what, -1)
    node = _strings(table, "node", what)
    _check_nodes(node, what)
    status = _strings(table, "status", what)
    unknown = set(status) - _STATUS
    if unknown:
        raise InputError(
            f"{what}.status: {sorted(unknown)[0]!r} is not one of {', '.join(sorted(_STATUS))}"
        )
    marking_array, markings = _canonical_markings(table, what)
    marking = marking_array.to_pylist()
    p_values, p_offsets = _lists(table, "P", what)
    bad = np.flatnonzero(np.diff(p_offsets) != 36)
    if bad.size:
        raise InputError(f"{what}.P: row {bad[0]} does not have 36 values (6x6 row-major)")
    m_values, m_offsets = _lists(table, "model_probs", what)
    t_utc = epoch_s + t
    lla = _lla_deg(np.column_stack(state[:3]) if n else np.zeros((0, 3)))
    p_blobs = _blobs(p_values, p_offsets)
    m_blobs = _blobs(m_values, m_offsets)
    flags = np.array([has_updates, has_truth], dtype=np.int64)
    block, width = _numeric_block(
        [t_utc, *state],
        [track_id, n_updates, truth_id, np.full(n, run_id), np.broadcast_to(flags, (n, 2))[:, 0],
         np.broadcast_to(flags, (n, 2))[:, 1]],
    ) if n else (b"", 1)  # fmt: skip
    text = _text(table, ("node", "status"), marking_array)
    hashes = _hashes(b"hyperdef.track.v1\0", block, width, p_blobs, m_blobs, text)
    columns = [
        hashes, [source] * n, t_utc.tolist(), t.tolist(), track_id.tolist(), node, status,
        *(c.tolist() for c in state), p_blobs, m_blobs, marking,
        n_updates.tolist() if has_updates else [None] * n,
        truth_id.tolist() if has_truth else [None] * n,
        _nullable(lla[:, 0]), _nullable(lla[:, 1]), _nullable(lla[:, 2]),
    ]  # fmt: skip
    return Encoded(
        TRACK_COLUMNS,
        columns,
        n,
        markings,
        frozenset(zip(marking, node, strict=True)),
    )


# ------------------------------------------------------------------ rows back to tables


def _list_array(blobs: tuple[bytes, ...]) -> pa.ListArray:
    lengths = np.fromiter((len(b) // 8 for b in blobs), dtype=np.int32, count=len(blobs))
    offsets = np.zeros(len(blobs) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    values = np.frombuffer(b"".join(blobs), dtype="<f8").astype(np.float64)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values))


def _float_array(values) -> pa.Array:
    return pa.array(np.array(values, dtype=np.float64))


def _build(schema: pa.Schema, names: tuple[str, ...], rows, lists, extra) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    by_name = dict(zip(names, columns, strict=True))
    arrays = []
    for field in list(schema) + extra:
        values = by_name[field.name]
        if field.name in lists:
            arrays.append(_list_array(values))
        elif pa.types.is_floating(field.type):
            arrays.append(_float_array(values))
        else:
            arrays.append(pa.array(list(values), field.type))
    fields = list(schema) + extra
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata=schema.metadata))


_QUERY_FIELDS = [
    pa.field("t_utc", pa.float64(), metadata={"unit": "s", "time": "Unix seconds"}),
    pa.field("dataset_id", pa.int64()),
    pa.field("record_id", pa.int64()),
]


def detections_table(names: tuple[str, ...], rows) -> pa.Table:
    """Detections table (DESIGN.md schema plus t_utc, dataset_id, record_id) from rows.

    ``names`` gives the column of each value in a row; it must hold every output column.
    """
    return _build(DETECTIONS_SCHEMA, names, rows, {"z", "R"}, _QUERY_FIELDS)


def tracks_table(names: tuple[str, ...], rows) -> pa.Table:
    """Tracks table (DESIGN.md schema plus t_utc, dataset_id, record_id, run_id) from rows."""
    extra = [*_QUERY_FIELDS, pa.field("run_id", pa.int64())]
    return _build(TRACKS_SCHEMA, names, rows, {"P", "model_probs"}, extra)
