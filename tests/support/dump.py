"""Every row of every table as text, the way someone holding the database and the SECRET_KEY
could read it: for the tests that check what an anonymous answer or item left behind."""

import json

from sqlalchemy import select

from bot.app.services import Services
from storage.models import Base


async def every_value(services: Services) -> dict[str, list[str]]:
    """Every row of every table as text, per table; encrypted columns decrypted with the key
    (what someone with the database AND the SECRET_KEY could read)."""
    found: dict[str, list[str]] = {}
    async with services.sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).mappings().all():
                values = []
                for value in row.values():
                    if isinstance(value, bytes):
                        try:
                            value = services.box.decrypt(value)
                        except ValueError:
                            value = value.hex()
                    values.append(json.dumps(value, default=str, ensure_ascii=False))
                found.setdefault(table.name, []).append(" ".join(values))
    return found
