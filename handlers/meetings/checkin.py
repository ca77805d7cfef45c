"""签到: /checkin_open shows a rotating code; members check in by code, by location, or online
as interns; /attendance shows who is there."""

import math
from datetime import datetime, timedelta

from handlers.core.context import Context
from handlers.core.incoming import Location
from handlers.core.messages import Msg, Reply, UserError
from handlers.core.registry import COMMITTEE_UP, EVERYONE, QUIETLY, Replies
from handlers.meetings.domain import (
    code_reply,
    describe,
    is_late,
    meeting_for,
    open_checkin,
    summary_msg,
    totp,
)
from handlers.meetings.feature import feature
from handlers.meetings.group_posts import post_code
from handlers.meetings.settings import MeetingSettings
from storage import meetings
from storage.enums import MeetingStatus, Presence, Role
from storage.meetings import ends_at, meeting_ref
from storage.models import Meeting, Member

# How far back a code is recognised as "expired" rather than simply wrong.
EXPIRED_WINDOWS = 30
# Opening check-in earlier than this before the start would let codes leak long before.
OPEN_AT_MOST_BEFORE = timedelta(hours=2)


async def _staff_meeting(ctx: Context, args: str, command: str) -> Meeting:
    """A meeting of the caller's branch, or a school-wide one (all meetings for admins)."""
    not_found = Msg("meeting.not_found", usage=Msg(f"cmd.{command}.usage"))
    return await meeting_for(ctx.session, args, ctx.branch_scope(), not_found)


def _check_open(ctx: Context, meeting: Meeting) -> None:
    """Check-in runs from opening until the meeting ends; only admins open a school-wide one,
    and not earlier than it would open by itself (at least two hours before)."""
    if meeting.status != MeetingStatus.SCHEDULED or ctx.now >= ends_at(meeting):
        raise UserError("checkin.closed", meeting=describe(meeting))
    if meeting.branch_id is None and ctx.role != Role.ADMIN:
        raise UserError("checkin.school_wide", id=meeting.id)
    earliest = max(OPEN_AT_MOST_BEFORE, ctx.options.of(MeetingSettings).checkin_opens_before)
    if meeting.checkin_opened_at is None and meeting.starts_at - ctx.now > earliest:
        raise UserError("checkin.too_early", meeting=describe(meeting))


@feature.command("checkin_open", roles=COMMITTEE_UP, aliases=("开始签到",))
async def checkin_open(ctx: Context, args: str) -> Replies:
    meeting = await _staff_meeting(ctx, args, "checkin_open")
    _check_open(ctx, meeting)
    await open_checkin(ctx, meeting, ctx.now)
    await post_code(ctx.session, meeting, ctx.now)  # once, however often it is opened
    return code_reply(meeting, ctx.now)


@feature.command("checkin_code", roles=COMMITTEE_UP, hidden=True, keeps_flow=True)
async def checkin_code(ctx: Context, args: str) -> Replies:
    """The 刷新 button: the current code, in place of the old one."""
    meeting = await _staff_meeting(ctx, args, "checkin_open")
    _check_open(ctx, meeting)
    if meeting.checkin_opened_at is None:
        raise UserError("checkin.closed", meeting=describe(meeting))
    reply = code_reply(meeting, ctx.now)
    return Reply(reply.text, reply.buttons, edit=ctx.incoming.callback_data is not None)


async def _record(ctx: Context, meeting: Meeting, mode: str) -> Reply:
    """Check the caller in: online for a remote intern, late after the grace time."""
    member = ctx.require_caller()
    remote = member.is_remote_on(ctx.today)
    presence = Presence.ONLINE if remote else Presence.PRESENT
    late = is_late(meeting, ctx.now, ctx.options.of(MeetingSettings).checkin_grace)
    mode = "online" if remote else mode
    record = (meeting.id, member.id, presence, ctx.now)
    if not await meetings.record(ctx.session, *record, late=late, mode=mode):
        existing = await meetings.attendance(ctx.session, meeting.id, member.id)
        if existing is None or existing.presence != Presence.EXCUSED:
            at = existing.at if existing else ctx.now
            return Reply(Msg("checkin.already", meeting=describe(meeting), at=at))
        # On leave, but came after all: they were there.
        existing.presence, existing.late, existing.mode, existing.at = presence, late, mode, ctx.now
    await ctx.trace(
        "checkin.recorded",
        branch_id=meeting.branch_id,
        ref=meeting_ref(meeting.id),
        member_id=member.id,
        data={"mode": mode, "late": late, "presence": presence.value},
    )
    key = "checkin.ok_late" if late else "checkin.ok"
    return Reply(Msg(key, meeting=describe(meeting), mode=Msg(f"checkin.mode_{mode}")))


def _in_scope(meeting: Meeting, member: Member) -> bool:
    mine = meeting.branch_id is None or meeting.branch_id == member.branch_id
    return mine and meetings.attends(meeting, member.role)


def _matches(meeting: Meeting, code: str, now: datetime) -> bool:
    """The current code or the one before it (a minute's grace), never a future one."""
    generator = totp(meeting)
    step = timedelta(seconds=generator.interval)
    return code in (generator.at(now), generator.at(now - step))


def _open(meeting: Meeting, now: datetime) -> bool:
    return meeting.status == MeetingStatus.SCHEDULED and now < ends_at(meeting)


def _expired(meeting: Meeting, code: str, now: datetime) -> bool:
    generator = totp(meeting)
    step = generator.interval
    return any(
        generator.at(now.timestamp() - k * step) == code for k in range(2, EXPIRED_WINDOWS + 1)
    )


# In a group answered privately without a note: the group never learns who checked in.
@feature.command("checkin", roles=EVERYONE, aliases=("签到",), in_group=QUIETLY)
async def checkin(ctx: Context, args: str) -> Replies:
    code = args.replace(" ", "")
    if not (len(code) == 6 and code.isdigit()):
        raise UserError("usage", usage=Msg("cmd.checkin.usage"))
    member = ctx.require_caller()
    candidates = await meetings.recently_opened(ctx.session, ctx.now)
    mine = [m for m in candidates if _in_scope(m, member)]
    for meeting in mine:
        if _open(meeting, ctx.now) and _matches(meeting, code, ctx.now):
            return await _record(ctx, meeting, "code")
    for meeting in candidates:
        if _matches(meeting, code, ctx.now) or _expired(meeting, code, ctx.now):
            if not _in_scope(meeting, member):
                raise UserError("checkin.other_branch")
            if not _open(meeting, ctx.now):
                raise UserError("checkin.closed", meeting=describe(meeting))
            raise UserError("checkin.expired")
    if not any(_open(m, ctx.now) for m in mine):
        raise UserError("checkin.nothing_open")
    raise UserError("checkin.wrong_code")


def distance_m(a: Location, latitude: float, longitude: float) -> float:
    """Great-circle distance in metres (haversine; plenty for a few hundred metres)."""
    lat1, lat2 = math.radians(a.latitude), math.radians(latitude)
    dlat, dlon = lat2 - lat1, math.radians(longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


@feature.on_location
async def checkin_by_location(ctx: Context, where: Location) -> Replies:
    """A shared location checks the member in to an open meeting whose venue is near."""
    member = ctx.require_caller()
    if member.branch_id is None:
        raise UserError("error.no_branch")
    placed = [
        m
        for m in await meetings.open_for_checkin(ctx.session, member.branch_id, ctx.now)
        if m.latitude is not None and m.longitude is not None
    ]
    if not placed:
        raise UserError("checkin.no_location_meeting")
    nearest = min(placed, key=lambda m: distance_m(where, m.latitude or 0, m.longitude or 0))
    away = distance_m(where, nearest.latitude or 0, nearest.longitude or 0)
    radius = ctx.options.of(MeetingSettings).checkin_radius_meters
    if away > radius:
        raise UserError(
            "checkin.too_far", meeting=describe(nearest), away=round(away), radius=radius
        )
    return await _record(ctx, nearest, "location")


@feature.command("attendance", roles=COMMITTEE_UP, aliases=("出勤", "考勤"), private_only=True)
async def attendance(ctx: Context, args: str) -> Replies:
    """Who came; names of others, so the view is traced."""
    meeting = await _staff_meeting(ctx, args, "attendance")
    scope = ctx.branch_scope()
    await ctx.trace(
        "data.viewed",
        branch_id=meeting.branch_id,
        ref=meeting_ref(meeting.id),
        data={"what": "attendance"},
    )
    return Reply(await summary_msg(ctx.session, meeting, scope))
