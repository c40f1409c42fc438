"""Analysis-store throughput: detections ingested per second (SQLite, PostgreSQL) and the
latency of one-minute time-window queries over a million stored detections.

Data (seeded ``numpy.random.Generator``): ``--rows`` ``xyz`` detections from four sensors
of four nations, positions within 500 km of 35N 139E, times uniform over one day, three
markings (``REL TO USA, JPN``, ``REL TO USA, AUS, GBR, JPN``, ``REL TO JPN``) in turn.
They are ingested in batches of ``--batch`` rows, each an
:class:`hyperdef.io.IngestResult` as a reader would return it, through
:meth:`hyperdef.store.Store.ingest` into one dataset (content hashing, duplicate check,
lat/lon, markings, audit record: the whole path a file takes).

Then ``--queries`` one-minute windows at seeded random times are read with
:meth:`~hyperdef.store.Store.query_detections` (``limit`` 1,000, the API's default page)
as an analyst of JPN, who sees every marking but must have them checked; p50 and p99 of
the wall time per query (the returned pyarrow table included).

Peers, in the same run (the floor under each figure):

* SQLite: the standard library's ``sqlite3`` ``executemany`` of the same rows, already
  built as tuples (with a random-looking SHA-256 ``content_hash``, as the store's, so the
  unique index costs the same), into a table with the store's columns and indexes, one
  transaction; and the same one-minute windows read with a plain ``SELECT ... WHERE
  t_utc >= ? AND t_utc < ?``.
* PostgreSQL: psycopg ``COPY`` of the same rows into a table with the store's columns and
  indexes (the fastest way into PostgreSQL), and the same plain ``SELECT``.

PostgreSQL is measured when ``--pg-url`` or ``HYPERDEF_TEST_PG_URL`` gives a database
(SQLAlchemy URL, ``postgresql+psycopg://user@host:port/db``) that may be emptied: the
script drops and recreates the store's tables there. A local server for a measurement::

    su postgres -c "/usr/lib/postgresql/15/bin/initdb -D /tmp/pgbench_data"
    su postgres -c "/usr/lib/postgresql/15/bin/pg_ctl -D /tmp/pgbench_data \\
                    -o '-k /tmp -p 5433' -l /tmp/pgbench.log start"
    su postgres -c "createdb -h /tmp -p 5433 bench"
    HYPERDEF_TEST_PG_URL='postgresql+psycopg://postgres@/bench?host=/tmp&port=5433' \\
        .venv/bin/python benchmarks/bench_ingest.py

Usage::

    python benchmarks/bench_ingest.py [--rows 1000000] [--batch 100000] [--queries 300]
                                      [--pg-url URL] [--no-sqlite] [--json OUT]

Targets: 50,000 detections/s into SQLite; query p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from hyperdef.core.frames import ecef_to_lla, lla_to_ecef
from hyperdef.io import IngestResult
from hyperdef.sensors.detections import make_detections

EPOCH = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
DAY_S = 86_400.0
WINDOW_S = 60.0
PAGE = 1_000
MARKINGS = ("REL TO USA, JPN", "REL TO USA, AUS, GBR, JPN", "REL TO JPN")
SENSORS = (("JPN-R1", "JPN"), ("USA-R1", "USA"), ("AUS-R1", "AUS"), ("GBR-R1", "GBR"))


def make_batches(rows: int, batch: int, seed: int = 11) -> list[pa.Table]:
    """Detections tables of ``batch`` rows (the last may be shorter), times sorted."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0.0, DAY_S, rows))
    lat = np.radians(35.0 + rng.uniform(-4.5, 4.5, rows))
    lon = np.radians(139.0 + rng.uniform(-5.5, 5.5, rows))
    alt = rng.uniform(1e3, 60e3, rows)
    r = lla_to_ecef(np.column_stack([lat, lon, alt]))
    sensor_r = lla_to_ecef(np.radians([35.6, 139.7, 0.0]) * np.array([1.0, 1.0, 0.0]))
    sensor = np.arange(rows) % len(SENSORS)
    sensor_ids = np.array([s for s, _ in SENSORS], dtype=object)[sensor]
    nodes = np.array([n for _, n in SENSORS], dtype=object)[sensor]
    markings = np.array(MARKINGS, dtype=object)[np.arange(rows) % len(MARKINGS)]
    tables = []
    for start in range(0, rows, batch):
        s = slice(start, min(start + batch, rows))
        n = s.stop - s.start
        tables.append(make_detections(
            t=t[s], t_report=t[s] + 0.5, sensor_id=sensor_ids[s], node=nodes[s],
            meas_type="xyz", z=r[s], R=np.diag([50.0**2] * 3), sensor_r_ecef_m=sensor_r,
            sensor_v_ecef_m_s=np.zeros(3), snr=rng.uniform(10, 100, n),
            truth_id=np.full(n, -1), false_alarm=np.zeros(n, bool), marking=markings[s]))
    return tables


def windows(queries: int, seed: int = 5) -> np.ndarray:
    """Start times (UTC Unix s) of one-minute windows inside the day of data."""
    rng = np.random.default_rng(seed)
    return EPOCH.timestamp() + rng.uniform(0.0, DAY_S - WINDOW_S, queries)


def percentiles(seconds: list[float]) -> tuple[float, float]:
    ms = 1e3 * np.asarray(seconds)
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


# ----------------------------------------------------------------------------- the store


def bench_store(url: str, batches: list[pa.Table], starts: np.ndarray) -> dict:
    """Ingest rate and query latency through :class:`hyperdef.store.Store`."""
    from hyperdef.store import Store

    store = Store.open(url)
    try:
        admin, _ = store.add_user("bench-admin", "JPN", "admin")
        analyst, _ = store.add_user("bench-analyst", "JPN", "analyst", by=admin)
        rows = sum(b.num_rows for b in batches)
        t_start = time.perf_counter()
        added = 0
        for i, table in enumerate(batches):
            result = IngestResult(format="cot", epoch=EPOCH, detections=table,
                                  packets=table.num_rows)
            summary = store.ingest(result, user=admin, dataset="bench",
                                   source=f"batch-{i:03d}", client="bench")
            added += summary.added_detections
        ingest_s = time.perf_counter() - t_start
        if added != rows:
            print(f"warning: {rows} rows offered, {added} added", file=sys.stderr)
        latencies = []
        returned = 0
        for t0 in starts:
            q = time.perf_counter()
            table = store.query_detections(analyst, t0=float(t0), t1=float(t0) + WINDOW_S,
                                           limit=PAGE)
            latencies.append(time.perf_counter() - q)
            returned += table.num_rows
        p50, p99 = percentiles(latencies)
        return {"rows": rows, "ingest_s": ingest_s, "rows_per_s": rows / ingest_s,
                "query_p50_ms": p50, "query_p99_ms": p99,
                "rows_per_query": returned / len(starts)}
    finally:
        store.close()


# ----------------------------------------------------------------------------- the floors


def _tuples(batches: list[pa.Table]) -> list[tuple]:
    """The rows as the store's detections table would hold them (z, R as float64 bytes,
    lat/lon/alt of the position, a SHA-256 content hash)."""
    out = []
    epoch_s = EPOCH.timestamp()
    serial = 0
    for table in batches:
        d = table.to_pydict()
        z = table.column("z").combine_chunks().flatten().to_numpy().reshape(-1, 3)
        r = table.column("R").combine_chunks().flatten().to_numpy().reshape(-1, 9)
        lla = ecef_to_lla(z)
        lat, lon, alt = np.degrees(lla[:, 0]), np.degrees(lla[:, 1]), lla[:, 2]
        for i in range(table.num_rows):
            serial += 1
            out.append((
                1, hashlib.sha256(serial.to_bytes(8, "little")).hexdigest(), "floor",
                epoch_s + d["t"][i], d["t"][i], d["t_report"][i],
                d["sensor_id"][i], d["node"][i], d["meas_type"][i],
                z[i].astype("<f8").tobytes(), r[i].astype("<f8").tobytes(),
                d["sensor_x"][i], d["sensor_y"][i], d["sensor_z"][i], d["sensor_vx"][i],
                d["sensor_vy"][i], d["sensor_vz"][i], d["snr"][i], d["truth_id"][i],
                d["false_alarm"][i], d["marking"][i], float(lat[i]), float(lon[i]),
                float(alt[i])))
    return out


_COLUMNS = ("dataset_id, content_hash, source, t_utc, t, t_report, sensor_id, node, meas_type, "
            "z, R, sensor_x, sensor_y, sensor_z, sensor_vx, sensor_vy, sensor_vz, snr, "
            "truth_id, false_alarm, marking, lat, lon, alt")
_INDEXES = (
    "CREATE INDEX ix_f_t ON floor_detections (t_utc)",
    "CREATE INDEX ix_f_ll ON floor_detections (lat, lon)",
    "CREATE INDEX ix_f_src ON floor_detections (source)",
    "CREATE INDEX ix_f_dm ON floor_detections (dataset_id, marking)",
)


def bench_sqlite_floor(path: Path, rows: list[tuple], starts: np.ndarray) -> dict:
    """Plain sqlite3 executemany of pre-built tuples, and plain window SELECTs."""
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE floor_detections (id INTEGER PRIMARY KEY, dataset_id INTEGER NOT NULL, "
        "content_hash VARCHAR(64) NOT NULL UNIQUE, source TEXT, t_utc FLOAT, t FLOAT, "
        "t_report FLOAT, sensor_id TEXT, node VARCHAR(3), meas_type VARCHAR(8), z BLOB, R BLOB, "
        "sensor_x FLOAT, sensor_y FLOAT, sensor_z FLOAT, sensor_vx FLOAT, sensor_vy FLOAT, "
        "sensor_vz FLOAT, snr FLOAT, truth_id BIGINT, false_alarm BOOLEAN, "
        "marking VARCHAR(400), lat FLOAT, lon FLOAT, alt FLOAT)")
    for sql in _INDEXES:
        con.execute(sql)
    con.commit()
    marks = ", ".join("?" * 24)
    t_start = time.perf_counter()
    with con:
        con.executemany(f"INSERT INTO floor_detections ({_COLUMNS}) VALUES ({marks})", rows)
    ingest_s = time.perf_counter() - t_start
    latencies = []
    for t0 in starts:
        q = time.perf_counter()
        con.execute("SELECT * FROM floor_detections WHERE t_utc >= ? AND t_utc < ? "
                    "ORDER BY t_utc LIMIT ?", (float(t0), float(t0) + WINDOW_S, PAGE)
                    ).fetchall()
        latencies.append(time.perf_counter() - q)
    con.close()
    p50, p99 = percentiles(latencies)
    return {"rows": len(rows), "ingest_s": ingest_s, "rows_per_s": len(rows) / ingest_s,
            "query_p50_ms": p50, "query_p99_ms": p99}


def bench_pg_floor(url: str, rows: list[tuple], starts: np.ndarray) -> dict:
    """psycopg COPY of the same rows, and plain window SELECTs."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    raw = engine.raw_connection()
    try:
        con = raw.driver_connection  # the psycopg connection itself
        con.execute("DROP TABLE IF EXISTS floor_detections")
        con.execute(
            "CREATE TABLE floor_detections (id BIGSERIAL PRIMARY KEY, dataset_id BIGINT NOT "
            "NULL, content_hash VARCHAR(64) NOT NULL UNIQUE, source TEXT, t_utc FLOAT, "
            "t FLOAT, t_report FLOAT, sensor_id TEXT, node VARCHAR(3), meas_type VARCHAR(8), "
            "z BYTEA, \"R\" BYTEA, sensor_x FLOAT, sensor_y FLOAT, sensor_z FLOAT, "
            "sensor_vx FLOAT, sensor_vy FLOAT, sensor_vz FLOAT, snr FLOAT, truth_id BIGINT, "
            "false_alarm BOOLEAN, marking VARCHAR(400), lat FLOAT, lon FLOAT, alt FLOAT)")
        for sql in _INDEXES:
            con.execute(sql)
        con.commit()
        columns = _COLUMNS.replace(" R,", ' "R",')
        t_start = time.perf_counter()
        with con.cursor() as cur, cur.copy(f"COPY floor_detections ({columns}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)
        con.commit()
        ingest_s = time.perf_counter() - t_start
        con.execute("ANALYZE floor_detections")
        latencies = []
        for t0 in starts:
            q = time.perf_counter()
            con.execute("SELECT * FROM floor_detections WHERE t_utc >= %s AND t_utc < %s "
                        "ORDER BY t_utc LIMIT %s", (float(t0), float(t0) + WINDOW_S, PAGE)
                        ).fetchall()
            latencies.append(time.perf_counter() - q)
        con.execute("DROP TABLE floor_detections")
        con.commit()
    finally:
        raw.close()
        engine.dispose()
    p50, p99 = percentiles(latencies)
    return {"rows": len(rows), "ingest_s": ingest_s, "rows_per_s": len(rows) / ingest_s,
            "query_p50_ms": p50, "query_p99_ms": p99}


def reset_pg(url: str) -> None:
    """Drop every table of the database at ``url`` (the benchmark needs an empty store)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as con:
        con.execute(sa.text("DROP SCHEMA public CASCADE"))
        con.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=100_000,
                        help="rows per ingest call (one file's worth)")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--pg-url", default=os.environ.get("HYPERDEF_TEST_PG_URL"),
                        help="PostgreSQL SQLAlchemy URL (default $HYPERDEF_TEST_PG_URL); "
                             "its tables are dropped")
    parser.add_argument("--no-sqlite", action="store_true", help="skip SQLite")
    parser.add_argument("--no-floor", action="store_true", help="skip the plain-driver floors")
    parser.add_argument("--json", metavar="OUT", help="also write the figures as JSON")
    args = parser.parse_args()

    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"date: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}")
    batches = make_batches(args.rows, args.batch)
    starts = windows(args.queries)
    rows = _tuples(batches) if not args.no_floor else []
    results: list[tuple[str, str, dict]] = []
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            results.append(("SQLite", "hyperdef Store.ingest / query_detections",
                            bench_store(f"sqlite:///{tmp}/store.db", batches, starts)))
            if rows:
                results.append(("SQLite", "floor: sqlite3 executemany / SELECT",
                                bench_sqlite_floor(Path(tmp) / "floor.db", rows, starts)))
    if args.pg_url:
        reset_pg(args.pg_url)
        results.append(("PostgreSQL", "hyperdef Store.ingest / query_detections",
                        bench_store(args.pg_url, batches, starts)))
        if rows:
            results.append(("PostgreSQL", "floor: psycopg COPY / SELECT",
                            bench_pg_floor(args.pg_url, rows, starts)))
        reset_pg(args.pg_url)
    else:
        print("PostgreSQL: skipped (no --pg-url or HYPERDEF_TEST_PG_URL)")

    print(f"\n{args.rows:,} detections in batches of {args.batch:,}; {args.queries} one-minute "
          f"windows, page {PAGE}")
    print("| database | path | detections/s | ingest s | query p50 ms | query p99 ms |")
    print("|---|---|---:|---:|---:|---:|")
    for db, path, r in results:
        print(f"| {db} | {path} | {r['rows_per_s']:,.0f} | {r['ingest_s']:.1f} | "
              f"{r['query_p50_ms']:.2f} | {r['query_p99_ms']:.2f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(
            [{"database": db, "path": path, **r} for db, path, r in results], indent=2))


if __name__ == "__main__":
    main()
