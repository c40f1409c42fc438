"""External formats in and out: MISB ST 0601 KLV, STANAG 4607 GMTI, Cursor on Target and
ASTERIX, read into the Detections and Tracks tables of DESIGN.md and written back out.

Every reader takes the raw bytes of a file or stream and returns an :class:`IngestResult`:
the records it could decode as a Detections table (:data:`hyperdef.sensors.detections.SCHEMA`)
and/or a Tracks table (:data:`hyperdef.tracking.tracker.TRACKS_SCHEMA`), the UTC epoch their
times count from, and the count of packets it skipped with the reason. A corrupt or truncated
packet is skipped and counted; a reader never raises on bad packets, only on bad arguments.

Times in the tables are seconds from ``IngestResult.epoch`` (a timezone-aware UTC
``datetime``); by default the epoch is midnight UTC of the day of the earliest record, so
tables from one day of collection share a time axis.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa

__all__ = ["IngestResult", "default_epoch"]


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What one reader made of one input.

    Attributes
    ----------
    format : str
        Short name of the format read (``klv``, ``gmti``, ``cot``, ``asterix``).
    epoch : datetime
        UTC instant the ``t`` and ``t_report`` columns count seconds from.
    detections : pyarrow.Table or None
        Detections table (DESIGN.md schema, extra columns allowed), or None if the
        format carries no detections.
    tracks : pyarrow.Table or None
        Tracks table (DESIGN.md schema, extra columns allowed), or None.
    packets : int
        Packets or messages seen, decoded or not.
    skipped : collections.Counter
        Packets skipped, by reason (one short phrase per reason).
    """

    format: str
    epoch: datetime
    detections: pa.Table | None = None
    tracks: pa.Table | None = None
    packets: int = 0
    skipped: Counter = field(default_factory=Counter)

    @property
    def records(self) -> int:
        """Rows decoded into the tables."""
        return sum(t.num_rows for t in (self.detections, self.tracks) if t is not None)


def default_epoch(first_utc: datetime | None) -> datetime:
    """Midnight UTC of the day of ``first_utc`` (or of today when there is no record)."""
    instant = first_utc if first_utc is not None else datetime.now(UTC)
    instant = instant.astimezone(UTC)
    return datetime(instant.year, instant.month, instant.day, tzinfo=UTC)
