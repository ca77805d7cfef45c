"""WeCom application group chats (应用群聊): `/group_create` (创建支部群) makes one for the
branch's members bound on WeCom, the secretary as its owner. WeCom never tells an application
what is said in such a chat, so the bot only posts there (notices, reminders), and
the WeCom adapter keeps its members in step with the roster (bot/channels/wecom/appchats.py,
from `rosters` here); `created` and `not_created` are what people are told of its making."""

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Context
from handlers.core.messages import Msg, Reply, UserError
from handlers.core.notify import queue_to_chat, queue_to_members
from handlers.core.registry import SECRETARY_UP, Replies
from handlers.groups.feature import feature
from storage import groups
from storage.enums import Role
from storage.group_models import BranchGroup
from storage.models import Branch
from storage.signals import AfterCommit

WECOM = "wecom"
APPCHAT = "appchat"
NAME_LIMIT = 50  # WeCom cuts a chat's name there
MIN_MEMBERS = 2  # WeCom makes no chat of fewer
# Who owns the chat: its maker while they are branch staff still, then a secretary (an admin,
# a committee member), before anyone else.
OWNER_ROLES = (Role.SECRETARY, Role.ADMIN, Role.COMMITTEE)
# WeCom's reasons a chat could not be made that the secretary can do something about.
SCOPE_ERRORS = frozenset({60011, 48002})  # the application's range is not the whole company


@dataclass(frozen=True)
class AppChatRoster:
    """Who should be in a bound application chat: WeCom userids, and who should own it, in
    order of preference (its maker first)."""

    group_id: int
    chat_id: str
    name: str
    userids: frozenset[str]
    owners: tuple[str, ...]


async def rosters(session: AsyncSession) -> list[AppChatRoster]:
    """Every bound application chat with the branch's current members on WeCom."""
    chats = [g for g in await groups.bound_of_kind(session, APPCHAT) if g.branch_id is not None]
    if not chats:
        return []
    seats = await groups.seats(session, WECOM, [g.branch_id for g in chats if g.branch_id])
    found = []
    for chat in chats:
        mine = [s for s in seats if s.branch_id == chat.branch_id]
        makers = [
            s.external_id for s in mine if s.member_id == chat.bound_by and s.role in OWNER_ROLES
        ]
        staff = [s.external_id for role in OWNER_ROLES for s in mine if s.role == role]
        userids = frozenset(s.external_id for s in mine)
        owners = tuple(dict.fromkeys([*makers, *staff]))
        found.append(AppChatRoster(chat.id, chat.chat_id, chat.title, userids, owners))
    return found


async def _existing(ctx: Context, branch_id: int) -> BranchGroup | None:
    chats = await groups.bound_of_kind(ctx.session, APPCHAT)
    return next((g for g in chats if g.branch_id == branch_id), None)


@feature.command("group_create", roles=SECRETARY_UP, aliases=("创建支部群",))
async def group_create(ctx: Context, args: str) -> Replies:
    """Make the branch's WeCom group chat: its members bound on WeCom, the sender as owner."""
    caller = ctx.require_caller()
    if caller.branch_id is None:
        raise UserError("error.no_branch")
    branch = await ctx.session.get(Branch, caller.branch_id)
    assert branch is not None
    name = ctx.typed(args).strip() or branch.name
    if len(name) > NAME_LIMIT:
        raise UserError("group.appchat_name_too_long", limit=NAME_LIMIT)
    existing = await _existing(ctx, branch.id)
    if existing is not None:
        raise UserError("group.appchat_exists", id=existing.id, title=existing.title)
    seats = await groups.seats(ctx.session, WECOM, [branch.id])
    if not any(s.member_id == caller.id for s in seats):
        raise UserError("group.appchat_need_wecom")
    if len(seats) < MIN_MEMBERS:
        raise UserError("group.appchat_too_few", count=len(seats), least=MIN_MEMBERS)
    # Our own chat id (WeCom takes up to 32 letters and digits), so a creation retried after
    # a lost answer finds the chat it made instead of making a second.
    group = BranchGroup(
        platform=WECOM,
        chat_id=f"bb{secrets.token_hex(12)}",
        kind=APPCHAT,
        branch_id=branch.id,
        title=name,
        bound_by=caller.id,
        bound_at=ctx.now,
    )
    ctx.session.add(group)
    await ctx.session.flush()
    await ctx.trace(
        "group.bound",
        branch_id=branch.id,
        ref=f"group:{group.id}",
        data={"platform": WECOM, "title": name, "kind": APPCHAT},
    )
    AfterCommit.ROSTER_CHANGED.raise_on(ctx.session)  # the adapter makes it now
    return Reply(Msg("group.appchat_creating", id=group.id, title=name, count=len(seats)))


async def created(session: AsyncSession, group_id: int, members: int, now: datetime) -> None:
    """The chat exists on WeCom: say hello in it (WeCom shows a new chat only once something
    is posted there)."""
    group = await session.get(BranchGroup, group_id)
    if group is None:
        return
    branch = await session.get(Branch, group.branch_id) if group.branch_id else None
    hello = Msg("group.appchat_hello", where=branch.name if branch else "", count=members)
    await queue_to_chat(
        session,
        group.platform,
        group.chat_id,
        Reply(hello),
        key=f"appchat-hello:{group.id}",
        kind="group_note",
        now=now,
        branch_id=group.branch_id,
        priority=1,
    )


async def not_created(session: AsyncSession, group_id: int, errcode: int, now: datetime) -> None:
    """WeCom refused to make the chat: its maker is told why, once for each reason (it is
    tried again later, and made once the reason is gone)."""
    group = await session.get(BranchGroup, group_id)
    if group is None or group.bound_by is None:
        return
    hint = "group.appchat_hint_scope" if errcode in SCOPE_ERRORS else "group.appchat_hint_other"
    note = Msg("group.appchat_failed", title=group.title, code=errcode, hint=Msg(hint))
    await queue_to_members(
        session,
        [group.bound_by],
        Reply(note),
        key=f"appchat-failed:{group.id}:{errcode}",
        kind="group_note",
        now=now,
    )
