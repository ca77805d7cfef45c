"""What happens to a meeting, as plain functions over a session: used by the commands here
and by the scheduler's jobs (reminders, opening check-in, finalising attendance)."""

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pyotp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.messages import Button, Denied, Msg, Reply, Series, UserError
from handlers.core.notify import queue_to_members
from handlers.core.parsing import parse_id
from handlers.core.tracer import SessionTracer, Tracer
from handlers.meetings import group_posts
from storage import meetings, rollcalls
from storage.crypto import SecretBox
from storage.enums import MeetingStatus, Presence, Role
from storage.meetings import ends_at, meeting_ref
from storage.models import Meeting, Member

CODE_STEP = 60  # seconds a check-in code lasts; the previous one is still accepted
# Reminders and notifications about a meeting go before bulk notices in the outbox.
URGENT = group_posts.URGENT


def totp(meeting: Meeting) -> pyotp.TOTP:
    return pyotp.TOTP(meeting.checkin_secret, interval=CODE_STEP)


def current_code(meeting: Meeting, now: datetime) -> str:
    return totp(meeting).at(now)


def describe(meeting: Meeting) -> Msg:
    """`#12 主题党日「学习全会精神」2026-12-01 14:30，化工楼301`"""
    where = Msg("meeting.where", place=meeting.place) if meeting.place else ""
    return Msg(
        "meeting.line",
        id=meeting.id,
        kind=Msg(f"kind.{meeting.kind}"),
        title=meeting.title,
        at=meeting.starts_at,
        where=where,
    )


def leave_button(meeting: Meeting) -> Button:
    return Button(Msg("meeting.leave_button"), f"/leave {meeting.id}")


async def secretaries_of(
    session: AsyncSession, branch_id: int | None, *, committee: bool
) -> list[int]:
    """The secretaries (and with `committee`, committee members) of a branch; for a
    school-wide meeting, the admins."""
    roles = [Role.SECRETARY, Role.COMMITTEE] if committee else [Role.SECRETARY]
    query = select(Member.id).where(Member.active.is_(True))
    if branch_id is None:
        query = query.where(Member.role == Role.ADMIN)
    else:
        query = query.where(Member.branch_id == branch_id, Member.role.in_(roles))
    return list((await session.scalars(query.order_by(Member.id))).all())


async def tell_members(
    session: AsyncSession,
    meeting: Meeting,
    reply: Reply,
    *,
    key: str,
    kind: str,
    now: datetime,
    member_ids: Sequence[int] | None = None,
) -> set[int]:
    """Queue a message about the meeting to its members (or to `member_ids`)."""
    ids = member_ids if member_ids is not None else await meetings.expected_ids(session, meeting)
    return await queue_to_members(
        session,
        ids,
        reply,
        key=key,
        kind=kind,
        now=now,
        ref=meeting_ref(meeting.id),
        priority=URGENT,
    )


def planned_for(meeting: Meeting) -> int:
    """A job carries the start it was planned for; after a move, the old job does nothing."""
    return int(meeting.starts_at.timestamp())


def _current(meeting: Meeting | None, planned: int | None) -> Meeting | None:
    if meeting is None or meeting.status != MeetingStatus.SCHEDULED:
        return None
    if planned is not None and planned != planned_for(meeting):
        return None
    return meeting


async def remind(
    session: AsyncSession,
    box: SecretBox,
    meeting_id: int,
    minutes: float,
    now: datetime,
    zone: ZoneInfo,
    planned: int | None = None,
    closer: Sequence[float] = (),
) -> int:
    """The reminder `minutes` before the meeting to everyone expected and not excused; the
    copy for interns on placement on the meeting's day carries the online link. Returns how
    many were queued. When a `closer` reminder is due already (after an outage both fire
    late), this one stays silent: one reminder is enough."""
    meeting = _current(await meetings.locked(session, meeting_id), planned)
    if meeting is None or now >= meeting.starts_at:
        return 0
    if any(m < minutes and now >= meeting.starts_at - timedelta(minutes=m) for m in closer):
        return 0
    excused = {
        m
        for m, a in (await meetings.attendance_of(session, meeting.id)).items()
        if a.presence == Presence.EXCUSED
    }
    expected = [m for m in await meetings.expected_ids(session, meeting) if m not in excused]
    remote = await _remote_ids(session, expected, meeting.starts_at.astimezone(zone).date())
    key = f"{meeting_ref(meeting.id)}:remind{round(minutes * 60)}s:{planned_for(meeting)}"
    sent = 0
    for group, online in ((remote, True), ([m for m in expected if m not in remote], False)):
        if not group:
            continue
        link = (
            Msg("meeting.link", link=meeting.online_link) if online and meeting.online_link else ""
        )
        text = Msg("meeting.reminder", meeting=describe(meeting), link=link)
        reply = Reply(text, ((leave_button(meeting),),))
        reached = await tell_members(
            session, meeting, reply, key=key, kind="meeting.reminder", now=now, member_ids=group
        )
        sent += len(reached)
    await _remind_groups(session, meeting, key, now)
    await SessionTracer(session, box, now).trace(
        "reminder.sent",
        branch_id=meeting.branch_id,
        ref=meeting_ref(meeting.id),
        data={"minutes": minutes, "sent": sent},
    )
    return sent


async def _remind_groups(session: AsyncSession, meeting: Meeting, key: str, now: datetime) -> None:
    """The branch group's copy of a reminder: no link (as for members on site) and no
    button (leave is asked for privately)."""
    reply = Reply(Msg("meeting.group_reminder", meeting=describe(meeting)))
    kind = "meeting.reminder"
    await group_posts.tell_groups(session, meeting, reply, key=key, kind=kind, now=now)


async def _remote_ids(session: AsyncSession, ids: Sequence[int], day: date) -> list[int]:
    if not ids:
        return []
    query = select(Member.id).where(Member.id.in_(ids), Member.remote_until >= day)
    return list((await session.scalars(query)).all())


def code_reply(meeting: Meeting, now: datetime) -> Reply:
    text = Msg("checkin.code", meeting=describe(meeting), code=current_code(meeting, now))
    return Reply(text, ((Button(Msg("checkin.refresh"), f"/checkin_code {meeting.id}"),),))


async def open_checkin(tracer: Tracer, meeting: Meeting, now: datetime) -> bool:
    """Open check-in (once), traced as the tracer's actor; False if it was open already."""
    if meeting.checkin_opened_at is not None:
        return False
    meeting.checkin_opened_at = now
    await tracer.trace("checkin.opened", branch_id=meeting.branch_id, ref=meeting_ref(meeting.id))
    return True


async def auto_open(
    session: AsyncSession,
    box: SecretBox,
    meeting_id: int,
    now: datetime,
    planned: int | None = None,
) -> bool:
    """The scheduler opens check-in before the start and sends the code to the secretaries."""
    meeting = _current(await meetings.locked(session, meeting_id), planned)
    if meeting is None or now >= ends_at(meeting):
        return False
    if not await open_checkin(SessionTracer(session, box, now), meeting, now):
        return False
    staff = await secretaries_of(session, meeting.branch_id, committee=False)
    key = f"{meeting_ref(meeting.id)}:opened:{planned_for(meeting)}"
    await tell_members(
        session,
        meeting,
        code_reply(meeting, now),
        key=key,
        kind="checkin.code",
        now=now,
        member_ids=staff,
    )
    await group_posts.post_code(session, meeting, now)
    return True


async def finalize(
    session: AsyncSession,
    box: SecretBox,
    meeting_id: int,
    now: datetime,
    planned: int | None = None,
) -> bool:
    """After the meeting: absentees are recorded and told, the secretaries get the summary."""
    meeting = _current(await meetings.locked(session, meeting_id), planned)
    if meeting is None or now < ends_at(meeting):
        return False
    recorded = await meetings.attendance_of(session, meeting.id)
    absent = [m for m in await meetings.expected_ids(session, meeting) if m not in recorded]
    for member_id in absent:
        await meetings.record(session, meeting.id, member_id, Presence.ABSENT, now)
    meeting.status = MeetingStatus.FINISHED
    await group_posts.redraw_code(session, group_posts.code_ref(meeting), now)  # closed
    ref = meeting_ref(meeting.id)
    told = Reply(Msg("attendance.you_were_absent", meeting=describe(meeting)))
    await tell_members(
        session,
        meeting,
        told,
        key=f"{ref}:absent",
        kind="attendance.absent",
        now=now,
        member_ids=absent,
    )
    summary = Reply(Msg("attendance.final", summary=await summary_msg(session, meeting)))
    staff = await secretaries_of(session, meeting.branch_id, committee=False)
    await tell_members(
        session,
        meeting,
        summary,
        key=f"{ref}:final",
        kind="attendance.final",
        now=now,
        member_ids=staff,
    )
    counts = {p.value: 0 for p in Presence}
    for a in recorded.values():
        counts[a.presence] += 1
    counts[Presence.ABSENT] += len(absent)
    await SessionTracer(session, box, now).trace(
        "attendance.finalized", branch_id=meeting.branch_id, ref=ref, data=counts
    )
    return True


async def summary_msg(session: AsyncSession, meeting: Meeting, branch_id: int | None = None) -> Msg:
    """Present, late, online, excused and absent (or not yet checked in), with names; for a
    school-wide meeting `branch_id` limits it to one branch's members."""
    recorded = await meetings.attendance_of(session, meeting.id)
    expected = await meetings.expected_ids(session, meeting, branch_id)
    if branch_id is not None and meeting.branch_id is None:
        members = set(expected)
        recorded = {m: a for m, a in recorded.items() if m in members}
    everyone = sorted(set(expected) | set(recorded))
    names = await meetings.names(session, everyone)
    groups: dict[str, list[str]] = {
        k: [] for k in ("present", "late", "online", "excused", "absent")
    }
    came = 0
    for member_id in everyone:
        row = recorded.get(member_id)
        if row is None or row.presence == Presence.ABSENT:
            groups["absent"].append(names[member_id])
            continue
        came += row.presence in (Presence.PRESENT, Presence.ONLINE)
        if row.late:  # an intern online and late is listed under both
            groups["late"].append(names[member_id])
        if not row.late or row.presence == Presence.ONLINE:
            groups[row.presence].append(names[member_id])
    pending = meeting.status == MeetingStatus.SCHEDULED
    lines = [
        Msg(
            f"attendance.{group}" if group != "absent" or not pending else "attendance.not_yet",
            count=len(people),
            names=Series(people),
        )
        for group, people in groups.items()
        if people
    ]
    lines += await _registered(session, meeting, set(expected) if branch_id is not None else None)
    return Msg(
        "attendance.summary",
        meeting=describe(meeting),
        expected=len(everyone),
        came=came,
        lines=lines,
    )


async def _registered(session: AsyncSession, meeting: Meeting, among: set[int] | None) -> list[Msg]:
    """Who signed up on a roll-call (接龙) attached to the meeting (`among`: of these only)."""
    found = await rollcalls.registered_for(session, meeting_ref(meeting.id))
    found = [m for m in found if among is None or m in among]
    if not found:
        return []
    names = await meetings.names(session, found)
    return [Msg("attendance.registered", count=len(found), names=Series(names[m] for m in found))]


async def meeting_for(
    session: AsyncSession, args: str, branch_id: int | None, not_found: Msg
) -> Meeting:
    """The meeting numbered in args, if it belongs to the branch (or is school-wide); else
    `not_found` is the answer, and a number given is a traced refusal (Denied)."""
    tokens = args.split()
    meeting_id = parse_id(tokens[0]) if tokens else None
    if meeting_id is None:
        raise UserError(not_found.key, **not_found.params)
    meeting = await meetings.get(session, meeting_id)
    if meeting is None or (branch_id is not None and meeting.branch_id not in (None, branch_id)):
        target, exists = f"meeting:{meeting_id}", meeting is not None
        raise Denied(not_found.key, target=target, exists=exists, **not_found.params)
    return meeting


def is_late(meeting: Meeting, now: datetime, grace: timedelta) -> bool:
    return now > meeting.starts_at + grace
