"""The hash-chained, append-only audit log of the analysis store.

Each record stores the hash of the record before it (``prev_hash``; 64 zeros for the
first) and its own hash, ``SHA-256(prev_hash || canonical JSON of the record)``, where the
canonical JSON holds every column but ``hash`` with sorted keys and no whitespace. Changing,
deleting or reordering a stored record therefore breaks the chain at that record, and
:func:`verify` finds it. Appends are serialised so the chain never forks: SQLite
transactions of the store begin with ``BEGIN IMMEDIATE``, and on PostgreSQL an append
takes a transaction-scoped advisory lock.

Limits: a chain cut after its last record (the newest records deleted) still verifies;
keep the hash of the newest record elsewhere (``audit_log(limit=1)``) to detect that.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select, text

from hyperdef.store.schema import AUDIT_LOG

__all__ = ["GENESIS", "AuditCheck", "append", "canonical_json", "record_hash", "verify"]

#: prev_hash of the first record
GENESIS = "0" * 64
#: the columns that go into a record's hash, in table order
HASHED = tuple(c.name for c in AUDIT_LOG.columns if c.name != "hash")
#: advisory-lock key that serialises appends on PostgreSQL ("hdaudit" in ASCII)
_PG_LOCK = 0x6864617564697400


@dataclass(frozen=True, slots=True)
class AuditCheck:
    """Result of :func:`verify`.

    Attributes
    ----------
    ok : bool
        The whole chain verifies.
    records : int
        Records read.
    first_bad : int or None
        ``seq`` of the first record that fails, None when ``ok``.
    reason : str
        What failed, or ``"ok"``.
    """

    ok: bool
    records: int
    first_bad: int | None
    reason: str


def canonical_json(record: dict) -> str:
    """Canonical JSON of an audit record: the hashed columns, sorted keys, no spaces."""
    return json.dumps(
        {name: record[name] for name in HASHED},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def record_hash(prev_hash: str, record: dict) -> str:
    """``SHA-256(prev_hash || canonical_json(record))`` as 64 hex digits."""
    return hashlib.sha256((prev_hash + canonical_json(record)).encode("utf-8")).hexdigest()


def utc_now() -> str:
    """The current UTC instant, ISO 8601 with microseconds and a ``Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def append(
    conn: Connection,
    *,
    user,
    action: str,
    resource: str,
    detail: dict,
    client: str,
    outcome: str,
    policy: str,
) -> int:
    """Append one record inside the caller's transaction; return its ``seq``.

    Parameters
    ----------
    conn : sqlalchemy.Connection
        Connection in an open transaction (the record commits or rolls back with it).
    user : hyperdef.store.User or None
        Who asked (None: the local operator or an unauthenticated request).
    action, resource : str
        What was asked, on what (``dataset:3``, ``detections``).
    detail : dict
        JSON-serialisable particulars (query, ids, counts).
    client : str
        Where the request came from.
    outcome : str
        ``allow`` or ``deny``.
    policy : str
        ``@id`` of the deciding policy.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
    last = conn.execute(
        select(AUDIT_LOG.c.seq, AUDIT_LOG.c.hash).order_by(AUDIT_LOG.c.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (1, GENESIS) if last is None else (last.seq + 1, last.hash)
    record = {
        "seq": seq,
        "ts_utc": utc_now(),
        "user_id": None if user is None else user.id,
        "user_name": None if user is None else user.name,
        "nation": None if user is None else user.nation,
        "role": None if user is None else user.role,
        "action": action,
        "resource": resource,
        "detail": json.dumps(detail, sort_keys=True, separators=(",", ":"), default=str),
        "client": client,
        "outcome": outcome,
        "policy": policy,
        "prev_hash": prev_hash,
    }
    record["hash"] = record_hash(prev_hash, record)
    conn.execute(insert(AUDIT_LOG), record)
    return seq


def verify(conn: Connection) -> AuditCheck:
    """Recompute the chain from the first record; report the first that fails."""
    expected_seq, prev_hash, count = 1, GENESIS, 0
    statement = select(AUDIT_LOG).order_by(AUDIT_LOG.c.seq).execution_options(yield_per=5000)
    rows = conn.execute(statement)  # streamed: the log may hold millions of records
    for row in rows.mappings():
        count += 1
        record = dict(row)
        seq = record["seq"]
        if seq != expected_seq:
            reason = f"record {expected_seq} missing: sequence jumps to {seq}"
            return AuditCheck(False, count, seq, reason)
        if record["prev_hash"] != prev_hash:
            reason = f"record {seq}: prev_hash does not match the hash of record {seq - 1}"
            return AuditCheck(False, count, seq, reason)
        if record_hash(prev_hash, record) != record["hash"]:
            reason = f"record {seq}: content does not match its hash (altered)"
            return AuditCheck(False, count, seq, reason)
        prev_hash = record["hash"]
        expected_seq += 1
    return AuditCheck(True, count, None, "ok")
