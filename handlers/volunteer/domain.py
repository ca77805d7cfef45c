"""Volunteer service as plain functions: reading a report, showing a record, recording one
and asking the branch's committee to decide. Other features (the evidence table, the
evaluation) use `hours_text` to show approved minutes the same way."""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.freetext import quoted
from handlers.core.incoming import Attachment
from handlers.core.messages import Button, Msg, Reply, UserError
from handlers.core.notify import queue_each
from handlers.core.parsing import parse_date
from handlers.core.payload import attachment_in
from handlers.core.tracer import SessionTracer
from handlers.meetings.domain import secretaries_of
from storage import people
from storage.crypto import SecretBox
from storage.enums import DecisionStatus
from storage.models import Member
from storage.pipeline_models import VolunteerRecord
from storage.volunteer import volunteer_ref

MIN_ACTIVITY, MAX_ACTIVITY = 2, 100
MAX_HOURS = 24
STEP = Decimal("0.5")  # hours are reported in half hours
# 今天/昨天/前天 for the day: what people type on a phone right after the activity.
RELATIVE_DAYS = {"今天": 0, "昨天": 1, "前天": 2, "today": 0, "yesterday": 1}
_HOURS = re.compile(r"(\d{1,3}(?:\.\d{1,3})?)\s*(个?小时|h|hrs?|hours?)?", re.IGNORECASE)
_UNIT_WORD = re.compile(r"(个?小时|h|hrs?|hours?)(?:\s+|$)", re.IGNORECASE)


def usage() -> Msg:
    return Msg("cmd.volunteer.usage")


@dataclass(frozen=True)
class Report:
    day: date
    minutes: int
    activity: str


def hours_text(minutes: int) -> str:
    """Minutes as hours for reading: 180 → "3", 150 → "2.5", 20 → "0.33"."""
    value = (Decimal(minutes) / 60).quantize(Decimal("0.01"))
    return format(value.normalize(), "f")


def parse_hours(text: str) -> int | None:
    """`3`, `2.5`, `3小时`, `3h`, `1.5h` as whole minutes; None unless it is a positive
    number of half hours, at most MAX_HOURS."""
    match = _HOURS.fullmatch(text.strip())
    if match is None:
        return None
    value = Decimal(match.group(1))  # the pattern admits only plain decimals
    if not 0 < value <= MAX_HOURS or value % STEP != 0:
        return None
    return int(value * 60)


def _day(text: str, today: date) -> date:
    if text.lower() in RELATIVE_DAYS:
        return today - timedelta(days=RELATIVE_DAYS[text.lower()])
    try:
        day = parse_date(text)
    except UserError as err:
        raise UserError("volunteer.bad_date", value=text, usage=usage()) from err
    if day > today:
        raise UserError("volunteer.future", day=day, usage=usage())
    if day < year_before(today):
        raise UserError("volunteer.too_old", day=day, usage=usage())
    return day


def year_before(today: date) -> date:
    """The same day a year earlier (28 February for the 29th)."""
    try:
        return today.replace(year=today.year - 1)
    except ValueError:
        return today.replace(year=today.year - 1, day=28)


def parse_report(args: str, today: date) -> Report:
    """`DATE HOURS ACTIVITY`, e.g. `2026-11-20 3 社区义诊` or `昨天 2.5小时 社区义诊`."""
    parts = args.split(maxsplit=2)
    if len(parts) < 2:
        raise UserError("usage", usage=usage())
    day = _day(parts[0], today)
    minutes = parse_hours(parts[1])
    if minutes is None:
        raise UserError("volunteer.bad_hours", value=parts[1], usage=usage())
    rest = parts[2] if len(parts) > 2 else ""
    unit = _UNIT_WORD.match(rest)
    if unit and parts[1].replace(".", "").isdigit():  # `3 小时 社区义诊`
        rest = rest[unit.end() :]
    activity = " ".join(rest.split())
    if not MIN_ACTIVITY <= len(activity) <= MAX_ACTIVITY:
        raise UserError(
            "volunteer.bad_activity", low=MIN_ACTIVITY, high=MAX_ACTIVITY, usage=usage()
        )
    return Report(day, minutes, activity)


def photo_of(attachments: tuple[Attachment, ...], platform: str) -> dict[str, Any] | None:
    """The first photo (or file, e.g. a certificate) sent with the report, with the
    platform whose handle it is: only that platform can show it again."""
    if not attachments:
        return None
    first = attachments[0]
    return {
        "platform": platform,
        "kind": first.kind,
        "file_id": first.file_id,
        "file_name": first.file_name,
    }


def line(record: VolunteerRecord) -> Msg:
    """`#3 2026-11-20 社区义诊 3 小时`"""
    return Msg(
        "volunteer.line",
        id=record.id,
        day=record.day,
        activity=quoted(record.activity, inline=True),  # inside a line: kept on it
        hours=hours_text(record.minutes),
    )


def status_msg(status: str) -> Msg:
    return Msg(f"volunteer.status_{status}")


def decision_buttons(record: VolunteerRecord) -> tuple[tuple[Button, ...], ...]:
    """认定 and 不予认定 while pending; afterwards one button that shows the outcome (on a
    photo only the buttons can change) and, pressed, says who decided."""
    approve = f"/volunteer_approve {record.id}"
    if record.status == DecisionStatus.PENDING:
        reject = f"/volunteer_reject {record.id}"
        return (
            (
                Button(Msg("volunteer.approve_button"), approve),
                Button(Msg("volunteer.reject_button"), reject),
            ),
        )
    return ((Button(Msg(f"volunteer.decided_button_{record.status}"), approve),),)


def asking(record: VolunteerRecord, name: str, platform: str | None) -> Reply:
    """The record as a decider sees it, with the photo when it can be shown on `platform`."""
    photo = record.photo
    shown = photo is not None and photo.get("platform") == platform
    note: Msg | str = ""
    if photo is not None:
        where = Msg(f"platform.{photo.get('platform')}")
        note = Msg("volunteer.photo_here") if shown else Msg("volunteer.photo_elsewhere", at=where)
    text = Msg(
        "volunteer.ask",
        id=record.id,
        name=name,
        day=record.day,
        hours=hours_text(record.minutes),
        activity=quoted(record.activity),
        photo=note,
    )
    forward = attachment_in(photo) if shown and photo is not None else None
    return Reply(text, decision_buttons(record), forward=forward)


async def record_report(
    session: AsyncSession,
    box: SecretBox,
    member: Member,
    report: Report,
    photo: dict[str, Any] | None,
    now: datetime,
) -> tuple[VolunteerRecord, int]:
    """Record a pending report, trace it and ask the branch's secretary and committee
    (not the reporter) to decide. Returns the record and how many deciders it reached."""
    record = VolunteerRecord(
        member_id=member.id,
        branch_id=member.branch_id,
        day=report.day,
        minutes=report.minutes,
        activity=report.activity,
        photo=photo,
        status=DecisionStatus.PENDING,
        created_at=now,
    )
    session.add(record)
    await session.flush()
    await SessionTracer(session, box, now, member.id).trace(
        "volunteer.reported",
        branch_id=member.branch_id,
        member_id=member.id,
        ref=volunteer_ref(record.id),
        data={
            "day": report.day.isoformat(),
            "hours": float(Decimal(report.minutes) / 60),
            "activity": report.activity,
            "photo": photo is not None,
        },
    )
    return record, await _ask_deciders(session, record, member, now)


async def _ask_deciders(
    session: AsyncSession, record: VolunteerRecord, member: Member, now: datetime
) -> int:
    """Queue the record with its buttons to the branch's secretary and committee, not the
    reporter; returns how many of them it reaches."""
    deciders = [
        d for d in await secretaries_of(session, member.branch_id, committee=True) if d != member.id
    ]
    places = await people.reach(session, deciders)

    def platform_of(decider: int) -> str | None:
        return places[decider].platform if decider in places else None

    # One reply per platform: the photo goes only where its handle can be shown.
    by_platform = {p: asking(record, member.name, p) for p in {platform_of(d) for d in deciders}}
    ref = volunteer_ref(record.id)
    reached = await queue_each(
        session,
        {d: by_platform[platform_of(d)] for d in deciders},
        key=f"{ref}:ask",
        kind="volunteer.request",
        now=now,
        refs=dict.fromkeys(deciders, ref),
    )
    return len(reached)
