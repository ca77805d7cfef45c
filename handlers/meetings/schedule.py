"""/meeting_new (one line or guided), /meetings, /meeting_cancel and /meeting_move."""

from dataclasses import replace
from datetime import datetime
from typing import Any

import pyotp

from handlers.core.context import Context
from handlers.core.messages import Button, Msg, Reply, UserError
from handlers.core.registry import EVERYONE, SECRETARY_UP, Replies
from handlers.meetings.domain import describe, leave_button, meeting_for, tell_members
from handlers.meetings.feature import feature
from handlers.meetings.group_posts import code_ref, redraw_code, tell_groups
from handlers.meetings.parse import (
    MeetingDraft,
    check_title,
    is_link,
    parse_kind,
    parse_minutes,
    parse_one_line,
    parse_when,
)
from storage import meetings
from storage.enums import MeetingKind, MeetingStatus, Role
from storage.meetings import ends_at, meeting_ref
from storage.models import Meeting
from storage.signals import AfterCommit

FLOW = "meeting_new"


def _scope(ctx: Context) -> int | None:
    """The branch a caller manages meetings for; None for an admin without one (school-wide)."""
    caller = ctx.require_caller()
    if caller.branch_id is None and caller.role != Role.ADMIN:
        raise UserError("error.no_branch")
    return caller.branch_id


def mark_changed(ctx: Context, meeting: Meeting) -> None:
    """Its reminders and check-in jobs must be (re)made by the scheduler."""
    meeting.jobs_synced = False
    AfterCommit.MEETINGS_CHANGED.raise_on(ctx.session)


async def create(ctx: Context, draft: MeetingDraft, copy_of: Meeting | None = None) -> Meeting:
    """A new meeting of the caller's branch (school-wide for an admin without one); as an
    occurrence of `copy_of`, of the same branch and series."""
    if draft.starts_at <= ctx.now:
        raise UserError("meeting.in_past", at=draft.starts_at)
    caller = ctx.require_caller()
    meeting = Meeting(
        branch_id=copy_of.branch_id if copy_of else _scope(ctx),
        series=str(copy_of.series or copy_of.id) if copy_of else None,
        kind=draft.kind,
        title=draft.title,
        starts_at=draft.starts_at,
        minutes=draft.minutes,
        place=draft.place,
        online_link=draft.link,
        latitude=draft.latitude,
        longitude=draft.longitude,
        status=MeetingStatus.SCHEDULED,
        checkin_secret=pyotp.random_base32(),
        created_by=caller.id,
        created_at=ctx.now,
    )
    ctx.session.add(meeting)
    mark_changed(ctx, meeting)
    await ctx.session.flush()
    await ctx.trace(
        "meeting.created",
        branch_id=meeting.branch_id,
        ref=meeting_ref(meeting.id),
        data={"kind": meeting.kind, "starts_at": meeting.starts_at.isoformat()},
    )
    return meeting


async def _created(ctx: Context, meeting: Meeting) -> Reply:
    """Tell the members (with a 请假 button) and answer the secretary."""
    link = Msg("meeting.link", link=meeting.online_link) if meeting.online_link else ""
    news = Reply(
        Msg("meeting.announce", meeting=describe(meeting), link=link), ((leave_button(meeting),),)
    )
    members = [
        m for m in await meetings.expected_ids(ctx.session, meeting) if m != ctx.require_caller().id
    ]
    key = f"{meeting_ref(meeting.id)}:created"
    told = await tell_members(
        ctx.session, meeting, news, key=key, kind="meeting.created", now=ctx.now, member_ids=members
    )
    in_group = Reply(Msg("meeting.group_announce", meeting=describe(meeting), link=link))
    await tell_groups(ctx.session, meeting, in_group, key=key, kind="meeting.created", now=ctx.now)
    return Reply(
        Msg(
            "meeting.created",
            meeting=describe(meeting),
            minutes=meeting.minutes,
            link=link,
            told=len(told),
        )
    )


@feature.command("meeting_new", roles=SECRETARY_UP, aliases=("新建会议",), private_only=True)
async def meeting_new(ctx: Context, args: str) -> Replies:
    _scope(ctx)
    if args:
        draft = parse_one_line(ctx.typed(args), ctx.options.timezone)
        return await _created(ctx, await create(ctx, draft))
    await ctx.start_flow(FLOW, "kind")
    return await _ask(ctx, "kind")


# The guided form: kind, time, title, place (or a shared location), link, duration.


async def _ask(ctx: Context, step: str) -> Reply:
    skip = (Button(Msg("meeting.skip"), "skip"),)
    cancel = (Button(Msg("broadcast.cancel_button"), "/cancel"),)
    if step == "kind":
        kinds = [Button(Msg(f"kind.{k}"), f"kind:{k}") for k in MeetingKind]
        return Reply(Msg("meeting.ask_kind"), (tuple(kinds[:3]), tuple(kinds[3:]), cancel))
    if step == "minutes":
        choices = tuple(Button(Msg("meeting.minutes", minutes=m), str(m)) for m in (60, 90, 120))
        return Reply(Msg("meeting.ask_minutes"), (choices, cancel))
    rows = (skip, cancel) if step in ("place", "link") else (cancel,)
    return Reply(Msg(f"meeting.ask_{step}"), rows)


async def _answer(ctx: Context, step: str, data: dict[str, Any], text: str) -> str | None:
    """Store the answer to `step`; returns the next step, or None when all is known."""
    location = ctx.incoming.location
    if step == "kind":
        data["kind"] = parse_kind(text.removeprefix("kind:"))
        return "when"
    if step == "when":
        when = parse_when(text, ctx.options.timezone)
        if when <= ctx.now:
            raise UserError("meeting.in_past", at=when)
        data["when"] = when.isoformat()
        return "title"
    if step == "title":
        data["title"] = check_title(ctx.typed(text))
        return "place"
    if step == "place":
        if location is not None:  # the venue, for location check-in; its name comes next
            data["lat"], data["lon"] = location.latitude, location.longitude
            return "place_name"
        data["place"] = None if text == "skip" else ctx.typed(text)[:100]
        return "link"
    if step == "place_name":
        data["place"] = None if text == "skip" else ctx.typed(text)[:100]
        return "link"
    if step == "link":
        if text != "skip" and not is_link(text):
            raise UserError("meeting.bad_link", value=text)
        data["link"] = None if text == "skip" else text
        return "minutes"
    minutes = parse_minutes(text, unit_required=False)
    if minutes is None:
        raise UserError("meeting.bad_minutes", value=text)
    data["minutes"] = minutes
    return None


@feature.flow(FLOW, roles=SECRETARY_UP, takes_location=True)
async def meeting_flow(ctx: Context, step: str, data: dict[str, Any], text: str) -> Replies:
    following = await _answer(ctx, step, data, text)
    if following is not None:
        await ctx.start_flow(FLOW, following, data)
        reply = await _ask(ctx, "place" if following == "place_name" else following)
        if following == "place_name":
            reply = replace(reply, text=Msg("meeting.ask_place_name"))
        return replace(reply, edit=ctx.incoming.callback_data is not None)
    await ctx.end_flow()
    draft = MeetingDraft(
        datetime.fromisoformat(data["when"]),
        data["kind"],
        data["title"],
        data.get("place"),
        data.get("link"),
        data["minutes"],
        data.get("lat"),
        data.get("lon"),
    )
    return await _created(ctx, await create(ctx, draft))


@feature.command("meetings", roles=EVERYONE, aliases=("会议", "近期会议"))
async def meeting_list(ctx: Context, args: str) -> Replies:
    caller = ctx.require_caller()
    upcoming = await meetings.upcoming(ctx.session, caller.branch_id, ctx.now, role=caller.role)
    if not upcoming:
        return Reply(Msg("meeting.none"))
    return Reply(Msg("meeting.list", lines=[describe(m) for m in upcoming]))


async def _managed(ctx: Context, args: str, command: str, *, not_begun: bool) -> Meeting:
    """A scheduled meeting the caller may change (their branch's; school-wide for admins);
    with `not_begun`, one that has not started yet."""
    not_found = Msg("meeting.not_found", usage=Msg(f"cmd.{command}.usage"))
    meeting = await meeting_for(ctx.session, args, _scope(ctx), not_found)
    if meeting.branch_id is None and ctx.role != Role.ADMIN:
        raise UserError("meeting.school_wide", id=meeting.id)
    if meeting.status != MeetingStatus.SCHEDULED:
        raise UserError(
            "meeting.not_scheduled", id=meeting.id, status=Msg(f"status.{meeting.status}")
        )
    if ctx.now >= (meeting.starts_at if not_begun else ends_at(meeting)):
        raise UserError("meeting.started", meeting=describe(meeting))
    return meeting


@feature.command("meeting_cancel", roles=SECRETARY_UP, aliases=("取消会议",))
async def meeting_cancel(ctx: Context, args: str) -> Replies:
    meeting = await _managed(ctx, args, "meeting_cancel", not_begun=False)  # it did not happen
    meeting.status = MeetingStatus.CANCELLED
    mark_changed(ctx, meeting)
    await redraw_code(ctx.session, code_ref(meeting), ctx.now)  # its check-in closed
    notice = Reply(Msg("meeting.cancelled_notice", meeting=describe(meeting)))
    key = f"{meeting_ref(meeting.id)}:cancelled"
    told = await tell_members(
        ctx.session, meeting, notice, key=key, kind="meeting.cancelled", now=ctx.now
    )
    await tell_groups(ctx.session, meeting, notice, key=key, kind="meeting.cancelled", now=ctx.now)
    await ctx.trace("meeting.cancelled", branch_id=meeting.branch_id, ref=meeting_ref(meeting.id))
    return Reply(Msg("meeting.cancelled", id=meeting.id, told=len(told)))


@feature.command("meeting_move", roles=SECRETARY_UP, aliases=("调整会议",))
async def meeting_move(ctx: Context, args: str) -> Replies:
    meeting = await _managed(ctx, args, "meeting_move", not_begun=True)
    rest = args.split(maxsplit=1)[1] if len(args.split(maxsplit=1)) > 1 else ""
    if not rest:
        raise UserError("usage", usage=Msg("cmd.meeting_move.usage"))
    when = parse_when(rest, ctx.options.timezone)
    if when <= ctx.now:
        raise UserError("meeting.in_past", at=when)
    before = meeting.starts_at
    meeting.starts_at = when
    if meeting.checkin_opened_at is not None:  # check-ins were for the old time
        opened = code_ref(meeting)
        meeting.checkin_opened_at = None
        await meetings.clear_checkins(ctx.session, meeting.id)
        await redraw_code(ctx.session, opened, ctx.now)  # the group's code post: closed
    mark_changed(ctx, meeting)
    notice = Reply(Msg("meeting.moved_notice", meeting=describe(meeting), before=before))
    key = f"{meeting_ref(meeting.id)}:moved:{int(ctx.now.timestamp())}"
    kind = "meeting.moved"
    told = await tell_members(ctx.session, meeting, notice, key=key, kind=kind, now=ctx.now)
    await tell_groups(ctx.session, meeting, notice, key=key, kind=kind, now=ctx.now)
    await ctx.trace(
        "meeting.moved",
        branch_id=meeting.branch_id,
        ref=meeting_ref(meeting.id),
        data={"from": before.isoformat(), "to": when.isoformat()},
    )
    return Reply(Msg("meeting.moved", meeting=describe(meeting), told=len(told)))
