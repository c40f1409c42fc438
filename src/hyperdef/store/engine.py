"""Database URLs, engines and migrations of the analysis store."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import platformdirs
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from hyperdef.errors import InputError

__all__ = ["alembic_config", "default_url", "make_engine", "normalise_url", "upgrade"]

MIGRATIONS = Path(__file__).with_name("migrations")


def default_url() -> str:
    """``$HYPERDEF_DB`` if set, else a SQLite file under the user's data directory."""
    env = os.environ.get("HYPERDEF_DB")
    if env:
        return env
    return f"sqlite:///{Path(platformdirs.user_data_dir('hyperdef')) / 'hyperdef.db'}"


def normalise_url(url: str) -> URL:
    """Parse a store URL; PostgreSQL URLs get the psycopg (3) driver.

    Raises
    ------
    InputError
        If the URL does not parse or names another database.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as error:
        raise InputError(
            f"url: {url!r} is not a database URL like sqlite:///path or postgresql://host/db"
        ) from error
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and parsed.get_driver_name() in ("pysqlite", ""):
        return parsed.set(drivername="sqlite")
    raise InputError(
        f"url: {parsed.drivername!r} not supported; use sqlite:///path or postgresql://..."
    )


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:")


def make_engine(url: URL) -> Engine:
    """Engine for a normalised URL.

    SQLite: WAL journal, foreign keys on, a 30 s busy timeout, and every transaction begun
    with ``BEGIN IMMEDIATE`` (writers queue up instead of failing, audit appends are
    serialised). An in-memory database is one connection shared by all threads.
    """
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if _is_memory(url):
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # the store issues BEGIN itself
        cursor = dbapi_connection.cursor()
        if not _is_memory(url):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA mmap_size=268435456")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def alembic_config(connection=None) -> Config:
    """Alembic configuration of the store's migrations (optionally bound to a connection)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


#: Alembic's command API keeps module-level state: one migration at a time per process
_MIGRATING = threading.Lock()
#: advisory-lock key serialising migrations between processes on PostgreSQL
_PG_MIGRATION_LOCK = 0x6864_6D69_6772_6174


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the migrations up to ``revision`` (default: the newest), one process at a time."""
    with _MIGRATING, engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
            )
        command.upgrade(alembic_config(connection), revision)
