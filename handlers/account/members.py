"""Domain functions for people: add a member, issue an invite or bind code, bind an account.

Plain async functions over a session and values, shared by chat commands, the CLI and imports.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.account.personal import set_personal
from handlers.core.messages import Msg, RecordedRefusal, Reply, UserError
from handlers.core.notify import queue_elsewhere
from handlers.core.tracer import SessionTracer
from storage import invites, people, roster, traces
from storage.crypto import SecretBox
from storage.enums import Role, Stage
from storage.models import Branch, InviteCode, Member

# Wrong invite codes an account may try per hour before it is told to wait.
MAX_BIND_FAILURES_PER_HOUR = 5


@dataclass
class NewMember:
    name: str
    role: Role = Role.MEMBER
    stage: Stage = Stage.FULL
    staff_no: str | None = None
    remote_until: date | None = None
    phone: str | None = None
    id_number: str | None = None
    interests: list[str] = field(default_factory=list)
    grade: str | None = None
    class_name: str | None = None
    # 性别, 民族, 出生日期, 学历, 籍贯 (handlers/account/personal.py), kept encrypted.
    personal: dict[str, Any] = field(default_factory=dict)


async def add_branch(
    session: AsyncSession, box: SecretBox, name: str, now: datetime, college: str | None = None
) -> Branch:
    if not 0 < len(name) <= 100 or "\n" in name:
        raise UserError("branch.bad_name")
    if await people.branch_by_name(session, name) is not None:
        raise UserError("branch.exists", name=name)
    branch = Branch(name=name, college=college, created_at=now)
    session.add(branch)
    await session.flush()
    await SessionTracer(session, box, now).trace(
        "branch.created", branch_id=branch.id, ref=f"branch:{branch.id}"
    )
    return branch


async def add_member(
    session: AsyncSession,
    box: SecretBox,
    branch: Branch | None,
    new: NewMember,
    now: datetime,
    actor_id: int | None = None,
    via: str = "cli",
) -> Member:
    member = Member(
        branch=branch,
        accounts=[],
        name=new.name,
        staff_no=new.staff_no,
        role=new.role,
        stage=new.stage,
        remote_until=new.remote_until,
        interests=list(new.interests),
        phone_enc=box.encrypt(new.phone),
        id_number_enc=box.encrypt(new.id_number),
        active=True,
        created_at=now,
        grade=new.grade,
        class_name=new.class_name,
    )
    set_personal(box, member, new.personal)
    session.add(member)
    await session.flush()
    if branch is not None:
        await roster.open_membership(session, member.id, branch.id, now, "joined")
    await SessionTracer(session, box, now, actor_id).trace(
        "member.created",
        branch_id=member.branch_id,
        member_id=member.id,
        ref=f"member:{member.id}",
        # Sensitive fields are never copied into traces: only whether they were given.
        data={
            "name": member.name,
            "role": str(member.role),
            "stage": str(member.stage),
            "remote_until": new.remote_until.isoformat() if new.remote_until else None,
            "via": via,
        },
    )
    return member


async def issue_invite(
    session: AsyncSession,
    box: SecretBox,
    member: Member,
    now: datetime,
    ttl: timedelta,
    actor_id: int | None = None,
) -> str:
    """A new single-use code for the member (older unused ones stop working)."""
    return await _issue_code(session, box, member, now, ttl, actor_id, "invite.issued", {})


async def issue_bind_code(
    session: AsyncSession,
    box: SecretBox,
    member: Member,
    now: datetime,
    ttl: timedelta,
    actor_id: int | None = None,
) -> tuple[str, list[str]]:
    """A code that binds a chat account on a further platform to a member who has one
    already, and the platforms they have; redeemed with /start like an invite code (and it
    replaces any open one)."""
    platforms = await people.platforms_of(session, member.id)
    if not platforms:
        raise UserError("bind_code.not_bound", name=member.name)
    data = {"platforms": platforms}
    kind = "bind_code.issued"
    return await _issue_code(session, box, member, now, ttl, actor_id, kind, data), platforms


async def _issue_code(
    session: AsyncSession,
    box: SecretBox,
    member: Member,
    now: datetime,
    ttl: timedelta,
    actor_id: int | None,
    kind: str,
    data: Mapping[str, object],
) -> str:
    code = await invites.issue(session, box, member.id, actor_id, now, now + ttl)
    await SessionTracer(session, box, now, actor_id).trace(
        kind,
        branch_id=member.branch_id,
        member_id=member.id,
        ref=f"member:{member.id}",
        data={"expires": (now + ttl).date().isoformat(), **data},
    )
    return code


async def _reject(
    session: AsyncSession,
    box: SecretBox,
    now: datetime,
    account_ref: str,
    reason: str,
    member: Member | None = None,
) -> None:
    """Trace a refused code (against the member it was for, when it was a good one)."""
    await SessionTracer(session, box, now).trace(
        "invite.rejected",
        branch_id=member.branch_id if member else None,
        member_id=member.id if member else None,
        ref=account_ref,
        data={"reason": reason},
    )


def _refusal(found: tuple[InviteCode, Member] | None, now: datetime) -> str | None:
    """Why this invite cannot bind an account (a catalog suffix), or None if it can."""
    if found is None or not found[1].active:
        return "unknown"
    invite = found[0]
    if invite.used_at is not None or invite.revoked:
        return "used"
    if invite.expires_at <= now:
        return "expired"
    return None


async def bind_account(
    session: AsyncSession,
    box: SecretBox,
    code: str,
    *,
    platform: str,
    external_id: str,
    chat_id: str | None,
    display_name: str | None,
    now: datetime,
) -> Member:
    """Bind a chat account to the member an invite code was issued for.

    Wrong codes are traced (and still committed) so repeated guessing is slowed down.
    The caller checks first that this chat account is not bound already.
    """
    account_ref = f"{platform}:{external_id}"
    failures = await traces.count(
        session, kind="invite.rejected", ref=account_ref, since=now - timedelta(hours=1)
    )
    if failures >= MAX_BIND_FAILURES_PER_HOUR:
        raise UserError("bind.too_many")
    found = await invites.find(session, box, code)
    reason = _refusal(found, now)
    if reason is not None or found is None:
        await _reject(session, box, now, account_ref, reason or "unknown")
        raise RecordedRefusal(f"bind.{reason or 'unknown'}")
    invite, member = found
    earlier = await people.platforms_of(session, member.id)
    if platform in earlier:
        # One account per platform: a code never replaces the account a member has, so
        # whoever holds it cannot push the member's own account out. The code stays open.
        await _reject(session, box, now, account_ref, "platform_taken", member)
        raise RecordedRefusal(
            "bind.platform_taken", name=member.name, platform=Msg(f"platform.{platform}")
        )
    if not await invites.consume(session, invite.id, now):
        await _reject(session, box, now, account_ref, "used")
        raise RecordedRefusal("bind.used")
    await link_account(
        session, box, member, platform, external_id, now, chat_id=chat_id, display_name=display_name
    )
    if earlier:  # a further platform: the member hears of it where they already were
        await _tell_other_accounts(session, member, platform, external_id, now)
    return member


async def _tell_other_accounts(
    session: AsyncSession, member: Member, platform: str, external_id: str, now: datetime
) -> None:
    """Whoever redeemed a binding code now speaks for the member on `platform`: tell the member
    on their other accounts, so a code that reached the wrong hands does not go unnoticed."""
    text = Msg("bind.new_platform", platform=Msg(f"platform.{platform}"), at=now)
    await queue_elsewhere(
        session,
        member.id,
        Reply(text),
        besides=platform,
        key=f"bound:{platform}:{external_id}",
        kind="member.bound",
        now=now,
        ref=f"member:{member.id}",
    )


async def link_account(
    session: AsyncSession,
    box: SecretBox,
    member: Member,
    platform: str,
    external_id: str,
    now: datetime,
    *,
    chat_id: str | None = None,
    display_name: str | None = None,
    actor_id: int | None = None,
) -> None:
    """Record that this chat account speaks for the member (traced as member.bound)."""
    await people.add_account(
        session,
        platform=platform,
        external_id=external_id,
        member_id=member.id,
        chat_id=chat_id,
        display_name=display_name[:100] if display_name else None,
        bound_at=now,
        last_seen_at=now,
    )
    await people.note_platform(session, member, platform, now)  # binding is using it
    await SessionTracer(session, box, now, actor_id if actor_id is not None else member.id).trace(
        "member.bound",
        branch_id=member.branch_id,
        member_id=member.id,
        ref=f"{platform}:{external_id}",
        data={"platform": platform},
    )
