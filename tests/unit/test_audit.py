"""The hash-chained audit log: what it records, and that tampering is found where it is."""

from __future__ import annotations

import hashlib
import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from store_fixtures import detections, result

from hyperdef.store import AccessDenied, Store
from hyperdef.store.audit import GENESIS, HASHED


@pytest.fixture
def store(tmp_path):
    with Store.open(f"sqlite:///{tmp_path / 'audit.db'}") as opened:
        yield opened


@pytest.fixture
def busy(store):
    """A store with a dozen audit records of every kind."""
    admin, _ = store.add_user("usa-admin", "USA", "admin")
    analyst, _ = store.add_user("jpn", "JPN", "analyst", by=None)
    store.ingest(result(detections(5)), user=admin, dataset="d", client="10.0.0.7")
    for _ in range(3):
        store.query_detections(analyst, t0=0.0, client="10.0.0.8")
    with pytest.raises(AccessDenied):
        store.ingest(result(detections(2, marking="REL TO USA")), user=analyst, dataset="x")
    store.datasets(analyst)
    store.query_tracks(admin)
    store.audit_log(admin)
    return store, admin, analyst


def rows(store) -> list[dict]:
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.exec_driver_sql("SELECT * FROM audit_log ORDER BY seq")
                .mappings()]  # fmt: skip


def tamper(store, sql: str) -> None:
    """Raw SQL past the append-only triggers, as someone with the database file could."""
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_update")
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_delete")
        conn.exec_driver_sql(sql)


def test_every_request_is_recorded(busy):
    store, admin, analyst = busy
    log = rows(store)
    assert [r["seq"] for r in log] == list(range(1, len(log) + 1))
    assert [(r["action"], r["outcome"]) for r in log] == [
        ("manage_users", "allow"),
        ("manage_users", "allow"),
        ("write", "allow"),
        ("read", "allow"),
        ("read", "allow"),
        ("read", "allow"),
        ("write", "deny"),
        ("read", "allow"),
        ("read", "allow"),
        ("audit", "allow"),
    ]
    write = log[2]
    assert (write["user_id"], write["user_name"], write["nation"], write["role"]) == (
        admin.id, "usa-admin", "USA", "admin"
    )  # fmt: skip
    assert write["client"] == "10.0.0.7"
    assert write["policy"] == "release-list-permits"
    assert write["resource"] == "dataset:1"
    assert json.loads(write["detail"])["added_detections"] == 5
    read = log[3]
    assert read["client"] == "10.0.0.8"
    assert json.loads(read["detail"])["t0"] == 0.0
    assert json.loads(read["detail"])["returned"] == 5
    denied = log[6]
    assert (denied["user_name"], denied["policy"]) == ("jpn", "not-on-release-list")
    assert json.loads(denied["detail"])["denied_markings"] == ["REL TO USA"]
    assert log[0]["policy"] == "local-operator" and log[0]["user_id"] is None
    when = datetime.strptime(write["ts_utc"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - when).total_seconds()) < 600


def test_the_chain_is_sha256_of_prev_hash_and_canonical_json(busy):
    store, *_ = busy
    prev = GENESIS
    for row in rows(store):
        body = json.dumps({k: row[k] for k in HASHED}, sort_keys=True, separators=(",", ":"))
        assert row["prev_hash"] == prev
        assert row["hash"] == hashlib.sha256((prev + body).encode()).hexdigest()
        prev = row["hash"]


def test_an_untouched_log_verifies(busy):
    store, *_ = busy
    check = store.verify_audit()
    assert (check.ok, check.records, check.first_bad, check.reason) == (True, 10, None, "ok")


def test_empty_log_verifies(store):
    assert store.verify_audit().ok and store.verify_audit().records == 0


@pytest.mark.parametrize("seq", [1, 5, 10])
def test_changed_outcome_is_found_at_its_record(busy, seq):
    store, *_ = busy
    tamper(store, f"UPDATE audit_log SET outcome = 'tampered' WHERE seq = {seq}")
    check = store.verify_audit()
    assert (check.ok, check.first_bad) == (False, seq)
    assert "altered" in check.reason


@pytest.mark.parametrize("seq", [1, 4, 9])
def test_deleted_record_is_found_where_the_chain_breaks(busy, seq):
    store, *_ = busy
    tamper(store, f"DELETE FROM audit_log WHERE seq = {seq}")
    check = store.verify_audit()
    assert (check.ok, check.first_bad) == (False, seq + 1)
    assert re.search(rf"record {seq} missing", check.reason)


def test_reordered_records_are_found(busy):
    store, *_ = busy
    for sql in (
        "UPDATE audit_log SET seq = -1 WHERE seq = 6",
        "UPDATE audit_log SET seq = 6 WHERE seq = 7",
        "UPDATE audit_log SET seq = 7 WHERE seq = -1",
    ):
        tamper(store, sql)
    check = store.verify_audit()
    assert (check.ok, check.first_bad) == (False, 6)


def test_a_rehashed_forgery_breaks_the_next_link(busy):
    from hyperdef.store.audit import record_hash

    store, *_ = busy
    row = rows(store)[6]  # the denied write
    row["outcome"] = "allow"
    forged = record_hash(row["prev_hash"], row)
    tamper(store, f"UPDATE audit_log SET outcome = 'allow', hash = '{forged}' WHERE seq = 7")
    check = store.verify_audit()
    assert (check.ok, check.first_bad) == (False, 8)
    assert "prev_hash" in check.reason


def test_concurrent_appends_keep_one_chain(tmp_path):
    url = f"sqlite:///{tmp_path / 'concurrent.db'}"
    with Store.open(url) as first:
        user, _ = first.add_user("u", "USA", "analyst")

    def worker(i: int) -> None:
        with Store.open(url) as store:  # its own engine and connections
            store.ingest(result(detections(3, t0=100.0 * i)), user=user, dataset=f"d{i}")
            for _ in range(5):
                store.query_detections(user)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(worker, range(4)))
    with Store.open(url) as store:
        check = store.verify_audit()
        assert check.ok, check.reason
        assert check.records == 1 + 4 * 6


def test_only_admins_read_the_log_and_only_their_nation(busy):
    store, admin, analyst = busy
    with pytest.raises(AccessDenied, match="audit audit_log: denied to 'jpn'"):
        store.audit_log(analyst)
    log = store.audit_log(admin, limit=3)
    assert [r["seq"] for r in log] == [10, 9, 3]  # the JPN denial (11) is not shown
    assert all(r["nation"] == "USA" for r in store.audit_log(admin, limit=1000))
    assert store.audit_log(admin, limit=1, offset=1)[0]["seq"] == 12
