"""A meeting in the branch group: its announcement, moves, cancellation and reminders as plain
posts, and the current check-in code as a live post (drawn in group_checkin.py). Only what
the whole branch may read goes there: never who checked in or who is absent, and a 支委会 (the
committee's own meeting) not at all. A school-wide meeting goes to the school-wide groups."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.messages import Reply
from handlers.core.notify import queue_to_chat
from handlers.groups import live
from storage import groups
from storage.enums import MeetingKind
from storage.group_models import BranchGroup
from storage.meetings import meeting_ref
from storage.models import Meeting

CODE_KIND = "meeting_code"
# Before bulk notices, as the members' own copies (domain.URGENT).
URGENT = 2


async def meeting_groups(session: AsyncSession, meeting: Meeting) -> list[BranchGroup]:
    """The groups that hear of the meeting: its branch's, or the school-wide ones."""
    if meeting.kind == MeetingKind.COMMITTEE:
        return []
    return await groups.bound_groups(session, [meeting.branch_id])


async def tell_groups(
    session: AsyncSession, meeting: Meeting, reply: Reply, *, key: str, kind: str, now: datetime
) -> int:
    """Post a message about the meeting to its groups (once per key); returns how many."""
    found = await meeting_groups(session, meeting)
    for group in found:
        await queue_to_chat(
            session,
            group.platform,
            group.chat_id,
            reply,
            key=f"{key}:g{group.id}",
            kind=f"group_{kind}",
            now=now,
            branch_id=group.branch_id,
            ref=meeting_ref(meeting.id),
            priority=URGENT,
        )
    return len(found)


def code_ref(meeting: Meeting) -> str | None:
    """The code post of this opening of check-in (a move reopens it later: a new post)."""
    opened = meeting.checkin_opened_at
    return None if opened is None else f"checkin:{meeting.id}:{int(opened.timestamp())}"


def meeting_of(ref: str) -> tuple[int, int]:
    """(meeting id, opening stamp) of a code post's ref."""
    _, meeting_id, stamp = ref.split(":")
    return int(meeting_id), int(stamp)


async def post_code(session: AsyncSession, meeting: Meeting, now: datetime) -> None:
    """Check-in opened: the groups get the code post (once), kept current as codes turn."""
    ref = code_ref(meeting)
    if ref is None:
        return
    for group in await meeting_groups(session, meeting):
        await live.post(session, group, CODE_KIND, ref, now, priority=URGENT)


async def redraw_code(session: AsyncSession, ref: str | None, now: datetime) -> int:
    """The code turned, or check-in closed: the code posts of `ref` are drawn again.
    Returns how many will be edited."""
    return 0 if ref is None else await live.refresh(session, ref, now)
