"""Queries for care of each member (handlers/care): members' attendance at their branch's
meetings by the memberships they had then, excusals, care notes, and the notices given.

Batch queries take any number of members, a thousand at a time.
"""

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.care_models import CareExcusal, CareNote, CareNotice
from storage.crypto import SecretBox
from storage.db import chunks, core_rows
from storage.enums import MeetingStatus
from storage.models import Attendance, Meeting
from storage.roster_models import Membership


class Seen(NamedTuple):
    """A member's record at one finalised meeting they were expected at."""

    member_id: int
    meeting_id: int
    title: str
    kind: str
    starts_at: datetime
    presence: str


# A meeting counts for a member when it was of the branch they belonged to when it started
# (or school-wide): a mover's months before the move count with the old branch's meetings.
_THEIRS = and_(
    Membership.member_id == Attendance.member_id,
    Membership.since <= Meeting.starts_at,
    or_(Membership.until.is_(None), Membership.until > Meeting.starts_at),
    or_(Meeting.branch_id.is_(None), Meeting.branch_id == Membership.branch_id),
)


async def attendance_since(
    session: AsyncSession, member_ids: Sequence[int], since: datetime, attended: Collection[str]
) -> dict[int, list[Seen]]:
    """Each member's records at finalised meetings of their branch started since `since`,
    oldest first (finalising records everyone expected: present, online, excused or absent);
    for a member who took part in one (a record in `attended`), only from the last such
    meeting on: the month it was in is kept, so nothing before it counts (most members go
    every month, and the rows left behind would be the most of two years' attendance)."""
    found: dict[int, list[Seen]] = defaultdict(list)
    for chunk in chunks(member_ids):
        finished = (Meeting.status == MeetingStatus.FINISHED, Meeting.starts_at >= since)
        last = (
            select(Attendance.member_id, func.max(Meeting.starts_at).label("at"))
            .join(Meeting, Meeting.id == Attendance.meeting_id)
            .join(Membership, _THEIRS)
            .where(Attendance.member_id.in_(chunk), Attendance.presence.in_(attended), *finished)
            .group_by(Attendance.member_id)
            .subquery()
        )
        from_ = func.coalesce(last.c.at, literal(since, Meeting.starts_at.type))
        query = (
            select(
                Attendance.member_id,
                Meeting.id,
                Meeting.title,
                Meeting.kind,
                Meeting.starts_at,
                Attendance.presence,
            )
            .join(Meeting, Meeting.id == Attendance.meeting_id)
            .join(Membership, _THEIRS)
            .outerjoin(last, last.c.member_id == Attendance.member_id)
            .where(Attendance.member_id.in_(chunk), *finished, Meeting.starts_at >= from_)
            .distinct()
            .order_by(Attendance.member_id, Meeting.starts_at, Meeting.id)
        )
        for row in await core_rows(session, query):
            found[row[0]].append(Seen(*row))
    return found


# ---- excusals ------------------------------------------------------------------------------


async def add_excusal(
    session: AsyncSession,
    box: SecretBox,
    member_id: int,
    kind: str,
    since: date,
    until: date,
    reason: str,
    *,
    by: int | None,
    now: datetime,
) -> CareExcusal:
    excusal = CareExcusal(
        member_id=member_id,
        kind=kind,
        since=since,
        until=until,
        reason_enc=box.encrypt(reason) if reason else None,
        recorded_by=by,
        recorded_at=now,
    )
    session.add(excusal)
    await session.flush()
    return excusal


async def excusal(session: AsyncSession, excusal_id: int) -> CareExcusal | None:
    return await session.get(CareExcusal, excusal_id)


def _standing_excusals(member_ids: Sequence[int], ending_from: date) -> list:
    return [
        CareExcusal.member_id.in_(member_ids),
        CareExcusal.withdrawn_at.is_(None),
        CareExcusal.until >= ending_from,
    ]


async def excusals_of(
    session: AsyncSession, member_ids: Sequence[int], ending_from: date
) -> dict[int, list[CareExcusal]]:
    """Each member's excusals in force (not withdrawn) that end on `ending_from` or later,
    earliest first."""
    found: dict[int, list[CareExcusal]] = defaultdict(list)
    for chunk in chunks(member_ids):
        query = select(CareExcusal).where(*_standing_excusals(chunk, ending_from))
        for row in (await session.scalars(query.order_by(CareExcusal.since))).all():
            found[row.member_id].append(row)
    return found


async def overlapping_excusal(
    session: AsyncSession, member_id: int, since: date, until: date
) -> CareExcusal | None:
    """An excusal in force of the member's that shares a day with [since, until]."""
    query = select(CareExcusal).where(
        *_standing_excusals([member_id], since), CareExcusal.since <= until
    )
    return (await session.scalars(query.order_by(CareExcusal.since).limit(1))).first()


def excusal_reason(box: SecretBox, excusal: CareExcusal) -> str:
    return box.decrypt(excusal.reason_enc) or ""


# ---- notes ---------------------------------------------------------------------------------


async def add_note(
    session: AsyncSession,
    box: SecretBox,
    member_id: int,
    kind: str,
    text: str,
    *,
    by: int | None,
    now: datetime,
) -> CareNote:
    sealed = box.encrypt(text)
    if sealed is None:
        raise ValueError("a care note needs its text")
    note = CareNote(
        member_id=member_id, kind=kind, text_enc=sealed, recorded_by=by, recorded_at=now
    )
    session.add(note)
    await session.flush()
    return note


def note_text(box: SecretBox, note: CareNote) -> str:
    return box.decrypt(note.text_enc) or ""


async def notes_of(
    session: AsyncSession, member_ids: Sequence[int], *, latest_only: bool = False
) -> dict[int, list[CareNote]]:
    """Each member's care notes, newest first (`latest_only`: just the newest)."""
    found: dict[int, list[CareNote]] = defaultdict(list)
    for chunk in chunks(member_ids):
        query = select(CareNote).where(CareNote.member_id.in_(chunk))
        for note in (await session.scalars(query.order_by(CareNote.id.desc()))).all():
            if not (latest_only and found[note.member_id]):
                found[note.member_id].append(note)
    return found


# ---- notices -------------------------------------------------------------------------------


class Told(NamedTuple):
    """A notice's identity: who it was about, of what, to whom, for which run and threshold."""

    member_id: int
    measure: str
    audience: str
    run_since: date
    threshold: int


async def told_already(session: AsyncSession, member_ids: Sequence[int]) -> set[Told]:
    """Every notice given so far about these members."""
    found: set[Told] = set()
    columns = (
        CareNotice.member_id,
        CareNotice.measure,
        CareNotice.audience,
        CareNotice.run_since,
        CareNotice.threshold,
    )
    for chunk in chunks(member_ids):
        query = select(*columns).where(CareNotice.member_id.in_(chunk))
        found.update(Told(*row) for row in await core_rows(session, query))
    return found


async def record_told(
    session: AsyncSession, told: Sequence[tuple[Told, int]], branch_id: int, now: datetime
) -> dict[Told, int]:
    """Record notices given (each with the count then) about members of a branch; returns
    each one's number, which keys the messages that carry it."""
    rows = {
        key: CareNotice(**key._asdict(), count=count, branch_id=branch_id, told_at=now)
        for key, count in told
    }
    session.add_all(rows.values())
    await session.flush()
    return {key: row.id for key, row in rows.items()}


class Kept(NamedTuple):
    """Everything care keeps about one member (for their own export), oldest first."""

    excusals: Sequence[CareExcusal]  # withdrawn ones too
    notes: Sequence[CareNote]
    notices: Sequence[CareNotice]


async def kept_about(session: AsyncSession, member_id: int) -> Kept:
    async def rows(model: type[CareExcusal] | type[CareNote] | type[CareNotice]) -> Sequence:
        query = select(model).where(model.member_id == member_id).order_by(model.id)
        return (await session.scalars(query)).all()

    return Kept(await rows(CareExcusal), await rows(CareNote), await rows(CareNotice))
