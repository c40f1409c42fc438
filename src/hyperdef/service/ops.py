"""Plumbing shared by the HTTP API and the CLI: argument parsing at the edge, paging
through the store, running the tracker on a stored dataset. No physics here.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hyperdef.errors import InputError, NotFoundError

#: rows fetched from the store per call when a whole dataset is read
PAGE_ROWS = 100_000


def parse_time(text: str | float | None, name: str) -> float | None:
    """An instant given as Unix seconds or ISO 8601, as UTC Unix seconds.

    Parameters
    ----------
    text : str, float or None
        ``"1767225600"``, ``"1767225600.5"``, ``"2026-01-01T00:00:00Z"`` or
        ``"2026-01-01T09:00:00+09:00"``; an ISO time without an offset is UTC.
    name : str
        Name of the parameter, used in the error message.

    Returns
    -------
    float or None
        Seconds since 1970-01-01T00:00:00Z, or None when ``text`` is None.

    Raises
    ------
    InputError
        Naming ``name`` when the text is neither.
    """
    if text is None:
        return None
    if isinstance(text, int | float):
        value = float(text)
    else:
        try:
            value = float(text)
        except ValueError:
            try:
                instant = datetime.fromisoformat(text.strip())
            except ValueError:
                raise InputError(f"{name}: {text!r} is neither Unix seconds nor an ISO 8601 "
                                 "time like 2026-01-01T00:00:00Z") from None
            if instant.tzinfo is None:
                instant = instant.replace(tzinfo=UTC)
            return instant.timestamp()
    if not math.isfinite(value):
        raise InputError(f"{name}: {text!r} is not a finite time")
    return value


def parse_bbox(text: str | None, name: str = "bbox") -> tuple[float, float, float, float] | None:
    """``"lat_min,lat_max,lon_min,lon_max"`` in degrees as four floats.

    Raises
    ------
    InputError
        Naming ``name`` unless there are four finite numbers, latitudes in [-90, 90] with
        ``lat_min <= lat_max`` and longitudes in [-180, 180].
    """
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    try:
        if len(parts) != 4:
            raise ValueError
        box = tuple(float(p) for p in parts)
    except ValueError:
        raise InputError(f"{name}: expected lat_min,lat_max,lon_min,lon_max in degrees, "
                         f"got {text!r}") from None
    lat_min, lat_max, lon_min, lon_max = box
    if not all(math.isfinite(v) for v in box):
        raise InputError(f"{name}: {text!r} holds a value that is not finite")
    if not (-90.0 <= lat_min <= lat_max <= 90.0):
        raise InputError(f"{name}: latitudes must satisfy -90 <= lat_min <= lat_max <= 90, "
                         f"got {lat_min:g}, {lat_max:g}")
    if not (-180.0 <= lon_min <= 180.0 and -180.0 <= lon_max <= 180.0):
        raise InputError(f"{name}: longitudes must lie in [-180, 180], "
                         f"got {lon_min:g}, {lon_max:g}")
    return box  # type: ignore[return-value]


def parse_sites(texts: list[str] | None, name: str = "--site"
                ) -> dict[tuple[int, int], tuple[float, float, float]] | None:
    """Radar sites for ASTERIX CAT 048 from ``"SAC/SIC=LAT,LON,ALT"`` texts.

    Parameters
    ----------
    texts : list of str or None
        E.g. ``["25/10=35.1,139.2,40"]``: SAC and SIC (0-255), latitude and longitude in
        degrees, altitude above the WGS-84 ellipsoid in m.
    name : str
        Name of the option, used in the error message.

    Returns
    -------
    dict or None
        ``{(sac, sic): (lat_deg, lon_deg, alt_m)}``, or None when no text is given.

    Raises
    ------
    InputError
        Naming ``name`` and the text that does not parse.
    """
    if not texts:
        return None
    sites = {}
    for text in texts:
        try:
            key, value = text.split("=")
            sac, sic = (int(v) for v in key.split("/"))
            lat, lon, alt = (float(v) for v in value.split(","))
            if not (0 <= sac <= 255 and 0 <= sic <= 255):
                raise ValueError
        except ValueError:
            raise InputError(f"{name}: {text!r} is not SAC/SIC=LAT,LON,ALT (SAC, SIC 0-255; "
                             "degrees, m)") from None
        sites[(sac, sic)] = (lat, lon, alt)
    return sites


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes):
        return value.hex()
    return value


def table_rows(table: pa.Table) -> list[dict[str, Any]]:
    """Rows of a table as JSON-safe dicts (NaN and infinities become None)."""
    return [{k: _clean(v) for k, v in row.items()} for row in table.to_pylist()]


def fetch_all(query, user, **filters) -> pa.Table:
    """Every row a paged store query returns, joined into one table.

    Parameters
    ----------
    query : callable
        ``store.query_detections`` or ``store.query_tracks``.
    user : hyperdef.store.User
        Caller; the store applies its visibility rules.
    **filters
        Passed to ``query`` (``dataset_id``, ``t0``, ...).
    """
    pages = []
    offset = 0
    while True:
        page = query(user, limit=PAGE_ROWS, offset=offset, **filters)
        if page.num_rows:
            pages.append(page)
        if page.num_rows < PAGE_ROWS:
            break
        offset += page.num_rows
    if not pages:
        return page
    return pa.concat_tables(pages, promote_options="default")


def shift_times(table: pa.Table, by_s: float) -> pa.Table:
    """The table with ``by_s`` added to its ``t`` and ``t_report`` columns (s)."""
    for name in ("t", "t_report"):
        if name in table.column_names:
            index = table.column_names.index(name)
            column = pc.add(table.column(name).cast(pa.float64()), by_s)
            table = table.set_column(index, pa.field(name, pa.float64()), column)
    return table


def absolute_times(table: pa.Table) -> pa.Table:
    """A store query's table with ``t`` and ``t_report`` as UTC Unix seconds.

    The store returns ``t`` (and ``t_report``) in seconds from the epoch of the ingest
    or run that stored each row, and ``t_utc``, the same instant as Unix seconds; rows of
    different ingests may count from different epochs. This puts every row on one axis.
    A table without ``t_utc`` is returned as it is.
    """
    if "t_utc" not in table.column_names or "t" not in table.column_names:
        return table
    t_utc = table.column("t_utc").cast(pa.float64())
    offset = pc.subtract(t_utc, table.column("t").cast(pa.float64()))
    table = table.set_column(table.column_names.index("t"), pa.field("t", pa.float64()), t_utc)
    if "t_report" in table.column_names:
        t_report = pc.add(table.column("t_report").cast(pa.float64()), offset)
        table = table.set_column(table.column_names.index("t_report"),
                                 pa.field("t_report", pa.float64()), t_report)
    return table


def tracker_config(model: str | None = None, association: str | None = None,
                   settings: dict[str, Any] | None = None):
    """A :class:`~hyperdef.tracking.tracker.TrackerConfig` from names and a settings dict.

    Raises
    ------
    InputError
        Naming an unknown setting or a bad value.
    """
    from hyperdef.tracking.tracker import TrackerConfig

    return TrackerConfig.from_settings(settings, "settings", model=model,
                                       association=association)


def run_on_dataset(store, user, dataset_id, config, *, client: str = "local"
                   ) -> dict[str, Any]:
    """Track the caller's visible detections of a dataset and record the run.

    The store's rows count time from the epochs of their ingests (``t_utc`` is absolute);
    the tracker counts seconds from one epoch, so the detections are put on the axis of
    the first visible detection's instant, which is recorded as the run's epoch. Each
    track's marking is the tracker's intersection of the markings of the reports it used;
    the tracker runs as the caller's nation.

    Returns
    -------
    dict
        ``run_id``, ``dataset_id``, ``detections``, ``track_rows``, ``tracks``,
        ``tracks_confirmed``, ``node``.

    Raises
    ------
    InputError
        When the caller sees no detections in the dataset, or the tracker rejects them.
    hyperdef.store.AccessDenied
        When the store refuses the caller.
    """
    import dataclasses

    from hyperdef.tracking.tracker import run_tracker

    if dataset_id not in {d["id"] for d in store.datasets(user)}:
        raise NotFoundError(f"dataset_id: no dataset {dataset_id} in the store")
    detections = fetch_all(store.query_detections, user, dataset_id=dataset_id, client=client)
    if detections.num_rows == 0:
        raise InputError(f"dataset_id: dataset {dataset_id} has no detections visible to "
                         f"user {user.name!r}")
    detections = absolute_times(detections)
    start_s = float(pc.min(detections.column("t")).as_py())
    result = run_tracker(shift_times(detections, -start_s), config, node=user.nation)
    tracks = result.table
    settings = {k: (list(v) if isinstance(v, tuple) else v)
                for k, v in dataclasses.asdict(config).items()}
    run_id = store.record_run(user, dataset_id, tracks, config=settings,
                              epoch=datetime.fromtimestamp(start_s, UTC), client=client)
    ids = tracks.column("track_id").to_numpy() if tracks.num_rows else np.array([], int)
    confirmed = (
        np.unique(ids[np.asarray(tracks.column("status").to_pylist()) == "confirmed"]).size
        if tracks.num_rows else 0
    )
    return {
        "run_id": run_id,
        "dataset_id": dataset_id,
        "detections": detections.num_rows,
        "track_rows": tracks.num_rows,
        "tracks": int(np.unique(ids).size),
        "tracks_confirmed": int(confirmed),
        "node": user.nation,
    }
