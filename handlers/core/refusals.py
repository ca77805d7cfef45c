"""Refusals: who may run a command here, and how a refused attempt is traced
(access.refused) even when the handler's own work rolls back."""

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Context, Options
from handlers.core.messages import Denied, Msg, RecordedRefusal, Refused, Reply, UserError
from handlers.core.registry import Command, Replies, as_list
from storage import traces
from storage.crypto import SecretBox
from storage.enums import ROLE_RANK, Role
from storage.models import Member


class Failed(Exception):
    """Carries the reply out of the transaction, which then rolls back; a refusal for lack of
    a branch is traced after the rollback, with the update's record."""

    def __init__(
        self, reply: Reply, refused: "Refusal | None" = None, outcome: str = "refused"
    ) -> None:
        super().__init__("handler failed")
        self.reply = reply
        self.refused = refused
        self.outcome = outcome


@dataclass(frozen=True)
class Refusal:
    """A bound account's command refused (access.refused): the access rules count these.
    Plain values, as it outlives the rolled-back session its caller was loaded in."""

    actor_id: int
    branch_id: int | None
    command: str
    reason: str  # role | private | branch | scope | missing
    # What was asked for, when a record was refused ("thought:12"); also the trace's ref.
    target: str | None = None

    @classmethod
    def of(cls, caller: Member, command: str, reason: str, target: str | None = None) -> "Refusal":
        return cls(caller.id, caller.branch_id, command, reason, target)

    async def trace(self, session: AsyncSession, box: SecretBox, now: datetime) -> None:
        data = {"command": self.command, "reason": self.reason}
        if self.target is not None:
            data["target"] = self.target
        await traces.append(
            session,
            box,
            kind="access.refused",
            at=now,
            branch_id=self.branch_id,
            actor_id=self.actor_id,
            ref=self.target,
            data=data,
        )


async def refusals_traced(ctx: Context, name: str, call: Awaitable[Replies]) -> list[Reply]:
    """Run a handler; a refusal of a bound caller that must be traced (a protected record
    denied, a staff member without a branch) leaves as Failed carrying the refusal, which
    is traced after the rollback of the handler's work, with the update's record."""
    try:
        return as_list(await call)
    except Denied as err:
        if ctx.caller is None:
            raise
        refused = Refusal.of(ctx.caller, name, err.reason, err.target)
        raise Failed(Reply(err.msg), refused) from err
    except UserError as err:
        if err.msg.key != "error.no_branch" or ctx.caller is None:
            raise
        raise Failed(Reply(err.msg), Refusal.of(ctx.caller, name, "branch")) from err


async def traced_refusal(ctx: Context, command: Command, reason: str) -> bool:
    """Trace a refusal of a bound caller's command; False (nothing traced) for a stranger."""
    if ctx.caller is None:
        return False
    await Refusal.of(ctx.caller, command.name, reason).trace(ctx.session, ctx.box, ctx.now)
    return True


def readable_by_former(member: Member, now: datetime, options: Options) -> bool:
    """A member who left may still read their own data until their access period ends."""
    if member.active or member.left_on is None or member.access_until is None:
        return False
    return now.astimezone(options.timezone).date() <= member.access_until


def why_no_caller(ctx: Context) -> str:
    """Not bound, or bound to a member who left and whose access period is over."""
    account = ctx.account
    if account is not None and account.member.left_on is not None:
        return "error.former_expired"
    return "error.not_bound"


def former_answer(ctx: Context) -> tuple[str, dict[str, Any]]:
    """What a member who left is told when they try anything but their own data."""
    member = ctx.require_caller()
    return "error.former", {"left_on": member.left_on, "until": member.access_until}


async def check_access(ctx: Context, command: Command) -> None:
    """Refuse a command the caller may not use here. A bound account's refusal is traced
    (access.refused, committed with the answer); a stranger's is not, so typing
    commands without an account cannot flood the traces."""
    if command.roles is not None and ctx.caller is None:
        raise Refused(why_no_caller(ctx))
    if ctx.former and not command.allows(ctx.role):
        await traced_refusal(ctx, command, "former")
        key, params = former_answer(ctx)
        raise RecordedRefusal(key, **params)
    if not command.allows(ctx.role):
        lowest = min(command.roles or {Role.MEMBER}, key=lambda r: ROLE_RANK[Role(r)])
        roles = Msg(f"roles.{lowest}")
        if await traced_refusal(ctx, command, "role"):
            raise RecordedRefusal("error.forbidden", command=command.name, roles=roles)
        raise Refused("error.forbidden", command=command.name, roles=roles)
    if command.secret_args and not ctx.incoming.is_private:
        if await traced_refusal(ctx, command, "private"):
            raise RecordedRefusal("error.private_only", command=command.name)
        raise Refused("error.private_only", command=command.name)
