"""Queries over the branch's group chats, the bot's live posts there and roll-calls."""

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import present
from storage.group_models import BranchGroup, GroupPost
from storage.models import Member, OutboxMessage, PlatformAccount


async def group_of_chat(session: AsyncSession, platform: str, chat_id: str) -> BranchGroup | None:
    """The group row of a chat, bound or not (None: never bound)."""
    return await session.scalar(
        select(BranchGroup).where(BranchGroup.platform == platform, BranchGroup.chat_id == chat_id)
    )


async def bound_group(session: AsyncSession, platform: str, chat_id: str) -> BranchGroup | None:
    found = await group_of_chat(session, platform, chat_id)
    return found if found is not None and found.bound else None


async def bound_groups(
    session: AsyncSession, branch_ids: Sequence[int | None] | None = None
) -> list[BranchGroup]:
    """Groups bound now, of these branches (None in the list: school-wide groups; no list:
    every bound group)."""
    query = select(BranchGroup).where(BranchGroup.unbound_at.is_(None))
    if branch_ids is not None:
        ids = [b for b in branch_ids if b is not None]
        school = None in branch_ids
        cond = BranchGroup.branch_id.in_(ids)
        query = query.where(cond | BranchGroup.branch_id.is_(None) if school else cond)
    return list((await session.scalars(query.order_by(BranchGroup.id))).all())


async def bound_of_kind(session: AsyncSession, kind: str) -> list[BranchGroup]:
    """Groups of one kind (WeCom app chats, group robots) bound now."""
    query = select(BranchGroup).where(BranchGroup.kind == kind, BranchGroup.unbound_at.is_(None))
    return list((await session.scalars(query.order_by(BranchGroup.id))).all())


class Seat(NamedTuple):
    """A current member of a branch and their account on one chat app."""

    branch_id: int
    member_id: int
    role: str
    external_id: str


async def seats(session: AsyncSession, platform: str, branch_ids: Sequence[int]) -> list[Seat]:
    """The current members of these branches with an account on `platform` that has not
    refused the bot (a WeCom account outside the application's range), by member id."""
    query = (
        select(Member.branch_id, Member.id, Member.role, PlatformAccount.external_id)
        .join(PlatformAccount, PlatformAccount.member_id == Member.id)
        .where(
            Member.active.is_(True),
            Member.branch_id.in_(list(branch_ids)),
            PlatformAccount.platform == platform,
            PlatformAccount.blocked_at.is_(None),
        )
        .order_by(Member.id)
    )
    return [Seat(*row) for row in (await session.execute(query)).all()]


async def known_accounts(
    session: AsyncSession, platform: str, external_ids: Sequence[str]
) -> set[str]:
    """Which of these accounts on `platform` are bound to someone the bot knows."""
    return await present(
        session, PlatformAccount.external_id, external_ids, PlatformAccount.platform == platform
    )


async def posts_of(session: AsyncSession, ref: str) -> list[GroupPost]:
    return list((await session.scalars(select(GroupPost).where(GroupPost.ref == ref))).all())


async def post_by_key(session: AsyncSession, key: str) -> GroupPost | None:
    return await session.scalar(select(GroupPost).where(GroupPost.outbox_key == key))


async def groups_by_id(session: AsyncSession, ids: set[int]) -> list[BranchGroup]:
    return list((await session.scalars(select(BranchGroup).where(BranchGroup.id.in_(ids)))).all())


async def post_by_message(
    session: AsyncSession, group: BranchGroup, message_id: str
) -> GroupPost | None:
    """The live post a message of the bot's in this group is (a reply names the message)."""
    return await session.scalar(
        select(GroupPost)
        .join(OutboxMessage, OutboxMessage.key == GroupPost.outbox_key)
        .where(GroupPost.group_id == group.id, OutboxMessage.message_id == message_id)
    )


async def take_edit(session: AsyncSession, post_id: int) -> None:
    """The sender takes up the post's waiting edit: changes from now on need a new one."""
    await session.execute(
        update(GroupPost).where(GroupPost.id == post_id).values(edits=GroupPost.edits + 1)
    )


async def first_message(session: AsyncSession, post: GroupPost) -> OutboxMessage | None:
    return await session.scalar(select(OutboxMessage).where(OutboxMessage.key == post.outbox_key))


async def last_queued(session: AsyncSession, post: GroupPost) -> datetime | None:
    """When the post's latest message (its first or an edit) was queued: the moment the
    state it shows last changed (a check-in code drawn as it was then)."""
    return await session.scalar(
        select(func.max(OutboxMessage.created_at)).where(
            OutboxMessage.ref == post.ref, OutboxMessage.key.startswith(post.outbox_key)
        )
    )


def unbind(group: BranchGroup, now: datetime, reason: str) -> None:
    group.unbound_at = now
    group.unbound_reason = reason
