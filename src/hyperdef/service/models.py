"""Pydantic models of the HTTP API's requests and responses (they make the OpenAPI spec).

Times in responses are absolute: UTC Unix seconds (``t``, ``t_report``). Positions are
ECEF metres as in the tables of DESIGN.md. Columns the models do not name are passed
through unchanged (``extra="allow"``), so a store that adds a column does not break the
API.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Detection(_Open):
    """One report (a Detections table row, DESIGN.md) as the store returns it."""

    t: float = Field(description="Measurement time, UTC Unix seconds.")
    t_report: float | None = Field(None, description="Time the report reached its node, "
                                                     "UTC Unix seconds.")
    sensor_id: str | None = None
    node: str | None = Field(None, description="ISO 3166 trigraph of the source node.")
    meas_type: str | None = Field(None, description="xyz, rae, raer or los.")
    z: list[float | None] | None = Field(None, description="Measurement vector, SI "
                                                          "(m, rad, m/s).")
    R: list[float | None] | None = Field(None, description="Measurement covariance, "
                                                          "row-major, SI squared.")
    snr: float | None = Field(None, description="Signal-to-noise ratio, linear.")
    marking: str | None = Field(None, description="Releasability, e.g. 'REL TO USA, JPN'.")
    truth_id: int | None = Field(None, description="Simulated object, -1 for a false alarm "
                                                   "or unknown (evaluation only).")
    t_utc: float | None = Field(None, description="Same as t (UTC Unix seconds).")
    dataset_id: int | None = None
    record_id: int | None = Field(None, description="The store's id of the row.")


class Track(_Open):
    """One track state (a Tracks table row, DESIGN.md) as the store returns it."""

    t: float = Field(description="Time of the state, UTC Unix seconds.")
    track_id: int | None = None
    node: str | None = None
    status: str | None = Field(None, description="tentative, confirmed or deleted.")
    x: float | None = Field(None, description="ECEF x, m.")
    y: float | None = Field(None, description="ECEF y, m.")
    z: float | None = Field(None, description="ECEF z, m.")
    vx: float | None = Field(None, description="ECEF vx, m/s.")
    vy: float | None = Field(None, description="ECEF vy, m/s.")
    vz: float | None = Field(None, description="ECEF vz, m/s.")
    P: list[float | None] | None = Field(None, description="6x6 position-velocity "
                                                          "covariance, row-major.")
    model_probs: list[float | None] | None = None
    marking: str | None = None
    t_utc: float | None = Field(None, description="Same as t (UTC Unix seconds).")
    dataset_id: int | None = None
    run_id: int | None = Field(None, description="Run that made the track, null when "
                                                 "ingested.")
    record_id: int | None = Field(None, description="The store's id of the row.")


class DetectionPage(BaseModel):
    """A page of detections; ``next_offset`` is null on the last page."""

    items: list[Detection]
    next_offset: int | None = Field(description="Offset of the next page, null when none.")


class TrackPage(BaseModel):
    """A page of track states; ``next_offset`` is null on the last page."""

    items: list[Track]
    next_offset: int | None = Field(description="Offset of the next page, null when none.")


class IngestOut(BaseModel):
    """What one uploaded file added to the store."""

    dataset_id: int
    dataset: str
    filename: str
    format: str = Field(description="klv, gmti, cot or asterix.")
    packets: int = Field(description="Packets or messages seen in the file.")
    records: int = Field(description="Rows decoded into detections and tracks.")
    added_detections: int
    added_tracks: int
    duplicates: int = Field(description="Rows already in the store, not added again.")
    skipped: dict[str, int] = Field(description="Packets skipped, by reason.")


class Dataset(_Open):
    """A dataset visible to the caller (fields as the store reports them)."""

    id: int
    name: str


class RunRequest(BaseModel):
    """Tracker settings of a run (any :class:`hyperdef.tracking.tracker.TrackerConfig`
    field); the defaults are TrackerConfig's."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(None, description="cv, ca, singer, ct, ballistic, glide or imm.")
    association: str | None = Field(None, description="gnn or jpda.")
    settings: dict[str, Any] = Field(default_factory=dict,
                                     description="Other TrackerConfig fields by name.")


class RunOut(BaseModel):
    """A finished tracking run."""

    run_id: int
    dataset_id: int
    detections: int = Field(description="Detections visible to the caller that were tracked.")
    track_rows: int = Field(description="Track states recorded (one per track per scan).")
    tracks: int = Field(description="Distinct tracks.")
    tracks_confirmed: int
    node: str = Field(description="Nation that ran the tracker (the caller's).")


class AuditRecord(_Open):
    """One audit-log record (fields as the store reports them)."""


class AuditCheckOut(BaseModel):
    """Result of recomputing the audit log's hash chain."""

    ok: bool = Field(description="The whole chain verifies.")
    records: int = Field(description="Records read.")
    first_bad: int | None = Field(description="seq of the first record that fails, or null.")
    reason: str = Field(description="What failed, or 'ok'.")


class ErrorOut(BaseModel):
    """An error: ``detail`` says what was wrong."""

    detail: str
