"""Alembic environment: runs on the connection `branchbot init` hands over, or on a URL."""

import os

from alembic import context
from sqlalchemy import create_engine, pool

from storage.db import ensure_sqlite_dir, sync_url
from storage.tables import METADATA

target_metadata = METADATA


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite can only ALTER via table copies
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = os.environ.get("BRANCHBOT_DATABASE_URL", "sqlite:///data/branchbot.sqlite3")
    ensure_sqlite_dir(url)  # owner-only files, as when the service creates them
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)
