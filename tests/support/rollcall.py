"""Roll-call set-up: a secretary with a bound group, the roll-call's post as the group reads
it, and that post marked sent (so members can reply to it)."""

from sqlalchemy import select

from storage import groups, outbox, traces
from storage.enums import Role
from storage.group_models import RollCallEntry
from tests.support.chat import Chat, User
from tests.support.notices import Queued, queued

GROUP = "-100600"


async def bound_group(chat: Chat, group: str = GROUP) -> User:
    """The branch secretary, who has bound `group` to the branch."""
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await secretary.in_group(group).send("/group_bind")
    return secretary


async def post_of(chat: Chat, rollcall_id: int = 1) -> Queued:
    """The roll-call's post as the group would see it drawn now."""
    [first, *_] = await queued(chat.services, f"rollcall:{rollcall_id}")
    return first


async def sent(chat: Chat, rollcall_id: int = 1) -> str:
    """Mark the roll-call's post sent, as the sender would; its platform message id."""
    async with chat.services.sessions.begin() as session:
        [post] = await groups.posts_of(session, f"rollcall:{rollcall_id}")
        row = await groups.first_message(session, post)
        assert row is not None
        message_id = f"70{post.id}"
        await outbox.mark_sent(session, chat.services.box, row, chat.clock(), message_id)
    return message_id


async def entries(chat: Chat, rollcall_id: int = 1) -> list[RollCallEntry]:
    async with chat.services.sessions() as session:
        query = select(RollCallEntry).where(RollCallEntry.roll_call_id == rollcall_id)
        return list((await session.scalars(query.order_by(RollCallEntry.position))).all())


async def traced(chat: Chat, prefix: str) -> list[tuple[str, int | None, dict[str, object]]]:
    """(kind, actor, data) of the traces whose kind starts with `prefix`, in order."""
    async with chat.services.sessions() as session:
        return [
            (t.kind, t.actor_id, t.data or {})
            async for t in traces.iter_traces(session)
            if t.kind.startswith(prefix)
        ]
