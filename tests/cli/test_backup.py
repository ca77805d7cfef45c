"""`branchbot backup` and `restore`: a consistent snapshot on SQLite and PostgreSQL, loaded
into an empty database of either kind with the chain verified; a database that is not empty,
a damaged or cut-off file and the wrong key are refused, changing nothing."""

import gzip
import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app.services import build_services
from bot.app.settings import load_settings
from storage.models import Member, Trace
from tests.conftest import SECRET, Chat, Cli, empty_database
from tests.support.sealed_data import filled_columns, populate, read_back, unopened


async def test_populate(chat: Chat, tmp_path: Path) -> None:
    filled = await populate(chat, tmp_path)
    async with chat.services.engine.connect() as conn:
        print(sorted(await filled_columns(conn)))
        assert await unopened(conn, chat.services.box) == {}
    await read_back(chat.services, filled, chat)
