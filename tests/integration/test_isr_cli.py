"""``hyperdef users add | ingest | export | audit verify | serve`` through typer's CliRunner,
each test on its own SQLite store."""

from __future__ import annotations

import json
import math
import sqlite3
from datetime import UTC, datetime

import numpy as np
import pytest
from typer.testing import CliRunner

from hyperdef.cli import app
from hyperdef.core.frames import lla_to_ecef
from hyperdef.sensors.detections import concat_detections, make_detections

EPOCH = datetime(2026, 6, 1, tzinfo=UTC)
T0_S = 3600.0


def detections(node: str, marking: str, *, targets: int = 2, seconds: int = 10):
    """Reports (xyz, 30 m) of aircraft flying east at 250 m/s near 35N 139E, 10 km up."""
    tables = []
    t = T0_S + np.arange(seconds, dtype=float)
    sensor_r = lla_to_ecef([math.radians(34.55), math.radians(139.0), 15_000.0])
    for k in range(targets):
        lat = math.radians(35.0 + 0.2 * k)
        lon = math.radians(139.0) + 250.0 * (t - T0_S) / (6_378_137.0 * math.cos(lat))
        r = lla_to_ecef(np.column_stack([np.full_like(t, lat), lon, np.full_like(t, 10e3)]))
        tables.append(make_detections(
            t=t, t_report=t, sensor_id=f"MQ9-{node}", node=node, meas_type="xyz", z=r,
            R=np.eye(3) * 30.0**2, sensor_r_ecef_m=sensor_r, sensor_v_ecef_m_s=np.zeros(3),
            snr=np.nan, truth_id=np.full(t.size, k), false_alarm=False, marking=marking))
    return concat_detections(tables)


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def klv_file(tmp_path):
    from hyperdef.io.klv import write_klv

    table = detections("USA", "REL TO USA, JPN")
    data, _ = write_klv(table, EPOCH)
    path = tmp_path / "flight.klv"
    path.write_bytes(data)
    return path, table


def invoke(runner, *args):
    return runner.invoke(app, [str(a) for a in args])


def add_user(runner, db, name, nation, role):
    r = invoke(runner, "users", "add", name, "--nation", nation, "--role", role, "--db", db)
    assert r.exit_code == 0, r.output
    return r.stdout.strip().splitlines()[-1]


def test_users_add_prints_the_key_once(runner, db):
    r = invoke(runner, "users", "add", "root", "--nation", "USA", "--role", "admin", "--db", db)
    assert r.exit_code == 0, r.output
    key = r.stdout.strip()
    assert len(key) >= 20 and "\n" not in key
    assert r.output.count(key) == 1
    r = invoke(runner, "users", "add", "kenji", "--nation", "XXX", "--db", db)
    assert r.exit_code == 2 and r.stderr.startswith("error:")


def test_ingest_twice_counts_duplicates(runner, db, klv_file):
    path, table = klv_file
    add_user(runner, db, "root", "USA", "admin")
    r = invoke(runner, "ingest", path, "--db", db, "--dataset", "flight", "--json")
    assert r.exit_code == 0, r.output
    first = json.loads(r.stdout)
    assert first["added_detections"] == table.num_rows and first["duplicates"] == 0
    assert first["user"] == "root"
    r = invoke(runner, "ingest", path, "--db", db, "--dataset", "flight")
    assert r.exit_code == 0, r.output
    assert f"{table.num_rows} duplicates" in r.stdout and "skipped packets: none" in r.stdout


def test_ingest_bad_input_writes_nothing(runner, db, klv_file, tmp_path):
    path, _ = klv_file
    add_user(runner, db, "root", "USA", "admin")
    r = invoke(runner, "ingest", path, tmp_path / "missing.klv", "--db", db)
    assert r.exit_code == 2 and r.stderr.startswith("error:") and "missing.klv" in r.stderr
    r = invoke(runner, "ingest", path, "--db", db, "--marking", "REL TO NOBODY")
    assert r.exit_code == 2 and r.stderr.startswith("error:")
    r = invoke(runner, "ingest", path, "--db", db, "--user", "ghost")
    assert r.exit_code == 2 and "ghost" in r.stderr
    from hyperdef.io.klv import write_klv

    japan_only = tmp_path / "jp.klv"
    japan_only.write_bytes(write_klv(detections("JPN", "REL TO JPN"), EPOCH)[0])
    r = invoke(runner, "ingest", path, japan_only, "--db", db)  # root is USA
    assert r.exit_code == 2 and "jp.klv" in r.stderr and "nothing stored" in r.stderr
    con = sqlite3.connect(tmp_path / "store.db")
    counts = [con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
              for t in ("datasets", "detections", "tracks")]
    con.close()
    assert counts == [0, 0, 0]


def test_export_dataset_round_trip_klv(runner, db, klv_file, tmp_path):
    from hyperdef.io.klv import read_klv

    path, table = klv_file
    add_user(runner, db, "root", "USA", "admin")
    assert invoke(runner, "ingest", path, "--db", db, "--dataset", "flight").exit_code == 0
    out = tmp_path / "out.klv"
    r = invoke(runner, "export", "--db", db, "--dataset", "flight", "--format", "klv",
               "--out", out, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["rows"] == table.num_rows
    back = read_klv(out.read_bytes())
    original = read_klv(path.read_bytes())
    assert back.detections.num_rows == table.num_rows and not back.skipped
    z0 = np.array(original.detections.column("z").to_pylist())
    z1 = np.array(back.detections.column("z").to_pylist())
    t0 = original.detections.column("t").to_numpy() + original.epoch.timestamp()
    t1 = back.detections.column("t").to_numpy() + back.epoch.timestamp()
    order0, order1 = np.lexsort((z0[:, 0], t0)), np.lexsort((z1[:, 0], t1))
    np.testing.assert_allclose(t1[order1], t0[order0], atol=1e-5)
    np.testing.assert_allclose(z1[order1], z0[order0], atol=1.0)
    assert set(back.detections.column("marking").to_pylist()) == {"REL TO USA, JPN"}


def test_export_stored_run_to_cot(runner, db, klv_file, tmp_path):
    from hyperdef.io.cot import read_cot
    from hyperdef.service.ops import run_on_dataset, tracker_config
    from hyperdef.store import Store

    path, _ = klv_file
    add_user(runner, db, "root", "USA", "admin")
    r = invoke(runner, "ingest", path, "--db", db, "--dataset", "flight", "--json")
    dataset_id = json.loads(r.stdout)["dataset_id"]
    with Store.open(db) as store:
        from hyperdef.service.cli import acting_user

        run = run_on_dataset(store, acting_user(store, None), dataset_id, tracker_config())
    out = tmp_path / "run.xml"
    r = invoke(runner, "export", "--db", db, "--dataset", "flight", "--run", run["run_id"],
               "--format", "cot", "--out", out, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["table"] == "tracks"
    back = read_cot(out.read_bytes())
    assert back.tracks.num_rows > 0
    assert back.epoch.date() == EPOCH.date()


def test_export_run_dir_to_cot(runner, tmp_path):
    from hyperdef.io.cot import read_cot
    from hyperdef.sensors.detections import write_detections
    from hyperdef.tracking.tracker import run_tracker, write_tracks

    table = detections("USA", "REL TO USA, JPN")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    write_detections(table, run_dir / "detections.parquet")
    tracks = run_tracker(table).table
    write_tracks(tracks, run_dir / "tracks.parquet")
    out = tmp_path / "tracks.xml"
    r = invoke(runner, "export", run_dir, "--format", "cot", "--out", out,
               "--epoch", "2026-06-01T00:00:00Z", "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["table"] == "tracks"
    back = read_cot(out.read_bytes())
    live = sum(s != "deleted" for s in tracks.column("status").to_pylist())
    assert back.tracks.num_rows == live
    r = invoke(runner, "export", run_dir, "--format", "cot", "--out", tmp_path / "x.txt")
    assert r.exit_code == 2 and r.stderr.startswith("error:")
    assert not (tmp_path / "x.txt").exists()


def test_audit_verify_detects_tampering(runner, db, klv_file, tmp_path):
    path, _ = klv_file
    add_user(runner, db, "root", "USA", "admin")
    assert invoke(runner, "ingest", path, "--db", db).exit_code == 0
    r = invoke(runner, "audit", "verify", "--db", db)
    assert r.exit_code == 0, r.output
    assert "intact" in r.stdout
    con = sqlite3.connect(tmp_path / "store.db")
    with con:
        con.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        con.execute("UPDATE audit_log SET detail = '{}' WHERE seq = "
                    "(SELECT MIN(seq) FROM audit_log)")
    con.close()
    r = invoke(runner, "audit", "verify", "--db", db, "--json")
    assert r.exit_code == 1
    check = json.loads(r.stdout)
    assert check["ok"] is False and check["first_bad"] is not None


def test_serve_help_defaults_to_loopback(runner):
    r = invoke(runner, "serve", "--help")
    assert r.exit_code == 0
    assert "127.0.0.1" in r.stdout and "--port" in r.stdout


def test_serve_answers_on_loopback(db, tmp_path):
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "hyperdef.cli", "serve", "--db", db,
                             "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30.0
        while True:
            try:
                spec = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2.0)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None, "serve did not start"
                time.sleep(0.2)
        assert spec.status_code == 200 and "/detections" in spec.json()["paths"]
        assert httpx.get(f"http://127.0.0.1:{port}/datasets").status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_ingest_without_an_admin_asks_for_user(runner, db, klv_file):
    path, _ = klv_file
    r = invoke(runner, "ingest", path, "--db", db)
    assert r.exit_code == 2 and "admin" in r.stderr
