"""/survey_new: a secretary builds a survey step by step and publishes it.

The steps: the title; then questions one at a time (the kind by buttons, its text, for choice
questions the options in one message) until 完成 or the 20th; the audience; the deadline;
实名 or 匿名; a preview with 发布. Buttons send their data back as the step's answer; a bad
answer is refused with a short message and the step stays where it was.
"""

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from handlers.core.context import Context
from handlers.core.messages import Button, Msg, Reply, UserError
from handlers.core.registry import SECRETARY_UP, Replies
from handlers.surveys.feature import feature
from handlers.surveys.publish import publish
from handlers.surveys.show import anonymity, headline, outline, start_button
from handlers.surveys.spec import (
    CHOICE_KINDS,
    KINDS,
    MAX_DAYS,
    MAX_OPTIONS,
    MAX_QUESTIONS,
    MIN_OPTIONS,
    Audience,
    Question,
    SurveySpec,
    check_deadline,
    check_options,
    check_question_text,
    check_title,
    parse_anonymous,
    parse_audience,
    parse_deadline,
    parse_kind,
    split_options,
)
from storage import surveys
from storage.enums import Role, Stage

FLOW = "survey_new"
Data = dict[str, Any]
Prompt = Callable[[Context, Data], Awaitable[Reply]]
# An answer names the next step, or is the final reply.
Answer = Callable[[Context, Data, str], Awaitable[str | Reply]]
DONE_WORDS = frozenset({"done", "完成", "好了", "结束"})
PUBLISH_WORDS = frozenset({"confirm:publish", "发布", "确认", "确认发布"})
# Steps answered by typing; a button pressed there belongs to an earlier step.
TYPED_STEPS = frozenset({"title", "text", "options", "deadline"})


def survey_branch(ctx: Context) -> int | None:
    """The branch a caller's survey is for; None (school-wide) for an admin without one."""
    caller = ctx.require_caller()
    if caller.branch_id is None and caller.role != Role.ADMIN:
        raise UserError("error.no_branch")
    return caller.branch_id


@feature.command(
    "survey_new", roles=SECRETARY_UP, aliases=("发问卷", "新建问卷"), private_only=True
)
async def survey_new(ctx: Context, args: str) -> Replies:
    """Start the guided form (a file is imported with `branchbot surveys import`)."""
    survey_branch(ctx)
    if args:
        raise UserError("usage", usage=Msg("cmd.survey_new.usage"))
    await ctx.start_flow(FLOW, "title", {})
    return await ask_title(ctx, {})


def _cancel_row() -> tuple[Button, ...]:
    return (Button(Msg("survey.cancel_button"), "/cancel"),)


def _questions(data: Data) -> list[Question]:
    return [Question.from_json(q) for q in data.get("questions", [])]


# The steps, in order: each has a prompt and an answer.


async def ask_title(ctx: Context, data: Data) -> Reply:
    return Reply(Msg("survey.ask_title"), (_cancel_row(),))


async def answer_title(ctx: Context, data: Data, text: str) -> str | Reply:
    data["title"] = check_title(ctx.typed(text))
    return "kind"


async def ask_kind(ctx: Context, data: Data) -> Reply:
    count = len(data.get("questions", []))
    kinds = tuple(Button(Msg(f"survey.kind.{k}"), f"kind:{k}") for k in KINDS)
    rows = [kinds]
    if count:
        rows.append((Button(Msg("survey.done_button", count=count), "done"),))
    text = Msg("survey.ask_kind", no=count + 1, limit=MAX_QUESTIONS)
    if count:
        text = Msg("survey.ask_kind_more", added=count, question=text)
    return Reply(text, (*rows, _cancel_row()))


async def answer_kind(ctx: Context, data: Data, text: str) -> str | Reply:
    if text in DONE_WORDS:
        if not data.get("questions"):
            raise UserError("survey.no_questions_yet")
        return "audience"
    data["kind"] = parse_kind(text.removeprefix("kind:"))
    return "text"


async def ask_text(ctx: Context, data: Data) -> Reply:
    no = len(data.get("questions", [])) + 1
    kind = Msg(f"survey.kind.{data['kind']}")
    return Reply(Msg("survey.ask_text", no=no, kind=kind), (_cancel_row(),))


async def answer_text(ctx: Context, data: Data, text: str) -> str | Reply:
    data["text"] = check_question_text(ctx.typed(text))
    if data["kind"] in CHOICE_KINDS:
        return "options"
    return _add_question(data, ())


async def ask_options(ctx: Context, data: Data) -> Reply:
    prompt = Msg("survey.ask_options", low=MIN_OPTIONS, high=MAX_OPTIONS)
    return Reply(prompt, (_cancel_row(),))


async def answer_options(ctx: Context, data: Data, text: str) -> str | Reply:
    return _add_question(data, check_options(split_options(ctx.typed(text))))


def _add_question(data: Data, options: tuple[str, ...]) -> str:
    question = Question(data.pop("kind"), data.pop("text"), options)
    data.setdefault("questions", []).append(question.to_json())
    return "audience" if len(data["questions"]) >= MAX_QUESTIONS else "kind"


async def ask_audience(ctx: Context, data: Data) -> Reply:
    school_wide = survey_branch(ctx) is None
    everyone = Audience("branch").describe(school_wide)
    stages = [Button(Msg(f"stage.{s}"), f"aud:{s}") for s in Stage]
    rows = (
        (Button(everyone, "aud:branch"), Button(Msg("survey.audience.interns"), "aud:interns")),
        tuple(stages[:3]),
        tuple(stages[3:]),
        _cancel_row(),
    )
    count = len(data.get("questions", []))
    full = Msg("survey.questions_full", limit=MAX_QUESTIONS) if count >= MAX_QUESTIONS else ""
    return Reply(Msg("survey.ask_audience", count=count, full=full), rows)


async def answer_audience(ctx: Context, data: Data, text: str) -> str | Reply:
    audience = parse_audience(text.removeprefix("aud:"))
    branch_id = survey_branch(ctx)
    members = await surveys.members_for(ctx.session, branch_id, audience.to_json(), ctx.today)
    if not members:
        raise UserError("survey.audience_empty", audience=audience.describe(branch_id is None))
    data["audience"] = audience.to_json()
    return "deadline"


async def ask_deadline(ctx: Context, data: Data) -> Reply:
    example = (ctx.now + timedelta(days=7)).astimezone(ctx.options.timezone).date()
    prompt = Msg("survey.ask_deadline", example=example, days=MAX_DAYS)
    return Reply(prompt, (_cancel_row(),))


async def answer_deadline(ctx: Context, data: Data, text: str) -> str | Reply:
    when = check_deadline(parse_deadline(text, ctx.options.timezone), ctx.now)
    data["deadline"] = when.isoformat()
    return "anonymous"


async def ask_anonymous(ctx: Context, data: Data) -> Reply:
    buttons = (
        Button(Msg("survey.named_button"), "anon:no"),
        Button(Msg("survey.anonymous_button"), "anon:yes"),
    )
    return Reply(Msg("survey.ask_anonymous"), (buttons, _cancel_row()))


async def answer_anonymous(ctx: Context, data: Data, text: str) -> str | Reply:
    data["anonymous"] = parse_anonymous(text.removeprefix("anon:"))
    return "confirm"


def _spec(data: Data) -> SurveySpec:
    return SurveySpec(
        data["title"],
        tuple(_questions(data)),
        Audience.from_json(data["audience"]),
        datetime.fromisoformat(data["deadline"]),
        bool(data["anonymous"]),
    )


async def ask_confirm(ctx: Context, data: Data) -> Reply:
    """A preview: the survey as members will see it, and who it goes to."""
    spec = _spec(data)
    branch_id = survey_branch(ctx)
    members = await surveys.members_for(ctx.session, branch_id, data["audience"], ctx.today)
    preview = Msg(
        "survey.preview",
        title=spec.title,
        questions=outline(list(spec.questions)),
        audience=spec.audience.describe(branch_id is None),
        count=len(members),
        deadline=spec.deadline,
        anonymity=anonymity(spec.anonymous),
    )
    publish_row = (Button(Msg("survey.publish_button"), "confirm:publish"),)
    return Reply(preview, (publish_row, _cancel_row()))


async def answer_confirm(ctx: Context, data: Data, text: str) -> str | Reply:
    if text not in PUBLISH_WORDS:
        raise UserError("survey.press_publish")
    caller = ctx.require_caller()
    published = await publish(
        ctx.session,
        ctx.box,
        _spec(data),
        branch_id=survey_branch(ctx),
        actor_id=caller.id,
        now=ctx.now,
        today=ctx.today,
        via="chat",
    )
    await ctx.end_flow()
    survey = published.survey
    text_msg = Msg(
        "survey.published",
        survey=headline(survey),
        questions=len(survey.questions),
        audience=published.audience,
        invited=published.invited,
        deadline=survey.deadline,
        id=survey.id,
    )
    mine = surveys.reaches(survey, caller, ctx.today)
    rows = ((start_button(survey),),) if mine else ()
    return Reply(text_msg, rows, edit=ctx.incoming.callback_data is not None)


STEPS: dict[str, tuple[Prompt, Answer]] = {
    "title": (ask_title, answer_title),
    "kind": (ask_kind, answer_kind),
    "text": (ask_text, answer_text),
    "options": (ask_options, answer_options),
    "audience": (ask_audience, answer_audience),
    "deadline": (ask_deadline, answer_deadline),
    "anonymous": (ask_anonymous, answer_anonymous),
    "confirm": (ask_confirm, answer_confirm),
}


@feature.flow(FLOW, roles=SECRETARY_UP)
async def survey_new_flow(ctx: Context, step: str, data: Data, text: str) -> Replies:
    if step not in STEPS:
        await ctx.end_flow()
        return Reply(Msg("survey.lost"))
    if step in TYPED_STEPS and ctx.incoming.callback_data is not None:
        raise UserError("survey.type_it")
    outcome = await STEPS[step][1](ctx, data, text)
    if isinstance(outcome, Reply):
        return outcome
    await ctx.start_flow(FLOW, outcome, data)
    reply = await STEPS[outcome][0](ctx, data)
    # A pressed button's question is replaced by the next one, keeping the chat tidy.
    return replace(reply, edit=ctx.incoming.callback_data is not None)
