"""Create or upgrade the schema with Alembic, on the application's own async engine."""

import os
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.crypto import SecretBox

HERE = Path(__file__).parent
# Where a migration that converts data finds the SecretBox (config.attributes).
BOX = "box"


class SecretKeyNeeded(Exception):
    """A migration has personal data to encrypt (or decrypt) and was given no SECRET_KEY."""

    def __init__(self, what: str) -> None:
        super().__init__(f"SECRET_KEY is needed to convert {what}")
        self.what = what


def migration_box(config: Config) -> SecretBox | None:
    """The SecretBox a migration may use: the one `upgrade` was given, or, when Alembic is
    run by hand (storage/alembic.ini), one from BRANCHBOT_SECRET_KEY in the environment."""
    box = config.attributes.get(BOX)
    if isinstance(box, SecretBox):
        return box
    key = os.environ.get("BRANCHBOT_SECRET_KEY", "").strip()
    return SecretBox(key) if key else None


def alembic_config() -> Config:
    config = Config(str(HERE / "alembic.ini"))
    config.set_main_option("script_location", str(HERE / "migrations"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade(
    engine: AsyncEngine, box: SecretBox | None = None, revision: str = "head"
) -> None:
    """Bring the database to the newest migration (creating it when empty), or to
    `revision`. `box` lets a migration encrypt existing personal data; without it such a
    migration raises SecretKeyNeeded when there is data to convert (none when empty)."""

    await _migrate(engine, box, lambda config: command.upgrade(config, revision))


async def downgrade(engine: AsyncEngine, revision: str, box: SecretBox | None = None) -> None:
    """Take the database back to `revision` (an operator's way out of a bad upgrade)."""
    await _migrate(engine, box, lambda config: command.downgrade(config, revision))


async def _migrate(
    engine: AsyncEngine, box: SecretBox | None, step: Callable[[Config], None]
) -> None:
    """Run an Alembic command on one connection, in one transaction, with the box at hand."""

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        config.attributes[BOX] = box
        step(config)

    async with engine.begin() as conn:
        await conn.run_sync(run)


def revision_on(connection: Connection) -> str | None:
    """The revision of the database on this connection (None: no schema yet)."""
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(revision_on)
