"""/survey ID: a member answers a survey question by question, by buttons or typing.

The answers so far are saved (encrypted) after each one, so the member can stop and send
/survey ID later to go on. The last answer casts the ballot into the survey's ballot box,
records that the member took part and deletes the progress, in one transaction; for an
anonymous survey nothing kept afterwards ties the answers to the member.
"""

from dataclasses import replace
from typing import Any

from handlers.core.context import Context
from handlers.core.messages import Button, Denied, Msg, Reply, Series, UserError
from handlers.core.parsing import parse_id
from handlers.core.registry import EVERYONE, Replies
from handlers.surveys import typed
from handlers.surveys.feature import feature
from handlers.surveys.show import anonymity, audience_of, headline, kind_name, option_lines
from handlers.surveys.spec import LETTERS, SCALE, Question
from storage import people, surveys
from storage.survey_models import Survey
from storage.surveys import Answer, Ballot, Draft, survey_ref

FLOW = "survey"
MAX_TEXT = 500
LABEL = 24  # characters of an option shown on its button


class Refused(UserError):
    """The member may not answer this survey now; a flow ends with it."""


def questions_of(survey: Survey) -> list[Question]:
    return [Question.from_json(q) for q in survey.questions]


async def answerable(ctx: Context, survey_id: int | None) -> Survey:
    """The survey, if the caller may answer it now; Refused says why not. Holds the
    caller's row, so two taps of one member line up."""
    member = ctx.require_caller()
    await people.lock_member(ctx.session, member.id)
    survey = await surveys.shared(ctx.session, survey_id) if survey_id else None
    if survey is None or survey.branch_id not in (None, member.branch_id):
        target, exists = f"survey:{survey_id}", survey is not None
        raise Denied("survey.not_found", target=target, exists=exists, id=survey_id or "-")
    if await surveys.has_taken_part(ctx.session, survey.id, member.id):
        raise Refused("survey.already_done", survey=headline(survey))
    if survey.closed_at is not None or survey.deadline <= ctx.now:
        raise Refused("survey.closed", survey=headline(survey))
    if not surveys.reaches(survey, member, ctx.today):
        raise Refused("survey.not_for_you", survey=headline(survey), audience=audience_of(survey))
    return survey


@feature.command("survey", roles=EVERYONE, aliases=("填问卷",), private_only=True)
async def survey_start(ctx: Context, args: str) -> Replies:
    """Start a survey, or go on where the member left off."""
    survey_id = parse_id(args) if args else None
    if survey_id is None:
        raise UserError("usage", usage=Msg("cmd.survey.usage"))
    survey = await answerable(ctx, survey_id)
    member = ctx.require_caller()
    row = await surveys.locked_progress(ctx.session, survey.id, member.id)
    count = len(survey.questions)
    if row is None:
        draft = Draft([], [])
        await surveys.save_draft(ctx.session, ctx.box, survey.id, member.id, draft, ctx.now)
        intro = Msg(
            "survey.intro",
            survey=headline(survey),
            count=count,
            deadline=survey.deadline,
            anonymity=anonymity(survey.anonymous),
            id=survey.id,
        )
    else:
        draft = surveys.read_draft(ctx.box, row)
        intro = Msg("survey.resumed", survey=headline(survey), no=len(draft.answers) + 1)
    await ctx.start_flow(FLOW, "answer", {"survey": survey.id})
    return [Reply(intro), ask(survey, draft)]


def _label(question: Question, i: int, picked: bool) -> Msg:
    text = question.options[i]
    short = text if len(text) <= LABEL else text[: LABEL - 1] + "…"
    return Msg("survey.option_on" if picked else "survey.option", letter=LETTERS[i], text=short)


def _buttons(survey: Survey, draft: Draft, question: Question) -> tuple[tuple[Button, ...], ...]:
    prefix = f"/sv {survey.id} {len(draft.answers) + 1}"  # 1-based: the number shown
    count = len(question.options)
    if question.kind == "single":
        return tuple(
            (Button(_label(question, i, False), f"{prefix} {i + 1}"),) for i in range(count)
        )
    if question.kind == "multi":
        toggles = tuple(
            (Button(_label(question, i, i in draft.selection), f"{prefix} +{i + 1}"),)
            for i in range(count)
        )
        submit = Button(Msg("survey.submit_button", count=len(draft.selection)), f"{prefix} ok")
        return (*toggles, (submit,))
    if question.kind == "scale":
        return (tuple(Button(Msg("survey.score", value=v), f"{prefix} {v}") for v in SCALE),)
    return ((Button(Msg("survey.skip_button"), f"{prefix} skip"),),)


def ask(survey: Survey, draft: Draft) -> Reply:
    """The member's current question, with its buttons."""
    questions = questions_of(survey)
    no = len(draft.answers) + 1
    question = questions[no - 1]
    options = option_lines(question)
    text = Msg(
        "survey.question",
        title=survey.title,
        no=no,
        total=len(questions),
        kind=kind_name(question.kind),
        text=question.text,
        options=Msg("survey.outline_options", lines=options) if options else "",
        hint=Msg(f"survey.hint.{question.kind}", limit=MAX_TEXT),
    )
    return Reply(text, _buttons(survey, draft, question))


@feature.command("sv", roles=EVERYONE, hidden=True, keeps_flow=True, private_only=True)
async def answer_button(ctx: Context, args: str) -> Replies:
    """A pressed answer button: `/sv SURVEY NUMBER CHOICE` (+N toggles, ok submits)."""
    parts = args.split()
    survey_id, number = (parse_id(p) for p in parts[:2]) if len(parts) == 3 else (None, None)
    if survey_id is None or number is None:
        raise UserError("survey.unknown_button")
    survey = await answerable(ctx, survey_id)
    member = ctx.require_caller()
    row = await surveys.locked_progress(ctx.session, survey.id, member.id)
    if row is None:
        raise UserError("survey.unknown_button")
    draft = surveys.read_draft(ctx.box, row)
    if number != len(draft.answers) + 1:
        moved_on = Msg("survey.moved_on", no=len(draft.answers) + 1)
        return [Reply(moved_on), ask(survey, draft)]
    await ctx.start_flow(FLOW, "answer", {"survey": survey.id})  # typed answers go on working
    question = questions_of(survey)[number - 1]
    choice = parts[2]
    if question.kind == "multi" and choice.startswith("+"):
        index = _option(choice[1:], question)
        draft.selection = sorted(set(draft.selection) ^ {index})
        await surveys.save_draft(ctx.session, ctx.box, survey.id, member.id, draft, ctx.now)
        return replace(ask(survey, draft), edit=True)
    return await settle(ctx, survey, draft, _pressed(question, choice, draft), pressed=True)


def _option(text: str, question: Question) -> int:
    if not text.isdigit() or not 1 <= int(text) <= len(question.options):
        raise UserError("survey.unknown_button")
    return int(text) - 1


def _pressed(question: Question, choice: str, draft: Draft) -> Answer:
    """The answer a button stands for."""
    if question.kind == "single":
        return _option(choice, question)
    if question.kind == "multi" and choice == "ok":
        if not draft.selection:
            raise UserError("survey.pick_first")
        return sorted(draft.selection)
    if question.kind == "scale" and choice.isdigit() and int(choice) in SCALE:
        return int(choice)
    if question.kind == "text" and choice == "skip":
        return None
    raise UserError("survey.unknown_button")


@feature.flow(FLOW, roles=EVERYONE)
async def answer_typed(ctx: Context, step: str, data: dict[str, Any], text: str) -> Replies:
    """A typed answer to the current question."""
    if ctx.incoming.callback_data is not None:  # a button of some earlier step
        return Reply(Msg("error.stale_button"))
    member = ctx.require_caller()
    try:
        survey = await answerable(ctx, int(data.get("survey", 0)))
    except (Refused, Denied) as refused:  # the survey it was started on: nothing probed
        await ctx.end_flow()
        return Reply(refused.msg)
    row = await surveys.locked_progress(ctx.session, survey.id, member.id)
    if row is None:
        await ctx.end_flow()
        return Reply(Msg("survey.start_again", id=survey.id))
    draft = surveys.read_draft(ctx.box, row)
    question = questions_of(survey)[len(draft.answers)]
    if not text:
        return Reply(Msg(f"survey.hint.{question.kind}", limit=MAX_TEXT))
    return await settle(ctx, survey, draft, _typed(ctx, question, text), pressed=False)


def _typed(ctx: Context, question: Question, text: str) -> Answer:
    if question.kind == "text":
        words = ctx.typed(text)
        if len(words) > MAX_TEXT:
            raise UserError("survey.too_long", limit=MAX_TEXT, length=len(words))
        return words
    if question.kind == "scale":
        value = typed.score(text)
        if value is None:
            raise UserError("survey.bad_score", value=text)
        return value
    picked = typed.choices(text, question.options)
    if not picked or (question.kind == "single" and len(picked) != 1):
        last = LETTERS[len(question.options) - 1]
        raise UserError(f"survey.bad_{question.kind}", value=text, last=last)
    return picked[0] if question.kind == "single" else picked


def shown(question: Question, answer: Answer) -> Msg | Series | str:
    """An answer as the member reads it back."""
    if answer is None:
        return Msg("survey.skipped")
    lines = option_lines(question)
    if isinstance(answer, list):
        return Series(lines[i] for i in answer)
    if question.kind == "single" and isinstance(answer, int):
        return lines[answer]
    if question.kind == "scale":
        return Msg("survey.score", value=answer)
    return str(answer)


async def settle(
    ctx: Context, survey: Survey, draft: Draft, answer: Answer, *, pressed: bool
) -> list[Reply]:
    """Keep the answer, then ask the next question or hand the ballot in."""
    member = ctx.require_caller()
    questions = questions_of(survey)
    no = len(draft.answers) + 1
    question = questions[no - 1]
    draft.answers.append(answer)
    draft.selection = []
    replies = []
    if pressed:  # the pressed question shows what was chosen, its buttons gone
        marked = Msg(
            "survey.marked",
            no=no,
            total=len(questions),
            text=question.text,
            given=shown(question, answer),
        )
        replies.append(Reply(marked, edit=True))
    if len(draft.answers) < len(questions):
        await surveys.save_draft(ctx.session, ctx.box, survey.id, member.id, draft, ctx.now)
        replies.append(ask(survey, draft))
    else:
        replies.append(await _hand_in(ctx, survey, draft))
    return replies


async def _hand_in(ctx: Context, survey: Survey, draft: Draft) -> Reply:
    """The last answer: the ballot goes into the box (with the member only on a named
    survey), the member is recorded as having taken part, the progress is deleted."""
    member = ctx.require_caller()
    ballot = Ballot(draft.answers, None if survey.anonymous else member.id)
    await surveys.cast(ctx.session, ctx.box, survey, ballot)
    await surveys.add_participant(ctx.session, survey.id, member.id)
    await surveys.drop_progress(ctx.session, survey.id, member.id)
    # Never what was answered: the trace says only that the member took part.
    await ctx.trace("survey.answered", member_id=member.id, ref=survey_ref(survey.id), data={})
    await ctx.end_flow()
    key = "survey.thanks_anonymous" if survey.anonymous else "survey.thanks_named"
    return Reply(Msg(key, survey=headline(survey)))
