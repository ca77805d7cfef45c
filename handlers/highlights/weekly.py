"""The week's highlights, posted to each group that asked for them on Monday morning: the
branch's daily-quiz leaderboard for the past week (top 5, as /rank ranks it) and its meeting
attendance and notice acknowledgement rates (the scorecard's branch rates for the week).
Only the leaders are named; a week with nothing recorded says so in one line."""

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.periods import Period
from handlers.core.context import Options
from handlers.core.messages import Msg, Reply
from handlers.core.notify import queue_to_chat
from handlers.evaluation.scorecard import branch_scorecard
from handlers.study.days import week_start
from handlers.study.progress import places
from storage import groups, outbox, quizzes
from storage.crypto import SecretBox
from storage.group_models import BranchGroup

TOP = 5  # places on the leaderboard shown (ties share a place, so maybe a few more names)


def last_week(now: datetime, options: Options) -> Period:
    """Monday to Sunday of the week before `now`'s, in the branch's zone."""
    monday = week_start(now.astimezone(options.timezone).date())
    return Period(monday - timedelta(days=7), monday)


async def groups_asking(session: AsyncSession) -> list[int]:
    """The bound branch groups that want the highlights (school-wide ones have no branch)."""
    found = await groups.bound_groups(session)
    return [g.id for g in found if g.highlights and g.branch_id is not None]


async def week_msg(
    session: AsyncSession, box: SecretBox, options: Options, branch_id: int, week: Period
) -> Msg:
    standings = await quizzes.leaderboard(session, branch_id, week.since, week.last_day)
    leaders = [
        Msg("highlights.leader", place=place, name=s.name, points=s.points, days=s.days)
        for place, s in places(standings)
        if place <= TOP
    ]
    card = await branch_scorecard(
        session, box, branch_id, week, options, with_previous=False, today=week.last_day
    )
    attendance, notices = card.branch_rates.get("attendance"), card.branch_rates.get("notices")
    if not leaders and attendance is None and notices is None:
        return Msg("highlights.quiet_week", since=week.since, until=week.last_day)
    return Msg(
        "highlights.post",
        since=week.since,
        until=week.last_day,
        leaders=leaders or Msg("highlights.no_quiz"),
        attendance=_rate(attendance, "highlights.no_meetings"),
        notices=_rate(notices, "highlights.no_notices"),
    )


def _rate(rate: float | None, none_key: str) -> Msg:
    return Msg(none_key) if rate is None else Msg("highlights.rate", percent=round(rate * 100))


async def post_to(
    session: AsyncSession, box: SecretBox, options: Options, group_id: int, now: datetime
) -> bool:
    """Queue last week's highlights to the group, once per group and week (the outbox key):
    False when it no longer wants them or they were queued already."""
    group = await session.get(BranchGroup, group_id)
    if group is None or not group.bound or not group.highlights or group.branch_id is None:
        return False
    week = last_week(now, options)
    key = f"highlights:{group.id}:{week.since.isoformat()}"
    if await outbox.has_key(session, key):
        return False
    reply = Reply(await week_msg(session, box, options, group.branch_id, week))
    await queue_to_chat(
        session,
        group.platform,
        group.chat_id,
        reply,
        key=key,
        kind="group_highlights",
        now=now,
        branch_id=group.branch_id,
    )
    return True
