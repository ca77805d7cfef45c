"""The bot's posts in group chats as the tests see them: what a group was sent, and a live
post's first message marked sent (with the platform's message id a reply names)."""

from sqlalchemy import select

from bot.app.services import Services
from storage import outbox
from storage.group_models import BranchGroup, GroupPost
from storage.models import OutboxMessage
from tests.support.chat import Clock
from tests.support.notices import queued


async def group_texts(services: Services, chat_id: str) -> list[str]:
    """Everything queued to a group chat, as the group reads it (live posts as drawn now)."""
    return [row.text for row in await queued(services, chat_id=chat_id)]


async def mark_posted(
    services: Services, clock: Clock, ref: str, chat_id: str, message_id: str
) -> None:
    """The live post of `ref` in the group went out as platform message `message_id`."""
    async with services.sessions.begin() as session:
        row = await session.scalar(
            select(OutboxMessage)
            .join(GroupPost, GroupPost.outbox_key == OutboxMessage.key)
            .join(BranchGroup, BranchGroup.id == GroupPost.group_id)
            .where(GroupPost.ref == ref, BranchGroup.chat_id == chat_id)
        )
        assert row is not None, f"no post of {ref} in {chat_id}"
        await outbox.mark_sent(session, services.box, row, clock(), message_id)


async def edits_queued(services: Services, ref: str) -> int:
    """How many edits of the live posts of `ref` were queued."""
    async with services.sessions() as session:
        query = select(OutboxMessage.key).where(OutboxMessage.ref == ref)
        keys = (await session.scalars(query)).all()
    return sum(1 for key in keys if ":edit" in key)
