"""Finding a person and loading their development file (steps, events, contacts) at once."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.lookup import find_member
from handlers.core.context import Context
from handlers.core.messages import Msg, UserError
from handlers.core.parsing import valid_name
from handlers.pipeline.rules import Check, PersonFile, checklist
from storage import pipeline, votes
from storage.enums import Stage
from storage.models import Member


async def person_named(ctx: Context, name: str, usage: str) -> Member:
    """The one active person the caller may act on (their branch; admins: all) named by
    `name`: a name, a staff number or #id (a staff number is all digits, which is never a
    name)."""
    if not (valid_name(name) or name.isdigit()):
        raise UserError("usage", usage=Msg(usage))
    return await find_member(ctx, name)


async def load_files(session: AsyncSession, members: Sequence[Member]) -> dict[int, PersonFile]:
    """Each person's file as the checks read it, in a fixed number of queries."""
    ids = [m.id for m in members]
    steps = await pipeline.steps(session, ids)
    events = await pipeline.events(session, ids)
    contacts = await pipeline.contacts(session, ids, ended=True)
    meeting_ids = sorted({s.meeting_id for found in steps.values() for s in found if s.meeting_id})
    contact_ids = sorted({c.contact_id for found in contacts.values() for c in found})
    kinds = await pipeline.meeting_kinds(session, meeting_ids)
    stages = await pipeline.stages_of(session, contact_ids)
    voted: dict[int, dict[int, tuple[str, dict[str, Any]]]] = {m.id: {} for m in members}
    for vote in await votes.of_subjects(session, ids):
        if vote.result is not None:
            stage = Stage.PROBATIONARY if vote.kind == "admission" else Stage.FULL
            voted[vote.subject_id][vote.meeting_id] = (stage, vote.result)
    return {
        m.id: PersonFile(
            m.stage, steps[m.id], events[m.id], contacts[m.id], kinds, stages, voted[m.id]
        )
        for m in members
    }


async def checks_for(session: AsyncSession, member: Member, today: date) -> list[Check]:
    files = await load_files(session, [member])
    return checklist(files[member.id], today)
