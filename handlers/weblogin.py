"""Signing in to the web page with a one-time code the bot sends to the person's chat.

A secretary or an admin types their name (or staff number) on the page; the bot queues a
6-digit code to their bound chat account through the outbox; typing it back signs them in.
Codes live only as keyed hashes, for ten minutes, once; five wrong codes in an hour lock the
person out of the page for the rest of that hour. Refusals are traced as access.refused
(ref "web.login"), so the access rules see someone guessing codes.

Codes are kept in the database (web_login_codes), so any service process can check them and
a restart loses none; wrong tries are counted from their refusal traces.
"""

import secrets
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.lookup import ambiguous
from handlers.messages import Msg, RecordedRefusal, Reply, UserError
from handlers.notify import queue_to_members
from handlers.parsing import parse_id
from storage import people, traces, web_logins
from storage.crypto import SecretBox
from storage.enums import Role
from storage.models import Member
from storage.trace_kinds import is_known

CODE_TTL = timedelta(minutes=10)
FAILURE_WINDOW = timedelta(hours=1)
MAX_FAILURES = 5
CODE_DIGITS = 6
STAFF_ROLES = frozenset({Role.SECRETARY, Role.ADMIN})
# The refusals' ref and command, which the access log and rules show and count.
LOGIN_REF = "web.login"
# The kind a sign-in is traced as once storage/trace_kinds.py declares it.
LOGIN_KIND = "web.login"


async def recent_failures(session: AsyncSession, member_id: int, now: datetime) -> int:
    """Wrong codes in the last hour, from their refusal traces."""
    since = now - FAILURE_WINDOW
    return await traces.count(
        session, kind="access.refused", ref=LOGIN_REF, member_id=member_id, since=since
    )


def _code_payload(member_id: int, code: str) -> bytes:
    """What a code's hash covers: keyed with SECRET_KEY, bound to the member."""
    return f"web-login:{member_id}:{code.strip()}".encode()


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


async def find_staff(session: AsyncSession, text: str) -> Member:
    """The one active member `text` names (a name, a staff number or #id) in any branch."""
    text = text.strip()
    if not text:
        raise UserError("web.login.empty")
    member_id = parse_id(text) if text.startswith("#") else None
    if member_id is not None:
        member = await session.get(Member, member_id)
        if member is None or not member.active:
            raise UserError("web.login.unknown", name=text)
        return member
    found = await people.members_matching(session, text, None)
    by_number = [m for m in found if m.staff_no == text]
    if len(by_number) == 1:
        return by_number[0]
    if not found:
        raise UserError("web.login.unknown", name=text)
    if len(found) > 1:
        raise ambiguous(text, found)
    return found[0]


async def _refuse(
    session: AsyncSession, box: SecretBox, member: Member, reason: str, now: datetime
) -> None:
    await traces.append(
        session,
        box,
        kind="access.refused",
        at=now,
        branch_id=member.branch_id,
        member_id=member.id,  # the person signing in: their wrong tries are counted by it
        actor_id=member.id,
        ref=LOGIN_REF,
        data={"command": LOGIN_REF, "reason": reason},
    )


async def _trace_login(
    session: AsyncSession, box: SecretBox, member: Member, step: str, now: datetime
) -> None:
    if is_known(LOGIN_KIND):
        await traces.append(
            session,
            box,
            kind=LOGIN_KIND,
            at=now,
            branch_id=member.branch_id,
            member_id=member.id,
            actor_id=member.id,
            data={"step": step},
        )


async def request_code(session: AsyncSession, box: SecretBox, text: str, now: datetime) -> Member:
    """Queue a fresh code to the staff member `text` names; returns them. A person who is
    not a secretary or an admin, has no chat to send to, or is locked out is refused (a
    refusal of a known person is traced; the caller commits it)."""
    member = await find_staff(session, text)
    if member.role not in STAFF_ROLES:
        await _refuse(session, box, member, "role", now)
        raise RecordedRefusal("web.login.not_staff")
    if await recent_failures(session, member.id, now) >= MAX_FAILURES:
        raise UserError("web.login.locked", minutes=_minutes(FAILURE_WINDOW))
    code = new_code()
    reply = Reply(Msg("web.login.code_message", code=code, minutes=_minutes(CODE_TTL)))
    nonce = secrets.token_hex(8)
    reached = await queue_to_members(
        session, [member.id], reply, key=f"web-login:{nonce}", kind=LOGIN_REF, now=now
    )
    if member.id not in reached:
        raise UserError("web.login.no_chat")
    await web_logins.put(
        session, member.id, box.mac(_code_payload(member.id, code)), now + CODE_TTL
    )
    await _trace_login(session, box, member, "code_sent", now)
    return member


async def check_code(
    session: AsyncSession, box: SecretBox, member_id: int, code: str, now: datetime
) -> Member:
    """The staff member signed in by `code`, which is used up; else a UserError (a wrong
    code is counted and traced; the caller commits the trace)."""
    member = await session.get(Member, member_id)
    if member is None or not member.active or member.role not in STAFF_ROLES:
        raise UserError("web.login.expired")
    if await recent_failures(session, member.id, now) >= MAX_FAILURES:
        raise UserError("web.login.locked", minutes=_minutes(FAILURE_WINDOW))
    pending = await web_logins.locked(session, member.id)
    if pending is None or pending.expires_at <= now:
        raise UserError("web.login.expired")
    if not box.mac_matches(_code_payload(member.id, code), pending.code_hash):
        await _refuse(session, box, member, "code", now)
        left = MAX_FAILURES - await recent_failures(session, member.id, now)
        if left <= 0:
            await web_logins.drop(session, member.id)
            raise RecordedRefusal("web.login.locked", minutes=_minutes(FAILURE_WINDOW))
        raise RecordedRefusal("web.login.wrong_code", left=left)
    await web_logins.drop(session, member.id)
    await _trace_login(session, box, member, "signed_in", now)
    return member


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)
