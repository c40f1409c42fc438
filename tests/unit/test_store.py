"""The analysis store on SQLite: opening, users and keys, idempotent ingest, queries,
tracking runs, release, and the migrations."""

from __future__ import annotations

import math
import sqlite3

import numpy as np
import pyarrow as pa
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from store_fixtures import EPOCH, EPOCH_S, RADAR_ECEF, RADAR_LLA, detections, result, tracks

from hyperdef.core.frames import ecef_to_aer, ecef_to_lla, lla_to_ecef
from hyperdef.errors import HyperdefError, InputError
from hyperdef.sensors.detections import SCHEMA, make_detections
from hyperdef.store import AccessDenied, IngestSummary, Store, User
from hyperdef.store.engine import alembic_config, make_engine, normalise_url
from hyperdef.store.schema import metadata
from hyperdef.tracking.tracker import TRACKS_SCHEMA


@pytest.fixture
def store(tmp_path):
    with Store.open(f"sqlite:///{tmp_path / 'store.db'}") as opened:
        yield opened


@pytest.fixture
def admin(store) -> User:
    return store.add_user("usa-admin", "USA", "admin")[0]


# ------------------------------------------------------------------ opening


def test_open_default_is_a_wal_sqlite_file_in_the_user_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("HYPERDEF_DB", raising=False)
    monkeypatch.setattr("platformdirs.user_data_dir", lambda app: str(tmp_path / "data" / app))
    with Store.open() as store:
        assert store.engine.url.database == str(tmp_path / "data" / "hyperdef" / "hyperdef.db")
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert (tmp_path / "data" / "hyperdef" / "hyperdef.db").exists()


def test_open_uses_hyperdef_db_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "env.db"
    monkeypatch.setenv("HYPERDEF_DB", f"sqlite:///{path}")
    with Store.open() as store:
        store.add_user("a", "USA", "analyst")
    assert path.exists()


@pytest.mark.parametrize("url", ["mysql://host/db", "not a url", "sqlite+aiosqlite:///x.db"])
def test_open_rejects_other_databases(url):
    with pytest.raises(InputError, match="url"):
        Store.open(url)


def test_postgresql_urls_get_the_psycopg_driver():
    assert normalise_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"


def test_access_denied_is_a_hyperdef_error():
    assert issubclass(AccessDenied, HyperdefError)


# ------------------------------------------------------------------ users


def test_api_key_identifies_its_user_and_is_stored_hashed(store):
    user, key = store.add_user("alice", "JPN", "analyst")
    assert user == User(user.id, "alice", "JPN", "analyst")
    assert store.user_for_key(key) == user
    assert store.user_for_key(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert store.user_for_key("garbage") is None
    assert store.user_for_key("") is None
    secret = key.split("_", 2)[2]
    with store.engine.connect() as conn:
        dump = " ".join(str(v) for row in conn.exec_driver_sql("SELECT * FROM users") for v in row)
    assert secret not in dump
    bob, _ = store.add_user("bob", "USA", "admin")
    assert store.users() == [user, bob]  # in the order added, without their keys


@pytest.mark.parametrize(
    ("name", "nation", "role", "field"),
    [("", "USA", "admin", "name"), ("x", "XXX", "admin", "nation"), ("x", "USA", "boss", "role")],
)
def test_add_user_rejects_bad_fields(store, name, nation, role, field):
    with pytest.raises(InputError, match=field):
        store.add_user(name, nation, role)


def test_user_names_are_unique(store):
    store.add_user("bob", "USA", "analyst")
    with pytest.raises(InputError, match="bob"):
        store.add_user("bob", "JPN", "analyst")


def test_admins_add_users_of_their_own_nation_only(store, admin):
    user, _ = store.add_user("usa-analyst", "USA", "analyst", by=admin)
    assert user.nation == "USA"
    with pytest.raises(AccessDenied, match="admins-manage-own-nation|default-deny"):
        store.add_user("jpn-analyst", "JPN", "analyst", by=admin)
    with pytest.raises(AccessDenied, match="manage_users"):
        store.add_user("another", "USA", "analyst", by=user)


# ------------------------------------------------------------------ ingest


def test_ingest_twice_adds_nothing_the_second_time(store, admin):
    data = result(detections(30), tracks(20), **{"bad crc": 2})
    first = store.ingest(data, user=admin, dataset="d1", source="file.klv")
    assert first == IngestSummary(first.dataset_id, 30, 20, 0, first.skipped)
    assert first.skipped == {"bad crc": 2}
    second = store.ingest(data, user=admin, dataset="d1", source="file.klv")
    assert (second.added_detections, second.added_tracks, second.duplicates) == (0, 0, 50)
    assert second.dataset_id == first.dataset_id
    # an overlapping file adds only what is new
    more = pa.concat_tables([detections(30), detections(10, t0=1000.0, seed=9)])
    third = store.ingest(result(more), user=admin, dataset="d1")
    assert (third.added_detections, third.duplicates) == (10, 30)
    assert store.query_detections(admin).num_rows == 40


def test_same_absolute_time_against_another_epoch_is_a_duplicate(store, admin):
    from dataclasses import replace
    from datetime import timedelta

    table = detections(9)
    store.ingest(result(table), user=admin, dataset="a")
    shifted = table.set_column(0, "t", pa.array(table.column("t").to_numpy() - 3600.0))
    shifted = shifted.set_column(
        1, "t_report", pa.array(table.column("t_report").to_numpy() - 3600.0)
    )
    again = replace(result(shifted), epoch=EPOCH + timedelta(hours=1))
    summary = store.ingest(again, user=admin, dataset="b")
    assert (summary.added_detections, summary.duplicates) == (0, 9)


def test_content_hash_covers_the_marking(store, admin):
    store.ingest(result(detections(6)), user=admin, dataset="a")
    other = store.ingest(result(detections(6, marking="REL TO USA")), user=admin, dataset="a")
    assert other.added_detections == 6


def test_ingest_is_all_or_nothing(store, admin, monkeypatch):
    original = Store._bulk_insert

    def fail_on_tracks(self, conn, table, columns, rows):
        if table.name == "tracks":
            raise RuntimeError("disk full")
        return original(self, conn, table, columns, rows)

    monkeypatch.setattr(Store, "_bulk_insert", fail_on_tracks)
    with pytest.raises(RuntimeError, match="disk full"):
        store.ingest(result(detections(10), tracks(5)), user=admin, dataset="d")
    monkeypatch.undo()
    assert store.query_detections(admin).num_rows == 0
    assert store.datasets(admin) == []
    assert store.verify_audit().ok


@pytest.mark.parametrize(
    ("column", "value", "match"),
    [
        ("node", "XXX", "detections.node"),
        ("marking", "USA only", "detections.marking"),
        ("meas_type", "radial", "detections.meas_type"),
    ],
)
def test_ingest_rejects_bad_records(store, admin, column, value, match):
    table = detections(3)
    index = table.column_names.index(column)
    bad = table.set_column(index, column, pa.array([value] * 3))
    with pytest.raises(InputError, match=match):
        store.ingest(result(bad), user=admin, dataset="d")
    assert store.datasets(admin) == []


def test_ingest_rejects_a_measurement_of_the_wrong_length(store, admin):
    table = detections(3)
    z = pa.array([[1.0, 2.0]] * 3, pa.list_(pa.float64()))
    bad = table.set_column(table.column_names.index("z"), "z", z)
    with pytest.raises(InputError, match="detections.z: row 0"):
        store.ingest(result(bad), user=admin, dataset="d")


def test_ingest_rejects_a_naive_epoch(store, admin):
    from dataclasses import replace

    naive = replace(result(detections(3)), epoch=EPOCH.replace(tzinfo=None))
    with pytest.raises(InputError, match="epoch"):
        store.ingest(naive, user=admin, dataset="d")


def test_markings_are_stored_in_canonical_form(store, admin):
    store.ingest(result(detections(3, marking="rel to jpn ,usa")), user=admin, dataset="d")
    assert set(store.query_detections(admin).column("marking").to_pylist()) == {"REL TO USA, JPN"}


# ------------------------------------------------------------------ queries


def test_detections_round_trip_with_every_column(store, admin):
    table = detections(12)
    snr = table.column("snr").to_numpy().copy()
    snr[4] = np.nan
    table = table.set_column(table.column_names.index("snr"), "snr", pa.array(snr))
    summary = store.ingest(result(table), user=admin, dataset="d")
    out = store.query_detections(admin)
    assert out.schema.names == [*SCHEMA.names, "t_utc", "dataset_id", "record_id"]
    for name in SCHEMA.names:
        if name == "snr":
            np.testing.assert_array_equal(out.column(name).to_numpy(), snr)
        else:
            assert out.column(name).to_pylist() == table.column(name).to_pylist(), name
    np.testing.assert_array_equal(
        out.column("t_utc").to_numpy(), EPOCH_S + table.column("t").to_numpy()
    )
    assert set(out.column("dataset_id").to_pylist()) == {summary.dataset_id}
    assert len(set(out.column("record_id").to_pylist())) == 12


def test_tracks_round_trip(store, admin):
    table = tracks(15)
    store.ingest(result(None, table), user=admin, dataset="d")
    out = store.query_tracks(admin)
    assert out.schema.names[: len(TRACKS_SCHEMA)] == TRACKS_SCHEMA.names
    for name in TRACKS_SCHEMA.names:
        assert out.column(name).to_pylist() == table.column(name).to_pylist(), name


def test_query_by_time_window(store, admin):
    store.ingest(result(detections(100, dt=1.0)), user=admin, dataset="d")
    out = store.query_detections(admin, t0=EPOCH_S + 10.0, t1=EPOCH_S + 19.0)
    np.testing.assert_array_equal(out.column("t").to_numpy(), np.arange(10.0, 20.0))


def test_query_by_area_uses_the_detected_position(store, admin):
    # one xyz and one rae detection of the same point over Tokyo Bay, one los
    point = lla_to_ecef([np.radians(35.2), np.radians(139.9), 30e3])
    aer = ecef_to_aer(point, RADAR_LLA)
    common = dict(
        t_report=0.0, sensor_id="r", node="USA", sensor_r_ecef_m=RADAR_ECEF,
        sensor_v_ecef_m_s=np.zeros(3), snr=20.0, truth_id=np.array([1]), false_alarm=False,
        marking="REL TO USA",
    )  # fmt: skip
    rows = [
        make_detections(t=np.array([1.0]), meas_type="xyz", z=point[None], R=np.eye(3), **common),
        make_detections(t=np.array([2.0]), meas_type="rae", z=aer[None], R=np.eye(3), **common),
        make_detections(t=np.array([3.0]), meas_type="los", z=aer[None, 1:], R=np.eye(2), **common),
    ]
    store.ingest(result(pa.concat_tables(rows)), user=admin, dataset="d")
    inside = store.query_detections(admin, bbox=(35.0, 35.4, 139.7, 140.1))
    assert inside.column("meas_type").to_pylist() == ["xyz", "rae"]
    assert store.query_detections(admin, bbox=(36.0, 37.0, 139.7, 140.1)).num_rows == 0
    with store.engine.connect() as conn:
        lat, lon, alt = conn.exec_driver_sql(
            "SELECT lat, lon, alt FROM detections WHERE meas_type = 'rae'"
        ).one()
    assert lat == pytest.approx(35.2, abs=1e-9)
    assert lon == pytest.approx(139.9, abs=1e-9)
    assert alt == pytest.approx(30e3, abs=1e-4)


def test_area_across_the_antimeridian(store, admin):
    lla = np.radians([[10.0, 179.5, 0.0], [10.0, -179.5, 0.0], [10.0, 0.0, 0.0]])
    lla[:, 2] = 20e3
    table = make_detections(
        t=np.arange(3.0), t_report=np.arange(3.0), sensor_id="s", node="USA", meas_type="xyz",
        z=lla_to_ecef(lla), R=np.eye(3), sensor_r_ecef_m=lla_to_ecef(lla[0]),
        sensor_v_ecef_m_s=np.zeros(3), snr=1.0, truth_id=np.zeros(3, int), false_alarm=False,
        marking="REL TO USA",
    )  # fmt: skip
    store.ingest(result(table), user=admin, dataset="d")
    out = store.query_detections(admin, bbox=(5.0, 15.0, 179.0, -179.0))
    assert out.column("t").to_pylist() == [0.0, 1.0]
    assert ecef_to_lla(lla_to_ecef(lla[1]))[1] < 0


def test_query_by_source_dataset_and_pages(store, admin):
    a = store.ingest(result(detections(20)), user=admin, dataset="a", source="one.klv")
    b = store.ingest(result(detections(20, t0=100.0)), user=admin, dataset="b", source="two")
    assert store.query_detections(admin, source="two").num_rows == 20
    assert set(store.query_detections(admin, dataset_id=a.dataset_id).column("t").to_pylist()) == {
        float(i) for i in range(20)
    }
    pages = [store.query_detections(admin, limit=15, offset=o) for o in (0, 15, 30)]
    assert [p.num_rows for p in pages] == [15, 15, 10]
    ids = [i for p in pages for i in p.column("record_id").to_pylist()]
    assert len(set(ids)) == 40
    assert store.query_detections(admin, dataset_id=b.dataset_id, t0=EPOCH_S).num_rows == 20


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
        ({"t0": math.nan}, "t0"),
        ({"t0": 5.0, "t1": 1.0}, "t1"),
        ({"bbox": (1.0, 2.0, 3.0)}, "bbox"),
        ({"bbox": (50.0, 40.0, 0.0, 1.0)}, "bbox"),
        ({"dataset_id": "one"}, "dataset_id"),
    ],
)
def test_query_rejects_bad_arguments(store, admin, kwargs, field):
    with pytest.raises(InputError, match=field):
        store.query_detections(admin, **kwargs)


def test_datasets_lists_visible_counts(store, admin):
    jpn, _ = store.add_user("jpn", "JPN", "analyst")
    store.ingest(result(detections(10), tracks(4)), user=admin, dataset="shared", source="s")
    store.ingest(result(detections(5, marking="REL TO USA", t0=50)), user=admin, dataset="shared")
    store.ingest(result(detections(3, marking="REL TO USA", t0=90)), user=admin, dataset="usa")
    mine = {d["name"]: d for d in store.datasets(admin)}
    assert (mine["shared"]["detections"], mine["shared"]["tracks"]) == (15, 4)
    assert mine["shared"]["markings"] == ["REL TO USA", "REL TO USA, JPN"]
    assert mine["usa"]["detections"] == 3
    theirs = {d["name"]: d for d in store.datasets(jpn)}
    assert list(theirs) == ["shared"]
    assert theirs["shared"]["detections"] == 10


# ------------------------------------------------------------------ runs and release


def test_record_run_and_read_its_tracks(store, admin):
    summary = store.ingest(result(detections(10)), user=admin, dataset="d")
    run_tracks = tracks(7, marking="REL TO USA")  # narrower than the input: fine
    run_id = store.record_run(admin, summary.dataset_id, run_tracks, config={"gate": 9.2})
    out = store.run_tracks(admin, run_id)
    assert out.num_rows == 7
    assert set(out.column("run_id").to_pylist()) == {run_id}
    assert out.column("x").to_pylist() == run_tracks.column("x").to_pylist()
    # the same tracks again are a new run, not duplicates; ingested-track queries skip runs
    again = store.record_run(admin, summary.dataset_id, run_tracks, config={})
    assert store.run_tracks(admin, again).num_rows == 7
    assert store.query_tracks(admin).num_rows == 0
    assert [r["id"] for r in store.runs(admin)] == [run_id, again]
    assert store.runs(admin)[0]["config"] == {"gate": 9.2}


def test_run_tracks_may_not_release_wider_than_their_inputs(store, admin):
    summary = store.ingest(result(detections(10, marking="REL TO USA")), user=admin, dataset="d")
    with pytest.raises(InputError, match="intersection"):
        store.record_run(admin, summary.dataset_id, tracks(3), config={})


def test_record_run_rejects_unknown_dataset(store, admin):
    with pytest.raises(InputError, match="dataset_id"):
        store.record_run(admin, 99, tracks(3), config={})


def test_release_extends_the_release_list_of_own_nation_records(store, admin):
    kor, _ = store.add_user("kor", "KOR", "analyst")
    jpn_admin, _ = store.add_user("jpn-admin", "JPN", "admin")
    usa_data = detections(6, marking="REL TO USA, JPN")
    jpn_data = detections(4, marking="REL TO USA, JPN", node="JPN", t0=100)
    summary = store.ingest(result(pa.concat_tables([usa_data, jpn_data])), user=admin, dataset="d")
    assert store.query_detections(kor).num_rows == 0
    with pytest.raises(AccessDenied, match="release"):
        store.release(kor, summary.dataset_id, ["KOR"])
    changed = store.release(admin, summary.dataset_id, ["KOR"])
    assert changed == 6
    visible = store.query_detections(kor)
    assert visible.num_rows == 6
    assert set(visible.column("node").to_pylist()) == {"USA"}
    assert set(visible.column("marking").to_pylist()) == {"REL TO USA, JPN, KOR"}
    # the JPN admin releases only JPN-originated records
    assert store.release(jpn_admin, summary.dataset_id, ["KOR"]) == 4
    assert store.query_detections(kor).num_rows == 10
    # re-ingesting the original file still adds nothing
    again = store.ingest(result(pa.concat_tables([usa_data, jpn_data])), user=admin, dataset="d")
    assert again.duplicates == 10


def test_release_rejects_unknown_nations(store, admin):
    summary = store.ingest(result(detections(3)), user=admin, dataset="d")
    with pytest.raises(InputError, match=r"nations\[1\]"):
        store.release(admin, summary.dataset_id, ["KOR", "XYZ"])


# ------------------------------------------------------------------ migrations


def test_opening_an_old_revision_database_upgrades_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(normalise_url(url))
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO datasets (name, format, source, epoch_utc, created_utc) "
            "VALUES ('old', 'klv', '', 0, '')"
        )
        conn.exec_driver_sql(
            "INSERT INTO detections (dataset_id, content_hash, source, t_utc, t, t_report, "
            "sensor_id, node, meas_type, z, R, truth_id, false_alarm, marking) VALUES "
            "(1, x'68', '', 5, 5, 5, 's', 'USA', 'los', x'', x'', -1, 0, 'REL TO USA, JPN')"
        )
    engine.dispose()
    with Store.open(url) as store:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == (
                "0002"
            )
        user, _ = store.add_user("jpn", "JPN", "analyst")
        assert store.query_detections(user).num_rows == 1  # markings table backfilled


def test_metadata_matches_the_migrations(store):
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_audit_log_rejects_update_and_delete_on_sqlite(store, admin):
    with pytest.raises(Exception, match="append-only"):
        with store.engine.begin() as conn:
            conn.execute(text("UPDATE audit_log SET outcome = 'deny'"))
    with pytest.raises(Exception, match="append-only"):
        with store.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log"))


def test_foreign_keys_are_enforced(tmp_path):
    path = tmp_path / "fk.db"
    Store.open(f"sqlite:///{path}").close()
    with Store.open(f"sqlite:///{path}") as store, store.engine.connect() as conn:
        with pytest.raises(Exception, match="FOREIGN KEY"):
            conn.exec_driver_sql(
                "INSERT INTO runs (dataset_id, config, epoch_utc, n_tracks, created_utc) "
                "VALUES (42, '{}', 0, 0, '')"
            )
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_in_memory_store_works_across_threads():
    from concurrent.futures import ThreadPoolExecutor

    with Store.open("sqlite://") as store:
        admin, _ = store.add_user("a", "USA", "admin")

        def work(i):
            store.ingest(result(detections(5, t0=10.0 * i)), user=admin, dataset=f"d{i}")
            return store.query_detections(admin).num_rows

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(work, range(8)))
        assert store.query_detections(admin).num_rows == 40
        assert store.verify_audit().ok


# ------------------------------------------------------------------ content hashes


def _raer_detection(snr: float = np.nan):
    return make_detections(
        t=np.array([1.5]), t_report=np.array([2.0]), sensor_id="r1", node="USA",
        meas_type="raer", z=np.array([[1e5, 0.5, 0.25, -300.0]]),
        R=np.diag([100.0, 1e-6, 1e-6, 4.0]), sensor_r_ecef_m=np.array([-3.9e6, 3.3e6, 3.7e6]),
        sensor_v_ecef_m_s=np.zeros(3), snr=snr, truth_id=np.array([7]), false_alarm=False,
        marking="REL TO JPN, USA",
    )  # fmt: skip


def test_detection_hash_is_the_documented_encoding():
    import hashlib
    import struct

    from hyperdef.store.records import encode_detections

    epoch_s = 1.7e9
    floats = [epoch_s + 1.5, epoch_s + 2.0, -3.9e6, 3.3e6, 3.7e6, 0.0, 0.0, 0.0, math.nan]
    floats += [1e5, 0.5, 0.25, -300.0]  # z, padded to 4
    floats += list(np.diag([100.0, 1e-6, 1e-6, 4.0]).ravel())  # R, 16
    body = struct.pack("<29d", *floats) + struct.pack("<2q", 7, 0)
    text = b"r1\0USA\0raer\0REL TO USA, JPN"
    expected = hashlib.sha256(b"hyperdef.detection.v1\0" + body + text).digest()
    encoded = encode_detections(_raer_detection(), epoch_s, "any source")
    assert encoded.data[0][0] == expected
    # golden values: a change here orphans every hash already stored
    assert expected.hex() == "4124f69898c0ba40611a88981045094161977cece29858f691d51197ba54ee4e"


def test_track_hash_is_stable():
    from hyperdef.store.records import encode_tracks

    table = pa.Table.from_pydict(
        {
            "t": [3.0], "track_id": [4], "node": ["JPN"], "status": ["confirmed"],
            "x": [-3.9e6], "y": [3.3e6], "z": [3.7e6], "vx": [1.0], "vy": [2.0], "vz": [3.0],
            "P": [[float(i) for i in range(36)]], "model_probs": [[0.25, 0.75]],
            "marking": ["REL TO JPN"], "n_updates": [5], "truth_id": [1],
        },
        schema=TRACKS_SCHEMA,
    )  # fmt: skip
    hashes = [encode_tracks(table, 1.7e9, "x", run_id=r).data[0][0].hex() for r in (0, 1)]
    assert hashes[0] == "2b2500ca71219d1ef201d60326206e389d3c22d37208f3162f548edbe78e366a"
    assert hashes[1] != hashes[0]


# ------------------------------------------------------------------ properties

_finite = st.floats(-1e7, 1e7, allow_nan=False)


@settings(max_examples=25)
@given(
    t=st.lists(st.floats(0.0, 86400.0), min_size=1, max_size=8),
    z=st.tuples(_finite, _finite, _finite),
    snr=st.one_of(st.just(math.nan), st.floats(0.0, 1e6)),
    marking=st.sampled_from(["REL TO USA", "REL TO USA, JPN", "REL TO JPN, KOR, USA"]),
)
def test_any_batch_round_trips_and_ingests_once(t, z, snr, marking):
    n = len(t)
    table = make_detections(
        t=np.array(t), t_report=np.array(t), sensor_id="s", node="USA", meas_type="xyz",
        z=np.tile(z, (n, 1)), R=np.eye(3), sensor_r_ecef_m=RADAR_ECEF,
        sensor_v_ecef_m_s=np.zeros(3), snr=snr, truth_id=np.arange(n), false_alarm=False,
        marking=marking,
    )  # fmt: skip
    with Store.open("sqlite://") as store:
        user, _ = store.add_user("u", "USA", "analyst")
        first = store.ingest(result(table), user=user, dataset="d")
        again = store.ingest(result(table), user=user, dataset="d")
        out = store.query_detections(user, limit=100)
    assert first.added_detections == n and again.duplicates == n
    for name in ("t", "z", "R", "truth_id", "sensor_x"):
        assert sorted(map(str, out.column(name).to_pylist())) == sorted(
            map(str, table.column(name).to_pylist())
        ), name
    np.testing.assert_array_equal(out.column("snr").to_numpy(), np.full(n, snr))
