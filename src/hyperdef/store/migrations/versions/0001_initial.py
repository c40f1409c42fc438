"""Initial tables: users, datasets, runs, detections, tracks and the audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_SENSOR = ("sensor_x", "sensor_y", "sensor_z", "sensor_vx", "sensor_vy", "sensor_vz")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("nation", sa.String(3), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_utc", sa.String(32), nullable=False),
        sa.Column("created_by", _ID, sa.ForeignKey("users.id"), nullable=True),
    )
    op.create_table(
        "datasets",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("epoch_utc", sa.Float, nullable=False),
        sa.Column("created_utc", sa.String(32), nullable=False),
        sa.Column("created_by", _ID, sa.ForeignKey("users.id"), nullable=True),
    )
    op.create_table(
        "runs",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("dataset_id", _ID, sa.ForeignKey("datasets.id"), nullable=False),
        sa.Column("user_id", _ID, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("epoch_utc", sa.Float, nullable=False),
        sa.Column("n_tracks", sa.Integer, nullable=False),
        sa.Column("created_utc", sa.String(32), nullable=False),
    )
    op.create_table(
        "detections",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("dataset_id", _ID, sa.ForeignKey("datasets.id"), nullable=False),
        sa.Column("content_hash", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("t_utc", sa.Float, nullable=False),
        sa.Column("t", sa.Float, nullable=False),
        sa.Column("t_report", sa.Float, nullable=False),
        sa.Column("sensor_id", sa.Text, nullable=False),
        sa.Column("node", sa.String(3), nullable=False),
        sa.Column("meas_type", sa.String(8), nullable=False),
        sa.Column("z", sa.LargeBinary, nullable=False),
        sa.Column("R", sa.LargeBinary, nullable=False),
        *(sa.Column(name, sa.Float, nullable=True) for name in _SENSOR),
        sa.Column("snr", sa.Float, nullable=True),
        sa.Column("truth_id", sa.BigInteger, nullable=False),
        sa.Column("false_alarm", sa.Boolean, nullable=False),
        sa.Column("marking", sa.String(400), nullable=False),
        sa.Column("lat", sa.Float, nullable=True),
        sa.Column("lon", sa.Float, nullable=True),
        sa.Column("alt", sa.Float, nullable=True),
    )
    op.create_index("ix_detections_t_utc", "detections", ["t_utc"])
    op.create_index("ix_detections_lat_lon", "detections", ["lat", "lon"])
    op.create_index("ix_detections_source", "detections", ["source"])
    op.create_index("ix_detections_dataset_marking", "detections", ["dataset_id", "marking"])
    op.create_table(
        "tracks",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("dataset_id", _ID, sa.ForeignKey("datasets.id"), nullable=False),
        sa.Column("run_id", _ID, sa.ForeignKey("runs.id"), nullable=True),
        sa.Column("content_hash", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("t_utc", sa.Float, nullable=False),
        sa.Column("t", sa.Float, nullable=False),
        sa.Column("track_id", sa.BigInteger, nullable=False),
        sa.Column("node", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        *(sa.Column(name, sa.Float, nullable=False) for name in ("x", "y", "z", "vx", "vy", "vz")),
        sa.Column("P", sa.LargeBinary, nullable=False),
        sa.Column("model_probs", sa.LargeBinary, nullable=False),
        sa.Column("marking", sa.String(400), nullable=False),
        sa.Column("n_updates", sa.BigInteger, nullable=True),
        sa.Column("truth_id", sa.BigInteger, nullable=True),
        sa.Column("lat", sa.Float, nullable=True),
        sa.Column("lon", sa.Float, nullable=True),
        sa.Column("alt", sa.Float, nullable=True),
    )
    op.create_index("ix_tracks_t_utc", "tracks", ["t_utc"])
    op.create_index("ix_tracks_lat_lon", "tracks", ["lat", "lon"])
    op.create_index("ix_tracks_source", "tracks", ["source"])
    op.create_index("ix_tracks_dataset_marking", "tracks", ["dataset_id", "marking"])
    op.create_index("ix_tracks_run_id", "tracks", ["run_id"])
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("ts_utc", sa.String(32), nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=True),
        sa.Column("user_name", sa.String(200), nullable=True),
        sa.Column("nation", sa.String(3), nullable=True),
        sa.Column("role", sa.String(16), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("resource", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("client", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("policy", sa.String(100), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    for table in ("audit_log", "tracks", "detections", "runs", "datasets", "users"):
        op.drop_table(table)
