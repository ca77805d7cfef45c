"""Joining the bot: `/start CODE` binds a chat account; a secretary's `/invite NAME` makes codes,
and `/bind_code` one for a bound member's account on a further platform."""

import secrets
from typing import Any

from handlers.account.members import (
    NewMember,
    add_member,
    bind_account,
    issue_bind_code,
    issue_invite,
)
from handlers.account.settings import AccountSettings
from handlers.common.lookup import find_member
from handlers.core.context import Context
from handlers.core.group_answers import FROM_GROUP
from handlers.core.messages import Denied, Msg, Reply, Secret, Series, UserError
from handlers.core.notify import queue_to_members
from handlers.core.parsing import (
    looks_like_date,
    looks_like_stage,
    parse_date,
    parse_stage,
    valid_name,
)
from handlers.core.registry import EVERYONE, SECRETARY_UP, Feature, Replies
from storage import people
from storage.enums import ROLE_RANK, Role
from storage.invites import ALPHABET, CODE_LENGTH, normalize
from storage.models import Member

feature = Feature("onboarding")


def looks_like_invite_code(text: str) -> bool:
    code = normalize(text)
    return len(code) == CODE_LENGTH and all(ch in ALPHABET for ch in code)


async def _bind(ctx: Context, code: str) -> Reply:
    inc = ctx.incoming
    if ctx.account is not None:  # bound to a member who has since left
        raise UserError("bind.already", name=ctx.account.member.name)
    member = await bind_account(
        ctx.session,
        ctx.box,
        code,
        platform=inc.platform,
        external_id=inc.account_id,
        chat_id=inc.chat_id,
        display_name=inc.display_name,
        now=ctx.now,
    )
    ctx.caller = member
    branch = member.branch.name if member.branch else "-"
    return Reply(
        Msg(
            "bind.ok",
            name=member.name,
            branch=branch,
            role=Msg(f"role.{member.role}"),
            stage=Msg(f"stage.{member.stage}"),
        ),
        menu_role=member.role,
    )


@feature.command("start", roles=None, aliases=("开始", "绑定"), private_only=True, secret_args=True)
async def start(ctx: Context, args: str) -> Replies:
    """Bind this chat account with an invite code, or greet a member who already has."""
    if ctx.caller is not None:
        return Reply(Msg("start.again", name=ctx.caller.name))
    if args.strip() == FROM_GROUP:  # opened from the branch group's button: no code in it
        await ctx.start_flow("bind", "code")
        return Reply(Msg("start.from_group"))
    if args:
        return await _bind(ctx, args)
    await ctx.start_flow("bind", "code")
    return Reply(Msg("start.ask_code"))


@feature.flow("bind", roles=None)
async def bind_flow(ctx: Context, step: str, data: dict[str, Any], text: str) -> Replies:
    """The message after a bare /start is the invite code."""
    if not looks_like_invite_code(text):
        return Reply(Msg("start.not_a_code"))
    reply = await _bind(ctx, text)
    await ctx.end_flow()
    return reply


def _parse_invite_args(args: str) -> NewMember:
    tokens = args.split()
    if not tokens or not valid_name(tokens[0]):
        raise UserError("usage", usage=Msg("cmd.invite.usage"))
    new = NewMember(name=tokens[0])
    for token in tokens[1:]:
        if looks_like_stage(token):
            new.stage = parse_stage(token)
        elif looks_like_date(token):
            new.remote_until = parse_date(token)
        else:
            raise UserError("invite.bad_token", token=token, usage=Msg("cmd.invite.usage"))
    return new


async def _existing(ctx: Context, name: str, branch_id: int) -> Member | None:
    found = await people.members_named(ctx.session, name, branch_id)
    if len(found) > 1:
        raise UserError("invite.ambiguous", name=name, count=len(found))
    return found[0] if found else None


async def _check_reissue(ctx: Context, member: Member) -> None:
    """A new code for someone already on the roster: only for an unbound person ranked below
    the caller, so a code can never take over an account or lift anyone's role."""
    caller = ctx.require_caller()
    if ROLE_RANK[Role(member.role)] >= ROLE_RANK[Role(caller.role)]:
        raise UserError("invite.outranks", name=member.name)
    if await member.awaitable_attrs.accounts:
        raise UserError("invite.already_bound", name=member.name)


@feature.command("invite", roles=SECRETARY_UP, aliases=("邀请",), private_only=True)
async def invite(ctx: Context, args: str) -> Replies:
    """Add a member to the caller's branch (or find them) and hand out a fresh invite code."""
    caller = ctx.require_caller()
    if caller.branch is None:
        raise UserError("error.no_branch")
    new = _parse_invite_args(args)
    member = await _existing(ctx, new.name, caller.branch.id)
    created = member is None
    if member is not None:
        await _check_reissue(ctx, member)
    if member is None:
        member = await add_member(
            ctx.session, ctx.box, caller.branch, new, ctx.now, actor_id=caller.id, via="invite"
        )
    code = await issue_invite(
        ctx.session,
        ctx.box,
        member,
        ctx.now,
        ctx.options.of(AccountSettings).invite_ttl,
        actor_id=caller.id,
    )
    link = ctx.deep_link(ctx.incoming.platform, code)
    expires = (
        (ctx.now + ctx.options.of(AccountSettings).invite_ttl)
        .astimezone(ctx.options.timezone)
        .date()
    )
    details = [Msg("invite.stage", stage=Msg(f"stage.{member.stage}"))]
    if member.remote_until:
        details.append(Msg("invite.remote", until=member.remote_until))
    return Reply(
        Msg(
            "invite.created" if created else "invite.renewed",
            id=member.id,
            name=member.name,
            code=Secret(code),  # sealed, not in clear, should this reply ever be queued
            expires=expires,
            details=details,
            link=Msg("invite.link", link=link) if link else "",
        )
    )


async def _bind_code_holder(ctx: Context, name: str) -> Member:
    """Whose code `/bind_code [NAME]` asks for: the caller's own; a secretary's or admin's
    may name someone in their scope. Naming anyone else is a refusal, traced."""
    caller = ctx.require_caller()
    if not name:
        return caller
    member = await find_member(ctx, name)  # out of scope: Denied (traced) by the lookup
    if member.id != caller.id and caller.role not in SECRETARY_UP:
        raise Denied("bind_code.not_yours", target=f"member:#{member.id}", exists=True)
    return member


@feature.command(
    "bind_code", roles=EVERYONE, aliases=("绑定码",), private_only=True, secret_args=True
)
async def bind_code(ctx: Context, args: str) -> Replies:
    """A code to bind a member's account on a further platform (e.g. WeCom after Telegram).
    One's own is shown here; one a secretary asks for goes to that member's own chat, so it
    never passes through anyone else's hands."""
    caller = ctx.require_caller()
    member = await _bind_code_holder(ctx, args.strip())
    ttl = ctx.options.of(AccountSettings).invite_ttl
    code, platforms = await issue_bind_code(
        ctx.session, ctx.box, member, ctx.now, ttl, actor_id=caller.id
    )
    expires = (ctx.now + ttl).astimezone(ctx.options.timezone).date()
    bound = Series(Msg(f"platform.{p}") for p in platforms)
    # Sealed, not in clear, in the queued message (and should the reply ever be queued).
    details = {"code": Secret(code), "expires": expires, "platforms": bound}
    if member.id == caller.id:
        return Reply(Msg("bind_code.yours", **details))
    message = Reply(Msg("bind_code.for_you", by=caller.name, **details))
    key = f"bind-code:{secrets.token_hex(8)}"
    reached = await queue_to_members(
        ctx.session, [member.id], message, key=key, kind="bind_code", now=ctx.now, box=ctx.box
    )
    if member.id not in reached:  # rolls the code back: nobody could receive it
        raise UserError("bind_code.unreachable", name=member.name)
    return Reply(Msg("bind_code.sent", name=member.name, id=member.id, expires=expires))
