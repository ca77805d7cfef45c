"""Queries over branches, members and their chat accounts."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Table, and_, bindparam, func, insert, literal_column, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from storage.db import chunks
from storage.enums import Role
from storage.models import Branch, Conversation, Member, PlatformAccount
from storage.signals import AfterCommit


async def branch_by_name(session: AsyncSession, name: str) -> Branch | None:
    return await session.scalar(select(Branch).where(Branch.name == name))


async def all_branches(session: AsyncSession) -> Sequence[Branch]:
    return (await session.scalars(select(Branch).order_by(Branch.id))).all()


async def branch_names(session: AsyncSession, ids: Sequence[int]) -> list[str]:
    query = select(Branch.name).where(Branch.id.in_(ids)).order_by(Branch.id)
    return list((await session.scalars(query)).all())


async def members_named(
    session: AsyncSession, name: str, branch_id: int | None
) -> Sequence[Member]:
    """Active members with this exact name, in one branch or (branch_id None) in all."""
    query = select(Member).where(Member.name == name, Member.active.is_(True))
    if branch_id is not None:
        query = query.where(Member.branch_id == branch_id)
    return (await session.scalars(query.order_by(Member.id))).unique().all()


async def members_matching(
    session: AsyncSession, text: str, branch_id: int | None, *, left_too: bool = False
) -> Sequence[Member]:
    """Active members (`left_too`: and those who left) whose name or staff number is `text`,
    in a branch (their last one, for those who left) or (None) in all."""
    query = select(Member).where(or_(Member.name == text, Member.staff_no == text))
    if not left_too:
        query = query.where(Member.active.is_(True))
    if branch_id is not None:
        query = query.where(Member.branch_id == branch_id)
    return (await session.scalars(query.order_by(Member.id))).unique().all()


async def branch_members(session: AsyncSession, branch_id: int) -> Sequence[Member]:
    query = select(Member).where(Member.branch_id == branch_id, Member.active.is_(True))
    return (await session.scalars(query.order_by(Member.id))).unique().all()


async def count_members(session: AsyncSession, branch_id: int) -> int:
    query = select(func.count(Member.id)).where(
        Member.branch_id == branch_id, Member.active.is_(True)
    )
    return int(await session.scalar(query) or 0)


async def staff_numbers_taken(session: AsyncSession, numbers: Sequence[str]) -> set[str]:
    if not numbers:
        return set()
    query = select(Member.staff_no).where(Member.staff_no.in_(numbers))
    return {n for n in (await session.scalars(query)).all() if n}


# Built once with bound parameters: it runs for every update. One row always comes back: both
# sides are outer-joined to a one-row anchor, so a stranger's unfinished /start flow is found
# by the same query as a member's account (a second query cost as much as the first).
_ANCHOR = select(literal_column("1").label("anchor")).subquery("anchor")
_ACCOUNT_AND_CONVERSATION = (
    select(PlatformAccount, Conversation)
    .select_from(_ANCHOR)
    .outerjoin(
        PlatformAccount,
        and_(
            PlatformAccount.platform == bindparam("platform"),
            PlatformAccount.external_id == bindparam("external_id"),
        ),
    )
    .outerjoin(
        Conversation,
        and_(
            Conversation.platform == bindparam("platform"),
            Conversation.external_id == bindparam("external_id"),
        ),
    )
)


async def account_and_conversation(
    session: AsyncSession, platform: str, external_id: str
) -> tuple[PlatformAccount | None, Conversation | None]:
    """The chat account (with member and branch) and any unfinished conversation, at once."""
    params = {"platform": platform, "external_id": external_id}
    account, conversation = (await session.execute(_ACCOUNT_AND_CONVERSATION, params)).one()
    return account, conversation


async def account(session: AsyncSession, platform: str, external_id: str) -> PlatformAccount | None:
    query = select(PlatformAccount).where(
        PlatformAccount.platform == platform, PlatformAccount.external_id == external_id
    )
    return await session.scalar(query)


# last_seen_at is for "who is active", so minute precision is plenty; skipping the write
# on every message keeps the hot path to reads. Which app a member used last, which must be
# exact, is Member.last_platform (note_platform).
SEEN_RESOLUTION = timedelta(minutes=10)


def touch_account(acct: PlatformAccount, chat_id: str | None, seen_at: datetime) -> None:
    """Remember the latest chat and (roughly) when the account was last seen."""
    if acct.last_seen_at is None or seen_at - acct.last_seen_at >= SEEN_RESOLUTION:
        acct.last_seen_at = seen_at
    if chat_id is not None and acct.chat_id != chat_id:
        acct.chat_id = chat_id
    if chat_id is not None and acct.blocked_at is not None:
        acct.blocked_at = None  # writing to the bot privately again means they unblocked it


async def platforms_of(session: AsyncSession, member_id: int) -> list[str]:
    """The platforms the member has a chat account on, in name order."""
    query = select(PlatformAccount.platform).where(PlatformAccount.member_id == member_id)
    return sorted(set((await session.scalars(query)).all()))


_MEMBERS: Table = Member.__table__  # type: ignore[assignment]


async def note_platform(session: AsyncSession, member: Member, platform: str, at: datetime) -> None:
    """Make `platform` the member's last-used chat app, if it is not already (only a switch
    costs a write, so a member on one app pays none per message).

    The write is one guarded statement: of two switches racing from two processes, the later
    in time wins whichever commits last (PostgreSQL re-checks the guard on the locked row)."""
    if platform in FALLBACK_PLATFORMS or member.last_platform == platform:
        return
    earlier = or_(_MEMBERS.c.last_platform_at.is_(None), _MEMBERS.c.last_platform_at <= at)
    result = await session.execute(
        update(_MEMBERS)
        .where(_MEMBERS.c.id == member.id, earlier)
        .values(last_platform=platform, last_platform_at=at)
    )
    if getattr(result, "rowcount", 0) == 1:  # the loaded member says so too, unflushed
        set_committed_value(member, "last_platform", platform)
        set_committed_value(member, "last_platform_at", at)


async def staff_chats(session: AsyncSession, platform: str) -> list[tuple[str, str]]:
    """(chat id, role) of every bound account whose member has more than member rights."""
    query = (
        select(PlatformAccount.chat_id, Member.role)
        .join(Member, Member.id == PlatformAccount.member_id)
        .where(
            PlatformAccount.platform == platform,
            PlatformAccount.chat_id.is_not(None),
            Member.active.is_(True),
            Member.role != Role.MEMBER,
        )
    )
    return [(str(chat), str(role)) for chat, role in (await session.execute(query)).all()]


_ACCOUNTS: Table = PlatformAccount.__table__  # type: ignore[assignment]
_ADD_ACCOUNT = insert(_ACCOUNTS)


async def add_account(session: AsyncSession, **values: object) -> None:
    """Insert a platform account row (Core: no ORM unit of work for a one-row insert)."""
    await session.execute(_ADD_ACCOUNT, values)
    AfterCommit.ROSTER_CHANGED.raise_on(session)  # a member bound on WeCom joins its app chat


@dataclass(frozen=True)
class Reach:
    """Where personal messages to a member go: their most recently used private chat."""

    platform: str
    chat_id: str
    blocked: bool
    branch_id: int | None


# The terminal console is where operators try things out (`branchbot console --as`); a
# member's messages go there only when they have no chat-app account.
FALLBACK_PLATFORMS = frozenset({"console"})


async def reach(session: AsyncSession, member_ids: Sequence[int]) -> dict[int, Reach]:
    """Each member's account on the chat app they used last, with a private chat (a console
    account only if there is none); members with no account at all are missing from the
    result (they have not bound one, or never wrote privately)."""
    everywhere = await reach_everywhere(session, member_ids)
    return {member_id: places[0] for member_id, places in everywhere.items()}


async def reach_everywhere(
    session: AsyncSession, member_ids: Sequence[int]
) -> dict[int, list[Reach]]:
    """Every chat-app account of each member with a private chat, the one on the app they
    used last first (console accounts only for members with no chat-app account)."""
    found: dict[int, list[tuple[_Rank, Reach]]] = {}
    for chunk in chunks(member_ids):
        query = (
            select(
                PlatformAccount.member_id,
                PlatformAccount.platform,
                PlatformAccount.chat_id,
                PlatformAccount.blocked_at,
                PlatformAccount.last_seen_at,
                Member.branch_id,
                Member.last_platform,
            )
            .join(Member, Member.id == PlatformAccount.member_id)
            .where(PlatformAccount.member_id.in_(chunk), PlatformAccount.chat_id.is_not(None))
        )
        for member_id, platform, chat_id, blocked_at, seen, branch, last in (
            await session.execute(query)
        ).all():
            rank = (platform not in FALLBACK_PLATFORMS, platform == last, seen)
            where = Reach(platform, chat_id, blocked_at is not None, branch)
            found.setdefault(member_id, []).append((rank, where))
    return {member_id: _ordered(places) for member_id, places in found.items()}


# (a chat app, not the console; on the member's last-used app; last seen)
_Rank = tuple[bool, bool, datetime | None]


def _ordered(places: list[tuple[_Rank, Reach]]) -> list[Reach]:
    """Chat apps before the console (which only counts when there is no chat app), then
    the app the member used last (last_seen_at is too coarse to tell a recent switch),
    then the account seen last first."""
    oldest = datetime.min.replace(tzinfo=UTC)
    ranked = sorted(places, key=lambda p: (p[0][0], p[0][1], p[0][2] or oldest), reverse=True)
    apps = [where for rank, where in ranked if rank[0]]
    return apps or [ranked[0][1]]


async def lock_member(session: AsyncSession, member_id: int) -> None:
    """Hold the member's row until commit (PostgreSQL; SQLite's writers are serial already),
    so two changes to one person line up: two /quiz taps, two secretaries recording the same
    month's dues or the same stage move; the second then sees the first's result."""
    await session.execute(select(Member.id).where(Member.id == member_id).with_for_update())


async def secretaries(
    session: AsyncSession, branch_ids: Sequence[int]
) -> dict[int, list[tuple[int, str]]]:
    """Each branch's secretaries, as (member id, name) (one query for any number of branches)."""
    query = (
        select(Member.branch_id, Member.id, Member.name)
        .where(
            Member.active.is_(True),
            Member.role == Role.SECRETARY,
            Member.branch_id.in_(list(branch_ids)),
        )
        .order_by(Member.id)
    )
    found: dict[int, list[tuple[int, str]]] = {}
    for branch_id, member_id, name in (await session.execute(query)).all():
        found.setdefault(branch_id, []).append((member_id, name))
    return found
