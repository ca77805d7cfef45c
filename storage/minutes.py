"""Queries over meeting minutes and photos."""

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import SecretBox
from storage.enums import MeetingStatus
from storage.minutes_models import MeetingPhoto, Minutes
from storage.models import Meeting

# No meeting lasts longer (meetings.minutes is at most a day).
LONGEST_MEETING = timedelta(days=1)


async def versions(session: AsyncSession, meeting_id: int) -> Sequence[Minutes]:
    """Every version of the meeting's minutes, oldest first."""
    query = select(Minutes).where(Minutes.meeting_id == meeting_id).order_by(Minutes.version)
    return (await session.scalars(query)).all()


async def latest(session: AsyncSession, meeting_id: int) -> Minutes | None:
    found = await versions(session, meeting_id)
    return found[-1] if found else None


async def photos(session: AsyncSession, meeting_id: int) -> Sequence[MeetingPhoto]:
    query = select(MeetingPhoto).where(MeetingPhoto.meeting_id == meeting_id)
    return (await session.scalars(query.order_by(MeetingPhoto.id))).all()


async def add_photo(
    session: AsyncSession,
    box: SecretBox,
    meeting_id: int,
    name: str,
    mime: str,
    content: bytes,
    added_by: int | None,
    now: datetime,
) -> MeetingPhoto:
    photo = MeetingPhoto(
        meeting_id=meeting_id,
        name=name,
        mime=mime,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content_enc=box.encrypt_bytes(content),
        added_by=added_by,
        added_at=now,
    )
    session.add(photo)
    await session.flush()
    return photo


async def without_minutes(
    session: AsyncSession, ended_since: datetime, ended_before: datetime
) -> Sequence[Meeting]:
    """A branch's meetings, not cancelled, that ended in [ended_since, ended_before) and have
    no minutes yet (the end is the start plus the meeting's length, at most a day)."""
    has_minutes = select(Minutes.id).where(Minutes.meeting_id == Meeting.id).exists()
    query = select(Meeting).where(
        Meeting.branch_id.is_not(None),
        Meeting.status != MeetingStatus.CANCELLED,
        Meeting.starts_at >= ended_since - LONGEST_MEETING,
        Meeting.starts_at < ended_before,
        ~has_minutes,
    )
    found = (await session.scalars(query.order_by(Meeting.id))).all()
    return [m for m in found if ended_since <= end_of(m) < ended_before]


def end_of(meeting: Meeting) -> datetime:
    return meeting.starts_at + timedelta(minutes=meeting.minutes)
