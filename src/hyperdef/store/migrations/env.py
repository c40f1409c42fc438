"""Alembic environment of the analysis store.

:meth:`hyperdef.store.Store.open` runs the migrations itself, passing its open connection
in ``config.attributes["connection"]``; the ``alembic`` command line works too when
``sqlalchemy.url`` is set in an ``alembic.ini`` that points ``script_location`` here.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from hyperdef.store.schema import metadata

config = context.config


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as conn:
        _run(conn)
