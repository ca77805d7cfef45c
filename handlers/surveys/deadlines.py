"""Closing surveys, by hand (/survey_close) or at the deadline, and the one reminder a day
before it. The scheduler calls remind_and_close every hour; running it twice does nothing new.
"""

from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Context, Options
from handlers.core.messages import Denied, Msg, Reply, UserError
from handlers.core.notify import queue_each, queue_to_members
from handlers.core.parsing import parse_id
from handlers.core.registry import SECRETARY_UP, Replies
from handlers.core.tracer import SessionTracer
from handlers.surveys.feature import feature
from handlers.surveys.show import headline, results_button, start_button
from storage import surveys
from storage.crypto import SecretBox
from storage.survey_models import Survey
from storage.surveys import survey_ref

REMIND_BEFORE = timedelta(hours=24)


async def close(
    session: AsyncSession,
    box: SecretBox,
    survey: Survey,
    now: datetime,
    today: date,
    *,
    actor_id: int | None,
) -> tuple[int, int]:
    """Close the survey and forget every unfinished answer; returns (answers, audience),
    the audience being everyone it is for now and everyone who took part."""
    survey.closed_at = now
    await surveys.drop_progress(session, survey.id)
    answers = await surveys.answer_count(session, survey.id)
    audience = await surveys.audience_size(session, survey, today)
    data = {"answers": answers, "audience": audience, "early": survey.deadline > now}
    await SessionTracer(session, box, now, actor_id).trace(
        "survey.closed",
        branch_id=survey.branch_id,
        ref=survey_ref(survey.id),
        data=data,
    )
    return answers, audience


@feature.command("survey_close", roles=SECRETARY_UP, aliases=("结束问卷", "关闭问卷"))
async def survey_close(ctx: Context, args: str) -> Replies:
    """Close a survey of the caller's branch before its deadline (admins: any survey)."""
    survey_id = parse_id(args) if args else None
    if survey_id is None:
        raise UserError("usage", usage=Msg("cmd.survey_close.usage"))
    scope = ctx.branch_scope()
    survey = await surveys.locked(ctx.session, survey_id)
    if survey is None or (scope is not None and survey.branch_id != scope):
        target, exists = f"survey:{survey_id}", survey is not None
        raise Denied("survey.not_found", target=target, exists=exists, id=survey_id)
    if survey.closed_at is not None:
        raise UserError("survey.already_closed", survey=headline(survey), at=survey.closed_at)
    caller = ctx.require_caller()
    answers, audience = await close(
        ctx.session, ctx.box, survey, ctx.now, ctx.today, actor_id=caller.id
    )
    text = Msg("survey.closed_now", survey=headline(survey), answers=answers, audience=audience)
    return Reply(text, ((results_button(survey),),))


async def remind_and_close(
    session: AsyncSession, box: SecretBox, options: Options, now: datetime
) -> dict[str, int]:
    """Remind, once, those who have not finished a survey due within a day; close the
    surveys whose deadline has passed and tell their creators. Returns how many members
    were reminded and how many surveys closed."""
    today = now.astimezone(options.timezone).date()
    reminded = 0
    for survey in await surveys.to_remind(session, now, now + REMIND_BEFORE):
        # A survey published within its last day needs no reminder: the invitation is new.
        if survey.created_at <= survey.deadline - REMIND_BEFORE:
            reminded += await _remind(session, box, survey, now, today)
    closed = 0
    for survey in await surveys.to_close(session, now):
        await _close_and_tell(session, box, survey, now, today)
        closed += 1
    return {"reminded": reminded, "closed": closed}


async def _remind(
    session: AsyncSession, box: SecretBox, survey: Survey, now: datetime, today: date
) -> int:
    survey.reminded_at = now
    done = await surveys.took_part(session, survey.id)
    waiting = [m for m in await surveys.audience_ids(session, survey, today) if m not in done]
    started = await surveys.started_by(session, survey.id)
    fresh, resumed = _reminder(survey, resume=False), _reminder(survey, resume=True)
    ref = survey_ref(survey.id)
    reached = await queue_each(
        session,
        {m: resumed if m in started else fresh for m in waiting},
        key=f"{ref}:remind",
        kind="survey.reminder",
        now=now,
        refs=dict.fromkeys(waiting, ref),
    )
    await SessionTracer(session, box, now).trace(
        "survey.reminded",
        branch_id=survey.branch_id,
        ref=ref,
        data={"count": len(reached)},
    )
    return len(reached)


def _reminder(survey: Survey, *, resume: bool) -> Reply:
    key = "survey.reminder_resume" if resume else "survey.reminder"
    text = Msg(key, survey=headline(survey), deadline=survey.deadline)
    return Reply(text, ((start_button(survey, resume=resume),),))


async def _close_and_tell(
    session: AsyncSession, box: SecretBox, survey: Survey, now: datetime, today: date
) -> None:
    answers, audience = await close(session, box, survey, now, today, actor_id=None)
    # An imported survey has no creator: its branch's secretaries hear (school-wide: admins).
    creators = (
        [survey.created_by]
        if survey.created_by
        else await surveys.managers_of(session, survey.branch_id)
    )
    text = Msg("survey.closed_notice", survey=headline(survey), answers=answers, audience=audience)
    await queue_to_members(
        session,
        creators,
        Reply(text, ((results_button(survey),),)),
        key=f"{survey_ref(survey.id)}:closed",
        kind="survey.closed",
        now=now,
        ref=survey_ref(survey.id),
    )
