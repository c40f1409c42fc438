"""The shared ISR analysis store: datasets, detections, tracks and tracking runs.

SQLite by default (one file under the user's data directory, WAL journal), PostgreSQL
for teams (``postgresql://...``). Every call names the user it acts for; the Cedar
policies of :mod:`hyperdef.store.access` decide, and every read, write and denial is
appended to the hash-chained audit log of :mod:`hyperdef.store.audit` in the same
transaction as the work it records.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.dialects import postgresql as _pg
from sqlalchemy.dialects import sqlite as _sqlite

from hyperdef.core.markings import check_node, format_marking, parse_marking
from hyperdef.errors import InputError, NotFoundError
from hyperdef.io import IngestResult
from hyperdef.store import audit
from hyperdef.store.access import (
    AccessDenied,
    Decision,
    PolicyEngine,
    Resource,
    User,
    check_role,
    check_user,
)
from hyperdef.store.engine import _is_memory, default_url, make_engine, normalise_url, upgrade
from hyperdef.store.records import (
    detections_table,
    encode_detections,
    encode_tracks,
    tracks_table,
)
from hyperdef.store.schema import (
    AUDIT_LOG,
    DATASETS,
    DETECTIONS,
    MARKINGS,
    RUNS,
    TRACKS,
    USERS,
)
from hyperdef.tracking.tracker import TRACKS_SCHEMA

__all__ = ["IngestSummary", "Store"]

#: who acts when ``by=None``: the local operator at the command line
LOCAL_OPERATOR = "local-operator"
_KEY_PREFIX = "hd"
_MAX_LIMIT = 1_000_000


@dataclass(frozen=True, slots=True)
class IngestSummary:
    """What one :meth:`Store.ingest` call added.

    Attributes
    ----------
    dataset_id : int
    added_detections, added_tracks : int
        New records stored.
    duplicates : int
        Records already in the store (same content hash), not stored again.
    skipped : collections.Counter
        Packets the reader skipped, by reason (copied from the ingest result).
    """

    dataset_id: int
    added_detections: int
    added_tracks: int
    duplicates: int
    skipped: Counter


def _key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _policies(decisions: Sequence[Decision]) -> str:
    return ",".join(sorted({d.policy for d in decisions})) or "none"


def _check_int(value, field: str, low: int, high: int | None = None) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        bound = f">= {low}" + ("" if high is None else f" and <= {high}")
        raise InputError(f"{field}: {value!r} must be an integer {bound}")
    return value


def _check_float(value, field: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise InputError(f"{field}: {value!r} must be a finite number")
    return number


def _check_name(value, field: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise InputError(f"{field}: {value!r} must be a non-empty string of at most 200 characters")
    return value


class Store:
    """The analysis store. Open with :meth:`Store.open`; use as a context manager.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        Engine of a database already migrated to the newest revision.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._policy = PolicyEngine()
        memory = engine.dialect.name == "sqlite" and _is_memory(engine.url)
        self._lock = threading.RLock() if memory else None
        self._insert_sql: dict[str, tuple[str, bool]] = {}

    # ------------------------------------------------------------ lifecycle

    @classmethod
    def open(cls, url: str | None = None) -> Store:
        """Open (and create or upgrade) a store.

        Parameters
        ----------
        url : str, optional
            ``sqlite:///path``, ``sqlite://`` (in memory) or ``postgresql://user@host/db``.
            Default: ``$HYPERDEF_DB``, else ``sqlite:///<user data dir>/hyperdef/hyperdef.db``.

        Raises
        ------
        InputError
            If the URL is not one of those.
        """
        parsed = normalise_url(default_url() if url is None else url)
        engine = make_engine(parsed)
        upgrade(engine)
        return cls(engine)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for tools and tests; the store's own API is the methods)."""
        return self._engine

    def close(self) -> None:
        """Release the database connections."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self._lock or nullcontext(), self._engine.begin() as conn:
            yield conn

    # ------------------------------------------------------------ audit helpers

    def _deny(self, user, action, resource, detail, client, policy) -> AccessDenied:
        with self._tx() as conn:
            audit.append(
                conn, user=user, action=action, resource=resource, detail=detail,
                client=client, outcome="deny", policy=policy,
            )  # fmt: skip
        who = "local operator" if user is None else f"{user.name!r} ({user.nation} {user.role})"
        return AccessDenied(f"{action} {resource}: denied to {who} by policy {policy!r}")

    # ------------------------------------------------------------ users

    def add_user(
        self, name: str, nation: str, role: str, *, by: User | None = None, client: str = "local"
    ) -> tuple[User, str]:
        """Create a user and a fresh API key.

        Parameters
        ----------
        name : str
            Unique user name.
        nation : str
            ISO 3166 trigraph (one of ``core.markings.NODES``).
        role : str
            ``analyst`` or ``admin``.
        by : User, optional
            The admin adding the user (only users of the admin's own nation); None is the
            local operator (bootstrap from the command line).

        Returns
        -------
        user : User
        api_key : str
            Shown once; the store keeps only its SHA-256.

        Raises
        ------
        InputError
            Bad name, nation or role, or the name is taken.
        AccessDenied
            ``by`` may not add this user.
        """
        _check_name(name, "name")
        check_node(nation, "nation")
        check_role(role, "role")
        policy = LOCAL_OPERATOR
        resource = f"user:{name}"
        if by is not None:
            check_user(by, "by")
            decision = self._policy.decide(by, "manage_users", Resource(nation=nation))
            if not decision.allowed:
                detail = {"name": name, "nation": nation, "role": role}
                raise self._deny(by, "manage_users", resource, detail, client, decision.policy)
            policy = decision.policy
        key_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        with self._tx() as conn:
            taken = conn.execute(select(USERS.c.id).where(USERS.c.name == name)).first()
            if taken is not None:
                raise InputError(f"name: user {name!r} exists; choose another name")
            user_id = conn.execute(
                insert(USERS).values(
                    name=name, nation=nation, role=role, key_id=key_id,
                    key_hash=_key_hash(secret), created_utc=audit.utc_now(),
                    created_by=None if by is None else by.id,
                )
            ).inserted_primary_key[0]  # fmt: skip
            audit.append(
                conn, user=by, action="manage_users", resource=resource,
                detail={"user_id": user_id, "nation": nation, "role": role},
                client=client, outcome="allow", policy=policy,
            )  # fmt: skip
        return User(int(user_id), name, nation, role), f"{_KEY_PREFIX}_{key_id}_{secret}"

    def users(self) -> list[User]:
        """Every user of the store, in the order they were added (names are public to
        whoever holds the store; keys are not)."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(USERS.c.id, USERS.c.name, USERS.c.nation, USERS.c.role)
                                .order_by(USERS.c.id)).all()
        return [User(int(r.id), r.name, r.nation, r.role) for r in rows]

    def user_for_key(self, api_key: str, *, client: str = "local") -> User | None:
        """The user an API key belongs to, or None (a failed attempt is audited)."""
        parts = api_key.split("_", 2) if isinstance(api_key, str) else []
        key_id, secret = (parts[1], parts[2]) if len(parts) == 3 else ("", "")
        with self._tx() as conn:
            row = conn.execute(select(USERS).where(USERS.c.key_id == key_id)).first()
            stored = row.key_hash if row is not None else "0" * 64
            ok = hmac.compare_digest(_key_hash(secret), stored) and row is not None
            if ok and parts[0] == _KEY_PREFIX:
                return User(int(row.id), row.name, row.nation, row.role)
            audit.append(
                conn, user=None, action="authenticate", resource=f"key:{key_id[:16]}",
                detail={}, client=client, outcome="deny", policy="api-key",
            )  # fmt: skip
        return None

    # ------------------------------------------------------------ writes

    def _insert_statement(self, conn: Connection, table: Table, columns: tuple[str, ...]):
        key = f"{conn.dialect.name}:{table.name}:{len(columns)}"
        if key not in self._insert_sql:
            dialect_insert = _pg.insert if conn.dialect.name == "postgresql" else _sqlite.insert
            statement = (
                dialect_insert(table)
                .values({c: bindparam(c) for c in columns})
                .on_conflict_do_nothing(index_elements=["content_hash"])
            )
            compiled = statement.compile(dialect=conn.dialect)
            positional = bool(compiled.positional)
            if positional and tuple(compiled.positiontup) != columns:
                raise RuntimeError(f"unexpected parameter order {compiled.positiontup}")
            self._insert_sql[key] = (str(compiled), positional)
        return self._insert_sql[key]

    def _bulk_insert(self, conn, table, columns, rows) -> int:
        """Insert rows (tuples in ``columns`` order, any iterable), skipping known hashes.

        The statement is compiled by SQLAlchemy once per dialect and table, then run with
        the DBAPI ``executemany`` of the transaction's own connection, fed lazily.

        Returns
        -------
        int
            Rows added.
        """
        sql, positional = self._insert_statement(conn, table, columns)
        params = rows if positional else (dict(zip(columns, r, strict=True)) for r in rows)
        cursor = conn.connection.cursor()
        try:
            cursor.executemany(sql, params)
            return max(int(cursor.rowcount), 0)
        finally:
            cursor.close()

    def _add_markings(self, conn, markings) -> None:
        if markings:
            dialect_insert = _pg.insert if conn.dialect.name == "postgresql" else _sqlite.insert
            conn.execute(
                dialect_insert(MARKINGS).on_conflict_do_nothing(),
                [{"marking": m} for m in sorted(markings)],
            )

    def ingest(
        self,
        result: IngestResult,
        *,
        user: User,
        dataset: str,
        source: str = "",
        client: str = "local",
    ) -> IngestSummary:
        """Store the records of one reader's result, all or nothing.

        Parameters
        ----------
        result : IngestResult
            Output of an :mod:`hyperdef.io` reader (or any Detections/Tracks tables).
        user : User
            Who ingests; every record's marking must release it to the user's nation.
        dataset : str
            Dataset name; created on first use, added to afterwards.
        source : str
            Where the data came from (file name, feed); stored per record and queryable.
        client : str
            Where the request came from (for the audit log).

        Returns
        -------
        IngestSummary
            Records added and duplicates (content already stored) skipped.

        Raises
        ------
        InputError
            Bad tables (missing column, unknown node, bad marking...) or arguments.
        AccessDenied
            A record's marking does not release it to the user's nation.
        """
        check_user(user)
        _check_name(dataset, "dataset")
        if not isinstance(source, str):
            raise InputError(f"source: {source!r} must be a string")
        if not isinstance(result, IngestResult):
            raise InputError(f"result: expected an IngestResult, got {type(result).__name__}")
        if not isinstance(result.epoch, datetime) or result.epoch.utcoffset() is None:
            raise InputError(f"result.epoch: {result.epoch!r} must be a timezone-aware datetime")
        epoch_s = result.epoch.timestamp()
        detections = (
            encode_detections(result.detections, epoch_s, source)
            if result.detections is not None
            else None
        )
        tracks = (
            encode_tracks(result.tracks, epoch_s, source) if result.tracks is not None else None
        )
        encoded = [e for e in (detections, tracks) if e is not None]
        markings = sorted(set().union(*(e.markings for e in encoded)))
        decisions = self._policy.decide_many(user, "write", [Resource(m) for m in markings])
        denied = [(m, d) for m, d in zip(markings, decisions, strict=True) if not d.allowed]
        resource = f"dataset:{dataset}"
        if denied:
            detail = {"dataset": dataset, "denied_markings": [m for m, _ in denied]}
            raise self._deny(user, "write", resource, detail, client, denied[0][1].policy)
        with self._tx() as conn:
            dataset_id = self._dataset_id(conn, dataset, result, source, epoch_s, user)
            self._add_markings(conn, markings)
            added_d = added_t = 0
            if detections is not None:
                added_d = self._bulk_insert(
                    conn, DETECTIONS, ("dataset_id", *detections.columns),
                    detections.rows(dataset_id),
                )  # fmt: skip
            if tracks is not None:
                added_t = self._bulk_insert(
                    conn, TRACKS, ("dataset_id", "run_id", *tracks.columns),
                    tracks.rows(dataset_id, None),
                )  # fmt: skip
            total = sum(e.n for e in encoded)
            summary = IngestSummary(
                dataset_id, added_d, added_t, total - added_d - added_t, Counter(result.skipped)
            )
            audit.append(
                conn, user=user, action="write", resource=f"dataset:{dataset_id}",
                detail={
                    "dataset": dataset, "format": result.format, "source": source,
                    "added_detections": added_d, "added_tracks": added_t,
                    "duplicates": summary.duplicates, "markings": markings,
                },
                client=client, outcome="allow", policy=_policies(decisions),
            )  # fmt: skip
        return summary

    def _dataset_id(self, conn, name, result, source, epoch_s, user) -> int:
        row = conn.execute(select(DATASETS.c.id).where(DATASETS.c.name == name)).first()
        if row is not None:
            return int(row.id)
        values = dict(
            name=name, format=str(result.format), source=source, epoch_utc=epoch_s,
            created_utc=audit.utc_now(), created_by=user.id,
        )  # fmt: skip
        return int(conn.execute(insert(DATASETS).values(**values)).inserted_primary_key[0])

    # ------------------------------------------------------------ visibility

    def _visible(self, conn, user: User, action: str = "read") -> tuple[list[str], list[Decision]]:
        """Markings the user may see (one policy decision per distinct marking)."""
        markings = conn.execute(select(MARKINGS.c.marking)).scalars().all()
        decisions = self._policy.decide_many(user, action, [Resource(m) for m in markings])
        allowed = [m for m, d in zip(markings, decisions, strict=True) if d.allowed]
        return allowed, decisions

    @staticmethod
    def _read_policy(allowed, decisions) -> str:
        return _policies([d for d in decisions if d.allowed]) if allowed else _policies(decisions)

    # ------------------------------------------------------------ queries

    @staticmethod
    def _filters(table, *, dataset_id, t0, t1, bbox, source) -> list:
        where = []
        if dataset_id is not None:
            where.append(table.c.dataset_id == _check_int(dataset_id, "dataset_id", 1))
        if t0 is not None:
            where.append(table.c.t_utc >= _check_float(t0, "t0"))
        if t1 is not None:
            where.append(table.c.t_utc <= _check_float(t1, "t1"))
        if t0 is not None and t1 is not None and float(t1) < float(t0):
            raise InputError(f"t1: {t1} is before t0 {t0}")
        if bbox is not None:
            if not isinstance(bbox, Sequence) or len(bbox) != 4:
                raise InputError(f"bbox: {bbox!r} must be (lat_min, lat_max, lon_min, lon_max)")
            lat_min, lat_max, lon_min, lon_max = (
                _check_float(v, f"bbox[{i}]") for i, v in enumerate(bbox)
            )
            if not -90.0 <= lat_min <= lat_max <= 90.0:
                raise InputError(f"bbox: latitudes {lat_min}, {lat_max} must rise within [-90, 90]")
            if not (-180.0 <= lon_min <= 180.0 and -180.0 <= lon_max <= 180.0):
                raise InputError(f"bbox: longitudes {lon_min}, {lon_max} must be in [-180, 180]")
            where.append(table.c.lat.between(lat_min, lat_max))
            if lon_min <= lon_max:
                where.append(table.c.lon.between(lon_min, lon_max))
            else:  # the box crosses the antimeridian
                where.append(or_(table.c.lon >= lon_min, table.c.lon <= lon_max))
        if source is not None:
            if not isinstance(source, str):
                raise InputError(f"source: {source!r} must be a string")
            where.append(table.c.source == source)
        return where

    def _query(
        self, user, table, kind, builder, names, where, order, limit, offset, detail, client
    ):
        check_user(user)
        _check_int(limit, "limit", 1, _MAX_LIMIT)
        _check_int(offset, "offset", 0)
        keys = set(table.c.keys())
        columns = [table.c[n] if n in keys else None for n in names]
        with self._tx() as conn:
            allowed, decisions = self._visible(conn, user)
            rows = []
            if allowed:
                selected = [
                    table.c.id.label("record_id") if c is None and n == "record_id" else c
                    for n, c in zip(names, columns, strict=True)
                ]
                statement = (
                    select(*selected)
                    .where(table.c.marking.in_(allowed), *where)
                    .order_by(*order)
                    .limit(limit)
                    .offset(offset)
                )
                rows = conn.execute(statement).all()
            audit.append(
                conn, user=user, action="read", resource=kind,
                detail={**detail, "limit": limit, "offset": offset, "returned": len(rows),
                        "first_id": rows[0][-1] if rows else None,
                        "last_id": rows[-1][-1] if rows else None},
                client=client, outcome="allow", policy=self._read_policy(allowed, decisions),
            )  # fmt: skip
        return builder(names, rows)

    _DETECTION_NAMES = (
        "t", "t_report", "sensor_id", "node", "meas_type", "z", "R", "sensor_x", "sensor_y",
        "sensor_z", "sensor_vx", "sensor_vy", "sensor_vz", "snr", "truth_id", "false_alarm",
        "marking", "t_utc", "dataset_id", "record_id",
    )  # fmt: skip
    _TRACK_NAMES = (*TRACKS_SCHEMA.names, "t_utc", "dataset_id", "run_id", "record_id")

    def query_detections(
        self,
        user: User,
        *,
        dataset_id: int | None = None,
        t0: float | None = None,
        t1: float | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        source: str | None = None,
        limit: int = 1000,
        offset: int = 0,
        client: str = "local",
    ) -> pa.Table:
        """Detections visible to the user, by time, area, source and dataset.

        Parameters
        ----------
        user : User
        dataset_id : int, optional
        t0, t1 : float, optional
            Time window, Unix seconds (UTC), both ends included.
        bbox : tuple of 4 floats, optional
            ``(lat_min, lat_max, lon_min, lon_max)``, degrees, of the detected position
            (rows without one, ``los``, never match); ``lon_min > lon_max`` crosses the
            antimeridian.
        source : str, optional
            Exact source given at ingest.
        limit, offset : int
            Page of the result, in order of (t_utc, record_id).

        Returns
        -------
        pyarrow.Table
            Detections schema (``t`` and ``t_report`` from the epoch of their ingest) plus
            ``t_utc`` (Unix s), ``dataset_id``, ``record_id``; only rows whose marking
            releases them to the user's nation.
        """
        where = self._filters(
            DETECTIONS, dataset_id=dataset_id, t0=t0, t1=t1, bbox=bbox, source=source
        )
        detail = {"dataset_id": dataset_id, "t0": t0, "t1": t1, "bbox": bbox, "source": source}
        order = (DETECTIONS.c.t_utc, DETECTIONS.c.id)
        return self._query(
            user, DETECTIONS, "detections", detections_table, self._DETECTION_NAMES, where,
            order, limit, offset, detail, client,
        )  # fmt: skip

    def query_tracks(
        self,
        user: User,
        *,
        dataset_id: int | None = None,
        t0: float | None = None,
        t1: float | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        source: str | None = None,
        limit: int = 1000,
        offset: int = 0,
        run_id: int | None = None,
        client: str = "local",
    ) -> pa.Table:
        """Ingested tracks visible to the user (or one run's tracks with ``run_id``).

        Filters as :meth:`query_detections`; the position is the track state's. Returns
        the Tracks schema plus ``t_utc``, ``dataset_id``, ``run_id``, ``record_id``.
        """
        where = self._filters(TRACKS, dataset_id=dataset_id, t0=t0, t1=t1, bbox=bbox, source=source)
        if run_id is None:
            where.append(TRACKS.c.run_id.is_(None))
        else:
            where.append(TRACKS.c.run_id == _check_int(run_id, "run_id", 1))
        detail = {
            "dataset_id": dataset_id, "t0": t0, "t1": t1, "bbox": bbox, "source": source,
            "run_id": run_id,
        }  # fmt: skip
        order = (TRACKS.c.t_utc, TRACKS.c.id)
        return self._query(
            user, TRACKS, "tracks", tracks_table, self._TRACK_NAMES, where, order, limit,
            offset, detail, client,
        )  # fmt: skip

    def datasets(self, user: User, *, client: str = "local") -> list[dict]:
        """Datasets holding records visible to the user (or created by the user).

        Returns
        -------
        list of dict
            Keys ``id``, ``name``, ``format``, ``source``, ``epoch_utc`` (Unix s),
            ``created_utc``, ``created_by``, ``detections`` and ``tracks`` (visible counts),
            ``markings`` (visible markings, sorted).
        """
        check_user(user)
        with self._tx() as conn:
            allowed, decisions = self._visible(conn, user)
            counts: dict[int, dict] = {}
            for table, key in ((DETECTIONS, "detections"), (TRACKS, "tracks")):
                statement = (
                    select(table.c.dataset_id, table.c.marking, func.count())
                    .where(table.c.marking.in_(allowed))
                    .group_by(table.c.dataset_id, table.c.marking)
                )
                if table is TRACKS:
                    statement = statement.where(TRACKS.c.run_id.is_(None))
                for dataset_id, marking, n in conn.execute(statement) if allowed else ():
                    entry = counts.setdefault(
                        int(dataset_id), {"detections": 0, "tracks": 0, "markings": set()}
                    )
                    entry[key] += int(n)
                    entry["markings"].add(marking)
            rows = conn.execute(select(DATASETS).order_by(DATASETS.c.id)).mappings().all()
            out = []
            for row in rows:
                entry = counts.get(int(row["id"]))
                if entry is None and row["created_by"] != user.id:
                    continue
                entry = entry or {"detections": 0, "tracks": 0, "markings": set()}
                out.append({**dict(row), **entry, "markings": sorted(entry["markings"])})
            audit.append(
                conn, user=user, action="read", resource="datasets",
                detail={"returned": [d["id"] for d in out]}, client=client, outcome="allow",
                policy=self._read_policy(allowed, decisions),
            )  # fmt: skip
        return out

    # ------------------------------------------------------------ tracking runs

    def _dataset_row(self, conn, dataset_id):
        _check_int(dataset_id, "dataset_id", 1)
        row = conn.execute(select(DATASETS).where(DATASETS.c.id == dataset_id)).first()
        if row is None:
            raise NotFoundError(f"dataset_id: no dataset {dataset_id} in the store")
        return row

    def _dataset_markings(self, conn, dataset_id) -> list[str]:
        statement = union(
            select(DETECTIONS.c.marking).where(DETECTIONS.c.dataset_id == dataset_id),
            select(TRACKS.c.marking).where(
                and_(TRACKS.c.dataset_id == dataset_id, TRACKS.c.run_id.is_(None))
            ),
        )
        return sorted(conn.execute(statement).scalars().all())

    def record_run(
        self,
        user: User,
        dataset_id: int,
        tracks: pa.Table,
        *,
        config: dict,
        epoch: datetime | None = None,
        client: str = "local",
    ) -> int:
        """Store the tracks of a tracking run over a dataset; return the run id.

        Parameters
        ----------
        user : User
            Who ran it; must see some of the dataset's records and be on the release list
            of every track.
        dataset_id : int
            Dataset the run read.
        tracks : pyarrow.Table
            Tracks table of the run; each track's marking must be the intersection of its
            inputs' markings (the tracker's), so it may not release wider than some
            input marking of the dataset.
        config : dict
            Tracker configuration (JSON-serialisable), stored with the run.
        epoch : datetime, optional
            UTC instant the tracks' ``t`` counts from; default the dataset's epoch.

        Raises
        ------
        InputError
            Unknown dataset, bad tracks table, or a track marking wider than every input.
        AccessDenied
            The user sees no record of the dataset, or is not on a track's release list.
        """
        check_user(user)
        if not isinstance(config, dict):
            raise InputError(f"config: expected a dict, got {type(config).__name__}")
        try:
            config_json = json.dumps(config, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise InputError(f"config: not JSON-serialisable ({error})") from error
        if not isinstance(tracks, pa.Table):
            raise InputError(f"tracks: expected a pyarrow.Table, got {type(tracks).__name__}")
        resource = f"dataset:{dataset_id}"
        with self._tx() as conn:
            dataset = self._dataset_row(conn, dataset_id)
            inputs = self._dataset_markings(conn, dataset_id)
        input_decisions = self._policy.decide_many(user, "read", [Resource(m) for m in inputs])
        visible = [m for m, d in zip(inputs, input_decisions, strict=True) if d.allowed]
        if not visible:
            policy = _policies(input_decisions) if inputs else "default-deny"
            raise self._deny(user, "run", resource, {"inputs": inputs}, client, policy)
        if epoch is not None and (not isinstance(epoch, datetime) or epoch.utcoffset() is None):
            raise InputError(f"epoch: {epoch!r} must be a timezone-aware datetime")
        epoch_s = dataset.epoch_utc if epoch is None else epoch.timestamp()
        checked = encode_tracks(tracks, epoch_s, f"run:{dataset_id}")
        markings = sorted(checked.markings)
        decisions = self._policy.decide_many(user, "run", [Resource(m) for m in markings])
        denied = [(m, d) for m, d in zip(markings, decisions, strict=True) if not d.allowed]
        if denied:
            detail = {"denied_markings": [m for m, _ in denied]}
            raise self._deny(user, "run", resource, detail, client, denied[0][1].policy)
        input_sets = [parse_marking(m) for m in visible]
        for marking in markings:
            if not any(parse_marking(marking) <= s for s in input_sets):
                raise InputError(
                    f"tracks.marking: {marking!r} releases wider than every input marking of "
                    f"dataset {dataset_id} ({', '.join(visible)}); a fused track's marking must "
                    "be the intersection of its inputs' markings"
                )
        with self._tx() as conn:
            run_id = int(
                conn.execute(
                    insert(RUNS).values(
                        dataset_id=dataset_id, user_id=user.id, config=config_json,
                        epoch_utc=epoch_s, n_tracks=tracks.num_rows,
                        created_utc=audit.utc_now(),
                    )
                ).inserted_primary_key[0]
            )  # fmt: skip
            encoded = encode_tracks(tracks, epoch_s, f"run:{run_id}", run_id=run_id)
            self._add_markings(conn, markings)
            self._bulk_insert(
                conn, TRACKS, ("dataset_id", "run_id", *encoded.columns),
                encoded.rows(dataset_id, run_id),
            )  # fmt: skip
            audit.append(
                conn, user=user, action="run", resource=f"run:{run_id}",
                detail={"dataset_id": dataset_id, "tracks": tracks.num_rows, "markings": markings},
                client=client, outcome="allow", policy=_policies(decisions),
            )  # fmt: skip
        return run_id

    def run_tracks(self, user: User, run_id: int, *, client: str = "local") -> pa.Table:
        """The tracks of a run visible to the user (Tracks schema plus query columns)."""
        check_user(user)
        _check_int(run_id, "run_id", 1)
        with self._tx() as conn:
            if conn.execute(select(RUNS.c.id).where(RUNS.c.id == run_id)).first() is None:
                raise NotFoundError(f"run_id: no run {run_id} in the store")
        return self.query_tracks(user, run_id=run_id, limit=_MAX_LIMIT, client=client)

    def runs(self, user: User, *, dataset_id: int | None = None) -> list[dict]:
        """Runs over datasets the user sees records of: id, dataset_id, user_id, config,
        n_tracks, created_utc (not audited separately: the datasets listing is)."""
        visible = {d["id"] for d in self.datasets(user)}
        with self._tx() as conn:
            statement = select(RUNS).order_by(RUNS.c.id)
            if dataset_id is not None:
                statement = statement.where(RUNS.c.dataset_id == dataset_id)
            rows = conn.execute(statement).mappings().all()
        return [
            {**dict(r), "config": json.loads(r["config"])}
            for r in rows
            if r["dataset_id"] in visible
        ]

    # ------------------------------------------------------------ releasability

    def release(
        self, user: User, dataset_id: int, nations: list[str], *, client: str = "local"
    ) -> int:
        """Extend the release list of a dataset's records to more nations.

        Only records whose originating node is the admin's own nation change; records of
        other nodes are left as they are. Content hashes keep the values ingested.

        Returns
        -------
        int
            Records whose marking changed (or already covered the nations).

        Raises
        ------
        InputError
            Unknown dataset or nation.
        AccessDenied
            The user is not an admin of the originating nation of any record in it.
        """
        check_user(user)
        if isinstance(nations, str) or not isinstance(nations, Sequence) or not nations:
            raise InputError(f"nations: {nations!r} must be a non-empty list of trigraphs")
        added = {check_node(n, f"nations[{i}]") for i, n in enumerate(nations)}
        resource = f"dataset:{dataset_id}"
        with self._tx() as conn:
            self._dataset_row(conn, dataset_id)
            groups = sorted(
                conn.execute(
                    union(
                        select(DETECTIONS.c.marking, DETECTIONS.c.node).where(
                            DETECTIONS.c.dataset_id == dataset_id
                        ),
                        select(TRACKS.c.marking, TRACKS.c.node).where(
                            TRACKS.c.dataset_id == dataset_id
                        ),
                    )
                ).all()
            )
        resources = [Resource(marking=m, node=n) for m, n in groups]
        decisions = self._policy.decide_many(user, "release", resources)
        allowed = [g for g, d in zip(groups, decisions, strict=True) if d.allowed]
        detail = {"dataset_id": dataset_id, "nations": sorted(added)}
        if not allowed:
            policy = decisions[0].policy if decisions else "default-deny"
            raise self._deny(user, "release", resource, detail, client, policy)
        changed = 0
        with self._tx() as conn:
            new_markings = set()
            for marking, node in allowed:
                widened = format_marking(parse_marking(marking) | added)
                new_markings.add(widened)
                for table in (DETECTIONS, TRACKS):
                    changed += conn.execute(
                        update(table)
                        .where(
                            table.c.dataset_id == dataset_id,
                            table.c.marking == marking,
                            table.c.node == node,
                        )
                        .values(marking=widened)
                    ).rowcount
            self._add_markings(conn, new_markings)
            audit.append(
                conn, user=user, action="release", resource=resource,
                detail={**detail, "records": changed,
                        "groups": [f"{m} from {n}" for m, n in allowed],
                        "left": len(groups) - len(allowed)},
                client=client, outcome="allow",
                policy=_policies([d for d in decisions if d.allowed]),
            )  # fmt: skip
        return changed

    # ------------------------------------------------------------ audit

    def audit_log(
        self, user: User, *, limit: int = 100, offset: int = 0, client: str = "local"
    ) -> list[dict]:
        """Audit records of the admin's own nation's users, newest first.

        Raises
        ------
        AccessDenied
            The user is not an admin.
        """
        check_user(user)
        _check_int(limit, "limit", 1, _MAX_LIMIT)
        _check_int(offset, "offset", 0)
        decision = self._policy.decide(user, "audit", Resource(nation=user.nation))
        detail = {"limit": limit, "offset": offset}
        if not decision.allowed:
            raise self._deny(user, "audit", "audit_log", detail, client, decision.policy)
        with self._tx() as conn:
            rows = (
                conn.execute(
                    select(AUDIT_LOG)
                    .where(AUDIT_LOG.c.nation == user.nation)
                    .order_by(AUDIT_LOG.c.seq.desc())
                    .limit(limit)
                    .offset(offset)
                )
                .mappings()
                .all()
            )
            audit.append(
                conn, user=user, action="audit", resource="audit_log",
                detail={**detail, "returned": len(rows)}, client=client, outcome="allow",
                policy=decision.policy,
            )  # fmt: skip
        return [{**dict(r), "detail": json.loads(r["detail"])} for r in rows]

    def verify_audit(self) -> audit.AuditCheck:
        """Recompute the audit hash chain (see :func:`hyperdef.store.audit.verify`)."""
        with self._tx() as conn:
            return audit.verify(conn)
