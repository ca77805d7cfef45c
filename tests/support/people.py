"""Members made for a test: one found by name, a user's member id, a bound admin of no branch,
thousands bound at once (for benchmarks and tests of many processes)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app.services import build_services
from bot.app.settings import load_settings
from handlers.account.members import NewMember, add_member, issue_invite
from storage import people
from storage.enums import Role
from storage.models import Member, PlatformAccount
from storage.roster_models import Membership
from tests.support.chat import Chat, Clock, User


async def member_named(chat: Chat, name: str) -> Member:
    async with chat.services.sessions() as session:
        found = await people.members_named(session, name, None)
    assert len(found) == 1, found
    return found[0]


async def member_id(user: User) -> int:
    async with user.chat.services.sessions() as session:
        account = await people.account(session, user.platform, user.account_id)
    assert account is not None and account.member_id is not None
    return account.member_id


async def admin_user(chat: Chat) -> User:
    async with chat.services.sessions.begin() as session:
        new = NewMember(name="组织员", role=Role.ADMIN)
        admin = await add_member(session, chat.services.box, None, new, chat.clock())
        code = await issue_invite(session, chat.services.box, admin, chat.clock(), timedelta(1))
    return await chat.bind(code)


async def bind_members(
    session: AsyncSession, branch_ids: list[int], count: int, first_chat: int
) -> list[int]:
    """`count` members spread over the branches, each bound to a Telegram chat numbered from
    `first_chat`, in bulk (not through the router: setting up is never timed)."""
    now = datetime.now(UTC)
    members = [
        Member(branch_id=branch_ids[i % len(branch_ids)], name=f"党员{i:05d}", created_at=now)
        for i in range(count)
    ]
    session.add_all(members)
    await session.flush()
    accounts = [
        {
            "platform": "telegram",
            "external_id": str(first_chat + i),
            "chat_id": str(first_chat + i),
            "member_id": m.id,
            "bound_at": now,
        }
        for i, m in enumerate(members)
    ]
    await session.execute(insert(PlatformAccount), accounts)
    # Their memberships, as add_member opens them: meetings expect members by these.
    stretches = [
        {"member_id": m.id, "branch_id": m.branch_id, "since": now, "reason": "joined"}
        for m in members
    ]
    await session.execute(insert(Membership), stretches)
    return [first_chat + i for i in range(count)]


async def secretary_and_members(url: str, secret: str, count: int, first_chat: int) -> str:
    """On a migrated database: one branch with a bound secretary (their chat id is returned)
    and `count` members bound to the chats numbered from `first_chat`."""
    services = build_services(load_settings(database_url=url, secret_key=secret))
    try:
        chat = Chat(services, Clock(datetime.now(UTC)))
        secretary = await chat.bound("书记", role=Role.SECRETARY)
        branch = await chat.branch()
        async with services.sessions.begin() as session:
            await bind_members(session, [branch.id], count, first_chat)
        return secretary.account_id
    finally:
        await services.close()
