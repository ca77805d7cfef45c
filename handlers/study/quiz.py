"""每日答题: a round of questions answered by buttons or by text, one at a time.

The round lives in its `Quiz` row, so a button works however long the member took and a
round can be picked up later the same day; the chat's flow only says that typed text is an
answer. Only the day's first round counts towards the record; more are practice.
"""

from dataclasses import replace
from datetime import timedelta
from typing import Any

from handlers.core.context import Context
from handlers.core.messages import Button, Msg, Reply, UserError
from handlers.core.parsing import parse_id
from handlers.core.registry import EVERYONE, Replies
from handlers.study import answers
from handlers.study.feature import feature
from handlers.study.pick import pick
from handlers.study.settings import StudySettings
from storage import people, quizzes
from storage.enums import QuestionKind, QuizMode
from storage.models import Member, Question, Quiz, QuizAnswer
from storage.quizzes import quiz_ref

FLOW = "quiz"
RECENT = timedelta(days=30)  # a question answered this recently is not asked again
RECORD = timedelta(days=180)  # the answers that say which tags are weak
MAX_TYPED = 100
CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTI)


@feature.command("quiz", roles=EVERYONE, aliases=("答题", "每日答题"), private_only=True)
async def quiz(ctx: Context, args: str) -> Replies:
    """Pick up today's unfinished round, or start the day's quiz (practice once it is done)."""
    if args:
        raise UserError("quiz.no_args")
    member = ctx.require_caller()
    await people.lock_member(ctx.session, member.id)
    rounds = await quizzes.rounds_on(ctx.session, member.id, ctx.today)
    running = next((r for r in reversed(rounds) if r.finished_at is None), None)
    if running is not None:
        await ctx.start_flow(FLOW, "answer", {"quiz": running.id})
        intro = Reply(Msg("quiz.resumed", left=len(running.question_ids) - running.position))
        return [intro, await _ask(ctx, running)]
    mode = QuizMode.PRACTICE if any(r.counted for r in rounds) else QuizMode.DAILY
    ids = await _choose(ctx, member, len(rounds))
    if not ids:
        raise UserError("quiz.empty_bank")
    return await begin(ctx, member, mode, ids)


async def _choose(ctx: Context, member: Member, rounds: int) -> list[int]:
    session = ctx.session
    bank = await quizzes.bank(session)
    recent = await quizzes.recent_questions(session, member.id, ctx.now - RECENT)
    record = await quizzes.tag_record(session, member.id, ctx.now - RECORD)
    seed = f"{member.id}:{ctx.today}:{rounds}"
    return pick(
        bank, ctx.options.of(StudySettings).quiz_size, recent=recent, record=record, seed=seed
    )


async def begin(ctx: Context, member: Member, mode: QuizMode, ids: list[int]) -> list[Reply]:
    """Start a round of the given questions and ask the first."""
    round_ = Quiz(
        member_id=member.id,
        branch_id=member.branch_id,
        day=ctx.today,
        mode=mode,
        counted=mode == QuizMode.DAILY,
        question_ids=ids,
        asked_at=ctx.now,
        started_at=ctx.now,
    )
    ctx.session.add(round_)
    await ctx.session.flush()
    data = {"mode": str(mode), "counted": round_.counted, "questions": ids}
    await ctx.trace("quiz.started", member_id=member.id, ref=quiz_ref(round_.id), data=data)
    await ctx.start_flow(FLOW, "answer", {"quiz": round_.id})
    intro = Reply(Msg(f"quiz.begin_{mode}", count=len(ids)))
    return [intro, await _ask(ctx, round_)]


async def _current(ctx: Context, round_: Quiz) -> Question:
    qid = round_.question_ids[round_.position]
    question = (await quizzes.questions(ctx.session, [qid])).get(qid)
    if question is None:
        raise UserError("quiz.over")
    return question


async def _ask(ctx: Context, round_: Quiz) -> Reply:
    return ask(round_, await _current(ctx, round_))


def question_text(round_: Quiz, question: Question) -> Msg:
    options = [f"{answers.LETTERS[i]}. {text}" for i, text in enumerate(question.options)]
    return Msg(
        "quiz.question",
        no=round_.position + 1,
        total=len(round_.question_ids),
        kind=Msg(f"quiz.kind.{question.kind}"),
        stem=question.stem,
        options=options,
        hint=Msg(f"quiz.hint.{question.kind}"),
    )


def ask(round_: Quiz, question: Question) -> Reply:
    """The question with its buttons: letters, 对/错, or none for a blank (typed)."""
    prefix = f"/qa {round_.id} {round_.position + 1}"  # 1-based: the number shown
    kind = question.kind
    if kind == QuestionKind.BLANK:
        return Reply(question_text(round_, question))
    if kind == QuestionKind.JUDGE:
        row = tuple(
            Button(Msg(f"quiz.{v}"), f"{prefix} {v}") for v in (answers.TRUE, answers.FALSE)
        )
        return Reply(question_text(round_, question), (row,))
    letters = answers.LETTERS[: len(question.options)]
    if kind == QuestionKind.SINGLE:
        row = tuple(Button(Msg("quiz.letter", letter=c), f"{prefix} {c}") for c in letters)
        return Reply(question_text(round_, question), (row,))
    marks = tuple(
        Button(
            Msg("quiz.letter_on" if c in round_.selection else "quiz.letter", letter=c),
            f"{prefix} +{c}",
        )
        for c in letters
    )
    submit = (Button(Msg("quiz.submit"), f"{prefix} ok"),)
    return Reply(question_text(round_, question), (marks, submit))


@feature.command("qa", roles=EVERYONE, hidden=True, keeps_flow=True, private_only=True)
async def answer_button(ctx: Context, args: str) -> Replies:
    """A pressed answer button: `/qa QUIZ POSITION CHOICE` (+X toggles, ok submits)."""
    member = ctx.require_caller()
    parts = args.split()
    quiz_id, number = (parse_id(p) for p in parts[:2]) if len(parts) == 3 else (None, None)
    round_ = await quizzes.locked(ctx.session, quiz_id) if quiz_id else None
    if round_ is None or round_.member_id != member.id or number is None:
        raise UserError("quiz.unknown_button")
    if round_.finished_at is not None or number != round_.position + 1:
        return Reply(Msg("quiz.already_answered"))
    if round_.day != ctx.today:
        return await _expire(ctx, round_)
    question = await _current(ctx, round_)
    choice = parts[2]
    if question.kind == QuestionKind.MULTI and choice.startswith("+"):
        letter = choice[1:]
        if len(letter) != 1 or letter not in answers.LETTERS[: len(question.options)]:
            raise UserError("quiz.unknown_button")
        picked = set(round_.selection) ^ {letter}
        round_.selection = "".join(sorted(picked))
        return replace(ask(round_, question), edit=True)
    given = (
        round_.selection
        if choice == "ok"
        else answers.canonical(question.kind, choice, len(question.options))
    )
    if not given or (question.kind == QuestionKind.SINGLE and len(given) != 1):
        return Reply(Msg("quiz.pick_first"))
    await ctx.start_flow(FLOW, "answer", {"quiz": round_.id})  # typed answers go on working
    return await settle(ctx, round_, question, given, edited=True)


@feature.flow(FLOW, roles=EVERYONE)
async def answer_typed(ctx: Context, step: str, data: dict[str, Any], text: str) -> Replies:
    """A typed answer: letters or 对/错 for those questions, the words for a blank."""
    ctx.require_caller()
    round_ = await quizzes.locked(ctx.session, int(data["quiz"]))
    if round_ is None or round_.finished_at is not None:
        await ctx.end_flow()
        return Reply(Msg("quiz.over"))
    if round_.day != ctx.today:
        return await _expire(ctx, round_)
    question = await _current(ctx, round_)
    if question.kind == QuestionKind.BLANK:
        typed = ctx.typed(text) if text else ""
        if not answers.has_words(typed):
            return Reply(blank_form(question))  # asked again: the question is not used up
        if len(typed) > MAX_TYPED:
            raise UserError("quiz.too_long", limit=MAX_TYPED)
        return await settle(ctx, round_, question, typed, edited=False)
    if not text:
        return Reply(Msg(f"quiz.hint.{question.kind}"))
    given = answers.canonical(question.kind, text, len(question.options))
    if given is None or (question.kind == QuestionKind.SINGLE and len(given) != 1):
        return Reply(Msg(f"quiz.hint.{question.kind}"))
    return await settle(ctx, round_, question, given, edited=False)


def blank_form(question: Question) -> Msg:
    """What a blank wants, for an answer with no words in it: how many blanks, and how to
    separate them."""
    count = len(answers.blanks(question.answer))
    return Msg(
        "quiz.no_words",
        form=Msg("quiz.blank_one" if count == 1 else "quiz.blank_many", count=count),
    )


async def _expire(ctx: Context, round_: Quiz) -> Reply:
    """A round left unfinished on an earlier day: closed, and never counted (a day's record
    is made that day)."""
    round_.finished_at = ctx.now
    round_.counted = False
    await ctx.end_flow()
    data = {"score": round_.correct, "total": len(round_.question_ids), "expired": True}
    await ctx.trace(
        "quiz.completed", member_id=round_.member_id, ref=quiz_ref(round_.id), data=data
    )
    start = Button(Msg("quiz.start_button"), "/quiz")
    return Reply(Msg("quiz.expired", day=round_.day), ((start,),))


async def settle(
    ctx: Context, round_: Quiz, question: Question, given: str, *, edited: bool
) -> list[Reply]:
    """Record the answer, say whether it was right and why, then ask the next or finish."""
    member = ctx.require_caller()
    correct = answers.is_right(question.kind, question.stem, question.answer, given)
    seconds = round(max((ctx.now - round_.asked_at).total_seconds(), 0.0), 1)
    ctx.session.add(
        QuizAnswer(
            quiz_id=round_.id,
            position=round_.position,
            member_id=member.id,
            question_id=question.id,
            given=given[:MAX_TYPED],
            correct=correct,
            seconds=seconds,
            at=ctx.now,
        )
    )
    await quizzes.note_result(ctx.session, member.id, question.id, correct, ctx.now)
    data = {"question": question.code, "correct": correct, "seconds": seconds}
    await ctx.trace("quiz.answered", member_id=member.id, ref=quiz_ref(round_.id), data=data)
    verdict = _verdict(round_, question, given, correct, edited)
    round_.correct += int(correct)
    round_.position += 1
    round_.selection = ""
    round_.asked_at = ctx.now
    if round_.position < len(round_.question_ids):
        return [verdict, await _ask(ctx, round_)]
    return [verdict, await _finish(ctx, round_)]


def _verdict(round_: Quiz, question: Question, given: str, correct: bool, edited: bool) -> Reply:
    shown = answers.shown_answer(question.kind, question.answer, question.options)
    verdict = Msg(
        "quiz.right" if correct else "quiz.wrong",
        answer=shown,
        explanation=question.explanation or "-",
        source=question.source or "-",
    )
    if not edited:
        return Reply(verdict)
    # The pressed question's message becomes the question with its verdict, buttons gone.
    return Reply(
        Msg("quiz.marked", question=question_text(round_, question), given=given, verdict=verdict),
        edit=True,
    )


async def _finish(ctx: Context, round_: Quiz) -> Reply:
    member = ctx.require_caller()
    round_.finished_at = ctx.now
    await ctx.end_flow()
    streak = await streak_of(ctx, member.id) if round_.counted else 0
    total = len(round_.question_ids)
    data = {"score": round_.correct, "total": total, "counted": round_.counted, "streak": streak}
    await ctx.trace("quiz.completed", member_id=member.id, ref=quiz_ref(round_.id), data=data)
    left = len(await quizzes.open_mistakes(ctx.session, member.id))
    buttons = [Button(Msg("quiz.again_button"), "/quiz")]
    if left:
        buttons.append(Button(Msg("quiz.mistakes_button", count=left), "/mistakes"))
    buttons.append(Button(Msg("quiz.rank_button"), "/rank"))
    text = Msg(
        f"quiz.done_{round_.mode}", score=round_.correct, total=total, streak=streak, left=left
    )
    return Reply(text, (tuple(buttons),))


async def streak_of(ctx: Context, member_id: int) -> int:
    """Days in a row, up to today, on which the member did the daily quiz."""
    days = await quizzes.counted_days(ctx.session, member_id, ctx.today - timedelta(days=400))
    streak, day = 0, ctx.today
    while day in days:
        streak += 1
        day -= timedelta(days=1)
    return streak
