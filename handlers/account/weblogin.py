"""Signing in to the web page with a one-time code the bot sends to the person's chat.

A secretary or an admin types their name (or staff number) on the page; the bot queues a
6-digit code to their bound chat account through the outbox (sealed there, erased once sent);
typing it back in the same browser signs them in. Before sign-in the page answers the same
whatever is typed, so it never tells a stranger who is on the roster or who is staff.

A code is bound to the browser that asked for it: a guess from any other browser never
matches, so nobody can use up, replace or lock out the owner's code. Each code takes five
wrong guesses before it is dropped; a person gets at most five codes an hour, however many
ask. Guesses and requests are also limited per requester (address and browser) by the page,
before any of this costs a write (bot/web/throttle). Nothing here is traced until someone has
signed in: an anonymous visitor is never a trace's actor.
"""

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.messages import Msg, Reply, Secret
from handlers.core.notify import queue_to_members
from handlers.core.parsing import parse_id
from handlers.core.tracer import SessionTracer
from storage import people, web_logins
from storage.crypto import SecretBox
from storage.enums import Role
from storage.models import Member

CODE_TTL = timedelta(minutes=10)
MAX_WRONG = 5  # wrong guesses at one open code before it is dropped
SENDS_PER_HOUR = 5  # codes sent to one person an hour, whoever asks
CODE_DIGITS = 6
STAFF_ROLES = frozenset({Role.SECRETARY, Role.ADMIN})
LOGIN_KIND = "web.login"
# The outbox rows' kind: the code messages.
LOGIN_REF = "web.login"


def browser_key(box: SecretBox, browser: str) -> str:
    """What a code is bound to: a keyed hash of the browser's random cookie."""
    return box.mac(f"web-browser:{browser}".encode())


def _code_payload(member_id: int, code: str) -> bytes:
    """What a code's hash covers: keyed with SECRET_KEY, bound to the member."""
    return f"web-login:{member_id}:{code.strip()}".encode()


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


async def staff_named(session: AsyncSession, text: str) -> Sequence[Member]:
    """Every active secretary or admin `text` names (a name, a staff number or #id) in any
    branch; namesakes are all of them, and anyone else named is not."""
    text = text.strip()
    if not text:
        return []
    member_id = parse_id(text) if text.startswith("#") else None
    if member_id is not None:
        member = await session.get(Member, member_id)
        found: Sequence[Member] = [member] if member is not None and member.active else []
    else:
        found = await people.members_matching(session, text, None)
    return [m for m in found if m.role in STAFF_ROLES]


async def request_code(
    session: AsyncSession, box: SecretBox, text: str, browser: str, now: datetime
) -> int:
    """Queue a fresh code to each secretary or admin `text` names who has a chat and has
    not had SENDS_PER_HOUR codes this hour; returns how many were sent (for tests and logs:
    the page says the same either way). Codes already sent stay valid."""
    bound_to = browser_key(box, browser)
    sent = 0
    for member in await staff_named(session, text):
        if await web_logins.issued_since(session, member.id, now - timedelta(hours=1)) >= (
            SENDS_PER_HOUR
        ):
            continue
        code = new_code()
        minutes = int(CODE_TTL.total_seconds() // 60)
        reply = Reply(Msg("web.login.code_message", code=Secret(code), minutes=minutes))
        key = f"web-login:{secrets.token_hex(8)}"
        reached = await queue_to_members(
            session, [member.id], reply, key=key, kind=LOGIN_REF, now=now, box=box
        )
        if member.id in reached:
            code_hash = box.mac(_code_payload(member.id, code))
            await web_logins.add(session, member.id, bound_to, code_hash, now, CODE_TTL)
            sent += 1
    await web_logins.forget_expired(session, now, keep=timedelta(hours=1))
    return sent


async def check_code(
    session: AsyncSession, box: SecretBox, text: str, browser: str, code: str, now: datetime
) -> Member | None:
    """The secretary or admin `text` names whose open code, asked for from this browser,
    is `code`; that code is used up and the sign-in traced. None for anything else (a wrong
    code counts against the browser's open codes; a name that asked for none changes
    nothing)."""
    named = {m.id: m for m in await staff_named(session, text)}
    if not named or not code.strip().isdigit():
        return None
    codes = await web_logins.open_codes(session, list(named), browser_key(box, browser), now)
    for open_code in codes:
        if box.mac_matches(_code_payload(open_code.member_id, code), open_code.code_hash):
            web_logins.spend(open_code, now)
            member = named[open_code.member_id]
            await _trace_sign_in(session, box, member, now)
            return member
    for open_code in codes:
        open_code.wrong += 1
        if open_code.wrong >= MAX_WRONG:
            web_logins.spend(open_code, now)
    return None


async def _trace_sign_in(
    session: AsyncSession, box: SecretBox, member: Member, now: datetime
) -> None:
    """The one trace of signing in: its actor is the person now signed in."""
    await SessionTracer(session, box, now, member.id).trace(
        LOGIN_KIND,
        branch_id=member.branch_id,
        member_id=member.id,
        data={"step": "signed_in"},
    )
