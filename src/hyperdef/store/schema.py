"""Tables of the analysis store (SQLAlchemy Core metadata).

The migrations in ``migrations/versions`` create exactly these tables; a test compares
the two (no autogenerate difference), so change both together and add a revision.

Measurement vectors and covariances (``z``, ``R``, ``P``, ``model_probs``) are stored as
arrays of IEEE-754 float64, little-endian (``LargeBinary``): lossless, portable between
SQLite and PostgreSQL, and cheap to write and read in bulk. ``content_hash`` is the raw
32-byte SHA-256 digest: half the index of its hex form, measurably faster ingest into a
large store.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "AUDIT_LOG",
    "DATASETS",
    "DETECTIONS",
    "MARKINGS",
    "RUNS",
    "TRACKS",
    "USERS",
    "metadata",
]

metadata = MetaData()

#: autoincrementing 64-bit key (SQLite only autoincrements INTEGER PRIMARY KEY)
_ID = BigInteger().with_variant(Integer(), "sqlite")

USERS = Table(
    "users",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("nation", String(3), nullable=False),
    Column("role", String(16), nullable=False),
    Column("key_id", String(32), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False),
    Column("created_utc", String(32), nullable=False),
    Column("created_by", _ID, ForeignKey("users.id"), nullable=True),
)

DATASETS = Table(
    "datasets",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("format", String(32), nullable=False),
    Column("source", Text, nullable=False),
    Column("epoch_utc", Float, nullable=False),
    Column("created_utc", String(32), nullable=False),
    Column("created_by", _ID, ForeignKey("users.id"), nullable=True),
)

RUNS = Table(
    "runs",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("dataset_id", _ID, ForeignKey("datasets.id"), nullable=False),
    Column("user_id", _ID, ForeignKey("users.id"), nullable=True),
    Column("config", Text, nullable=False),
    Column("epoch_utc", Float, nullable=False),
    Column("n_tracks", Integer, nullable=False),
    Column("created_utc", String(32), nullable=False),
)

_SENSOR = ("sensor_x", "sensor_y", "sensor_z", "sensor_vx", "sensor_vy", "sensor_vz")

DETECTIONS = Table(
    "detections",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("dataset_id", _ID, ForeignKey("datasets.id"), nullable=False),
    Column("content_hash", LargeBinary(32), nullable=False, unique=True),
    Column("source", Text, nullable=False),
    Column("t_utc", Float, nullable=False),
    Column("t", Float, nullable=False),
    Column("t_report", Float, nullable=False),
    Column("sensor_id", Text, nullable=False),
    Column("node", String(3), nullable=False),
    Column("meas_type", String(8), nullable=False),
    Column("z", LargeBinary, nullable=False),
    Column("R", LargeBinary, nullable=False),
    *(Column(name, Float, nullable=True) for name in _SENSOR),
    Column("snr", Float, nullable=True),
    Column("truth_id", BigInteger, nullable=False),
    Column("false_alarm", Boolean, nullable=False),
    Column("marking", String(400), nullable=False),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("alt", Float, nullable=True),
    Index("ix_detections_t_utc", "t_utc"),
    Index("ix_detections_lat_lon", "lat", "lon"),
    Index("ix_detections_source", "source"),
    Index("ix_detections_dataset_marking", "dataset_id", "marking"),
)

TRACKS = Table(
    "tracks",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("dataset_id", _ID, ForeignKey("datasets.id"), nullable=False),
    Column("run_id", _ID, ForeignKey("runs.id"), nullable=True),
    Column("content_hash", LargeBinary(32), nullable=False, unique=True),
    Column("source", Text, nullable=False),
    Column("t_utc", Float, nullable=False),
    Column("t", Float, nullable=False),
    Column("track_id", BigInteger, nullable=False),
    Column("node", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    *(Column(name, Float, nullable=False) for name in ("x", "y", "z", "vx", "vy", "vz")),
    Column("P", LargeBinary, nullable=False),
    Column("model_probs", LargeBinary, nullable=False),
    Column("marking", String(400), nullable=False),
    Column("n_updates", BigInteger, nullable=True),
    Column("truth_id", BigInteger, nullable=True),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("alt", Float, nullable=True),
    Index("ix_tracks_t_utc", "t_utc"),
    Index("ix_tracks_lat_lon", "lat", "lon"),
    Index("ix_tracks_source", "source"),
    Index("ix_tracks_dataset_marking", "dataset_id", "marking"),
    Index("ix_tracks_run_id", "run_id"),
)

#: every marking any stored record carries (few): the access policy is evaluated once per
#: marking, and the queries then filter rows by the markings it allows
MARKINGS = Table(
    "markings",
    metadata,
    Column("marking", String(400), primary_key=True),
)

AUDIT_LOG = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("ts_utc", String(32), nullable=False),
    Column("user_id", BigInteger, nullable=True),
    Column("user_name", String(200), nullable=True),
    Column("nation", String(3), nullable=True),
    Column("role", String(16), nullable=True),
    Column("action", String(32), nullable=False),
    Column("resource", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("client", Text, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("policy", String(100), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
