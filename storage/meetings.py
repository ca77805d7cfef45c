"""Queries over meetings, attendance and leave requests."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, Table, bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import roster
from storage.crypto import SecretBox
from storage.db import insert_ignoring_conflicts
from storage.enums import LeaveStatus, MeetingKind, MeetingStatus, Presence, Role
from storage.models import Attendance, LeaveRequest, Meeting, Member
from storage.roster_models import Membership

ATTENDANCE: Table = Attendance.__table__  # type: ignore[assignment]


def meeting_ref(meeting_id: int) -> str:
    return f"meeting:{meeting_id}"


def ends_at(meeting: Meeting) -> datetime:
    return meeting.starts_at + timedelta(minutes=meeting.minutes)


def _scheduled(
    branch_id: int | None, started_after: datetime, *more: ColumnElement[bool]
) -> Select[tuple[Meeting]]:
    """Scheduled meetings starting after `started_after` that match `more`, soonest first: a
    branch's own and the school-wide ones (branch None: all meetings)."""
    query = select(Meeting).where(
        Meeting.status == MeetingStatus.SCHEDULED, Meeting.starts_at > started_after, *more
    )
    if branch_id is not None:
        query = query.where(or_(Meeting.branch_id == branch_id, Meeting.branch_id.is_(None)))
    return query.order_by(Meeting.starts_at)


async def get(session: AsyncSession, meeting_id: int) -> Meeting | None:
    return await session.get(Meeting, meeting_id)


def attends(meeting: Meeting, role: str) -> bool:
    """A 支委会 is for the committee; every other meeting for every member."""
    return meeting.kind != MeetingKind.COMMITTEE or role != Role.MEMBER


async def upcoming(
    session: AsyncSession,
    branch_id: int | None,
    now: datetime,
    limit: int = 20,
    *,
    role: str = Role.ADMIN,
) -> Sequence[Meeting]:
    """Scheduled meetings not yet over that someone of `role` attends, soonest first."""
    query = _scheduled(branch_id, now - timedelta(hours=12)).limit(limit * 2)
    rows = (await session.scalars(query)).unique().all()
    return [m for m in rows if ends_at(m) > now and attends(m, role)][:limit]


async def open_for_checkin(
    session: AsyncSession, branch_id: int | None, now: datetime
) -> Sequence[Meeting]:
    """Meetings of the branch (or school-wide) whose check-in is open now."""
    query = _scheduled(branch_id, now - timedelta(hours=24), Meeting.checkin_opened_at.is_not(None))
    return [m for m in (await session.scalars(query)).unique().all() if ends_at(m) > now]


async def expected_ids(
    session: AsyncSession, meeting: Meeting, branch_id: int | None = None
) -> list[int]:
    """Who should attend: the members of the branch (of every branch for a school-wide
    meeting; `branch_id` narrows that to one) when it started, by their memberships then (a
    member who moved in or joined later is not expected, one who moved out or left later
    still is); for a 支委会 only the committee."""
    query = (
        select(Member.id)
        .join(Membership, Membership.member_id == Member.id)
        .where(roster.covering(meeting.starts_at), roster.counted())
    )
    if meeting.branch_id is not None:
        query = query.where(Membership.branch_id == meeting.branch_id)
    elif branch_id is not None:
        query = query.where(Membership.branch_id == branch_id)
    if meeting.kind == MeetingKind.COMMITTEE:
        query = query.where(Member.role.in_((Role.COMMITTEE, Role.SECRETARY, Role.ADMIN)))
    return list((await session.scalars(query.order_by(Member.id))).all())


async def locked(session: AsyncSession, meeting_id: int) -> Meeting | None:
    """The meeting, row-locked on PostgreSQL: a scheduler job and a command (or a second
    scheduler during a hand-over) never act on it at once."""
    return await session.get(Meeting, meeting_id, with_for_update=True, populate_existing=True)


async def clear_checkins(session: AsyncSession, meeting_id: int) -> None:
    """Forget check-ins (not approved leave): the meeting moved to another time."""
    await session.execute(
        delete(Attendance).where(
            Attendance.meeting_id == meeting_id, Attendance.presence != Presence.EXCUSED
        )
    )


# A check-in storm runs this for every member: see insert_ignoring_conflicts.
_RECORD = insert_ignoring_conflicts(
    ATTENDANCE, ("meeting_id", "member_id", "presence", "late", "mode", "at")
)


async def record(
    session: AsyncSession,
    meeting_id: int,
    member_id: int,
    presence: Presence,
    at: datetime,
    *,
    late: bool = False,
    mode: str | None = None,
) -> bool:
    """Record a member's attendance once; False if something was recorded already."""
    values = {
        "meeting_id": meeting_id,
        "member_id": member_id,
        "presence": presence,
        "late": late,
        "mode": mode,
        "at": at,
    }
    result = await session.execute(_RECORD, values)
    return bool(getattr(result, "rowcount", 0))


async def attendance(session: AsyncSession, meeting_id: int, member_id: int) -> Attendance | None:
    return await session.get(Attendance, (meeting_id, member_id))


async def attendance_of(session: AsyncSession, meeting_id: int) -> dict[int, Attendance]:
    query = select(Attendance).where(Attendance.meeting_id == meeting_id)
    return {a.member_id: a for a in (await session.scalars(query)).all()}


async def names(session: AsyncSession, member_ids: Sequence[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for start in range(0, len(member_ids), 1000):
        chunk = member_ids[start : start + 1000]
        query = select(Member.id, Member.name).where(Member.id.in_(chunk))
        found.update({int(i): str(n) for i, n in (await session.execute(query)).all()})
    return found


async def excuse(session: AsyncSession, meeting_id: int, member_id: int, at: datetime) -> None:
    """Approved leave: excused, replacing nothing already recorded (a check-in stands)."""
    await record(session, meeting_id, member_id, Presence.EXCUSED, at, mode="leave")


async def new_leave(
    session: AsyncSession,
    box: SecretBox,
    meeting_id: int,
    member_id: int,
    reason: str,
    now: datetime,
) -> LeaveRequest:
    """A pending leave request; its reason is stored encrypted (it is personal)."""
    sealed = box.encrypt(reason)
    if sealed is None:
        raise ValueError("a leave request needs a reason")
    request = LeaveRequest(
        meeting_id=meeting_id,
        member_id=member_id,
        reason_enc=sealed,
        status=LeaveStatus.PENDING,
        created_at=now,
    )
    session.add(request)
    await session.flush()
    return request


def leave_reason(box: SecretBox, request: LeaveRequest) -> str:
    """The request's reason in clear, for those who may read it (the deciders, the member)."""
    return box.decrypt(request.reason_enc) or ""


async def leaves_of(session: AsyncSession, member_id: int) -> Sequence[LeaveRequest]:
    """Every leave request a member made, oldest first (for their own data export)."""
    query = select(LeaveRequest).where(LeaveRequest.member_id == member_id)
    return (await session.scalars(query.order_by(LeaveRequest.id))).unique().all()


async def leave_for(session: AsyncSession, meeting_id: int, member_id: int) -> LeaveRequest | None:
    query = (
        select(LeaveRequest)
        .where(LeaveRequest.meeting_id == meeting_id, LeaveRequest.member_id == member_id)
        .order_by(LeaveRequest.id.desc())
    )
    return (await session.scalars(query)).unique().first()


async def leave(session: AsyncSession, leave_id: int) -> LeaveRequest | None:
    return await session.get(LeaveRequest, leave_id)


async def pending_leaves(session: AsyncSession, branch_id: int | None) -> Sequence[LeaveRequest]:
    query = (
        select(LeaveRequest)
        .join(Meeting, Meeting.id == LeaveRequest.meeting_id)
        .where(
            LeaveRequest.status == LeaveStatus.PENDING,
            Meeting.status == MeetingStatus.SCHEDULED,
        )
        .order_by(LeaveRequest.id)
    )
    if branch_id is not None:
        query = query.join(Member, Member.id == LeaveRequest.member_id).where(
            Member.branch_id == branch_id
        )
    return (await session.scalars(query)).unique().all()


async def unsynced(session: AsyncSession, limit: int = 500) -> Sequence[Meeting]:
    query = select(Meeting).where(Meeting.jobs_synced.is_(False)).order_by(Meeting.id).limit(limit)
    return (await session.scalars(query)).unique().all()


async def mark_all_unsynced(session: AsyncSession, now: datetime) -> int:
    """Every scheduled meeting not yet over needs its jobs planned again."""
    result = await session.execute(
        update(Meeting)
        .where(
            Meeting.status == MeetingStatus.SCHEDULED, Meeting.starts_at > now - timedelta(days=1)
        )
        .values(jobs_synced=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def mark_synced(session: AsyncSession, planned: Meeting) -> None:
    """Its jobs now match `planned`; a meeting moved or cancelled since stays unsynced."""
    await session.execute(
        update(Meeting)
        .where(
            Meeting.id == planned.id,
            Meeting.starts_at == planned.starts_at,
            Meeting.minutes == planned.minutes,
            Meeting.status == planned.status,
        )
        .values(jobs_synced=True)
    )


_RECENTLY_OPENED = (
    select(Meeting)
    .where(Meeting.checkin_opened_at.is_not(None), Meeting.starts_at > bindparam("since"))
    .order_by(Meeting.starts_at)
)


async def recently_opened(session: AsyncSession, now: datetime) -> Sequence[Meeting]:
    """Meetings of any branch whose check-in was opened in the last day, in any state: a
    code is matched against them to tell a wrong code from an expired or foreign one."""
    since = {"since": now - timedelta(days=1)}
    return (await session.scalars(_RECENTLY_OPENED, since)).all()
