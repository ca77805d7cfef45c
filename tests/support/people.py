"""Members made for a test: one found by name, a user's member id, a bound admin of no branch."""

from datetime import timedelta

from handlers.account.members import NewMember, add_member, issue_invite
from storage import people
from storage.enums import Role
from storage.models import Member
from tests.support.chat import Chat, User


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
