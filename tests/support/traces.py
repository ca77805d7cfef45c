"""The trace rows of one kind, oldest first, as a test checks what an action left."""

from sqlalchemy import select

from bot.app.services import Services
from storage.models import Trace


async def traces_of(services: Services, kind: str) -> list[Trace]:
    async with services.sessions() as session:
        query = select(Trace).where(Trace.kind == kind).order_by(Trace.id)
        return list((await session.scalars(query)).all())
