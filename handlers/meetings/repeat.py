"""/meeting_repeat: a meeting's next occurrences from a rule (主题党日 on the last Friday of
every month, 党小组会 on the 15th ...). Each occurrence is a meeting of its own, with its own
reminders, check-in and attendance; the rule's dates come from APScheduler's cron trigger."""

import re
from datetime import datetime, timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from handlers.core.context import Context
from handlers.core.messages import Msg, Reply, UserError
from handlers.core.registry import SECRETARY_UP, Replies
from handlers.meetings.domain import describe, meeting_for
from handlers.meetings.feature import feature
from handlers.meetings.parse import MeetingDraft
from handlers.meetings.schedule import create
from storage.enums import MeetingKind, Role

WEEKDAYS = {
    "一": "mon",
    "二": "tue",
    "三": "wed",
    "四": "thu",
    "五": "fri",
    "六": "sat",
    "日": "sun",
}
WEEKDAYS["天"] = "sun"
_WEEKDAY = "周|星期"
DEFAULT_COUNT = 6
MAX_COUNT = 24


def parse_rule(text: str) -> dict[str, Any]:
    """CronTrigger fields for 每月最后一个周五, 每月第2个周三, 每月15日, 每周一."""
    rule = text.strip()
    if m := re.fullmatch(rf"每月最后一个(?:{_WEEKDAY})([一二三四五六日天])", rule):
        return {"day": f"last {WEEKDAYS[m.group(1)]}"}
    if m := re.fullmatch(rf"每月第([1-5一二三四五])个(?:{_WEEKDAY})([一二三四五六日天])", rule):
        nth = "一二三四五".find(m.group(1)) + 1 or int(m.group(1))
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(nth, "th")
        return {"day": f"{nth}{suffix} {WEEKDAYS[m.group(2)]}"}
    if m := re.fullmatch(r"每月(\d{1,2})[日号]", rule):
        day = int(m.group(1))
        if 1 <= day <= 28:  # every month has it
            return {"day": day}
    if m := re.fullmatch(rf"每(?:{_WEEKDAY})([一二三四五六日天])", rule):
        return {"day_of_week": WEEKDAYS[m.group(1)]}
    raise UserError("repeat.bad_rule", value=text)


def occurrences(
    first: datetime, rule: dict[str, Any], count: int, after: datetime | None = None
) -> list[datetime]:
    """The first `count` dates the rule gives after `first` (and after `after`, so an old
    meeting can serve as the pattern), at the same time of day."""
    trigger = CronTrigger(hour=first.hour, minute=first.minute, timezone=first.tzinfo, **rule)
    found: list[datetime] = []
    previous = max(first, after) if after is not None else first
    while len(found) < count:
        following = trigger.get_next_fire_time(previous, previous + timedelta(seconds=1))
        if following is None:
            break
        found.append(following)
        previous = following
    return found


@feature.command("meeting_repeat", roles=SECRETARY_UP, aliases=("重复会议",), private_only=True)
async def meeting_repeat(ctx: Context, args: str) -> Replies:
    """`/meeting_repeat ID RULE [COUNT]`: the next COUNT occurrences after meeting ID."""
    parts = args.split()
    if len(parts) < 2:
        raise UserError("usage", usage=Msg("cmd.meeting_repeat.usage"))
    not_found = Msg("meeting.not_found", usage=Msg("cmd.meeting_repeat.usage"))
    meeting = await meeting_for(ctx.session, parts[0], ctx.branch_scope(), not_found)
    if meeting.branch_id is None and ctx.role != Role.ADMIN:
        raise UserError("meeting.school_wide", id=meeting.id)
    count = DEFAULT_COUNT
    if len(parts) > 2:
        given = re.fullmatch(r"(\d{1,3})\s*次?", parts[2])
        count = int(given.group(1)) if given else 0
    if not 1 <= count <= MAX_COUNT:
        raise UserError("repeat.bad_count", limit=MAX_COUNT)
    rule = parse_rule(parts[1])
    zone = ctx.options.timezone
    made = []
    pattern = meeting.starts_at.astimezone(zone)
    for when in occurrences(pattern, rule, count, after=ctx.now.astimezone(zone)):
        draft = MeetingDraft(
            when,
            MeetingKind(meeting.kind),
            meeting.title,
            meeting.place,
            meeting.online_link,
            meeting.minutes,
            meeting.latitude,
            meeting.longitude,
        )
        made.append(await create(ctx, draft, copy_of=meeting))
    return Reply(Msg("repeat.made", count=len(made), lines=[describe(m) for m in made]))
