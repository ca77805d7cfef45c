"""/survey_results (问卷结果): a survey's answers counted per question, as text and charts;
its open answers read with jieba (hot words, key phrases, topic groups); and study topics
for the next 党课 or 主题党日 suggested from them.

An anonymous survey with fewer answers than `survey_min_answers` shows only how many it has:
with so few, a percentage or a quoted answer could point at one person.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from handlers.common.charts import Bars, bar_chart, chart_or_none, chart_reply, panels_chart
from handlers.common.freetext import quoted
from handlers.core.context import Context
from handlers.core.messages import Denied, Msg, Reply, Series, UserError
from handlers.core.parsing import parse_id
from handlers.core.registry import SECRETARY_UP, Replies
from handlers.core.tracer import or_own
from handlers.study.index import current_index
from handlers.study.text import terms
from handlers.surveys.analysis import (
    Group,
    HotWord,
    MaterialWords,
    Suggestion,
    group_by_topic,
    hot_words,
    key_phrases,
    question_words,
    recurring,
    suggest,
)
from handlers.surveys.feature import feature
from handlers.surveys.settings import SurveySettings
from storage import materials, meetings, surveys
from storage.survey_models import Survey
from storage.surveys import Answer, Ballot, survey_ref

CHOICE_KINDS = ("single", "multi")
SCALE = range(1, 6)
SHOWN_WORDS = 8  # hot words listed and charted per open question
SHOWN_PHRASES = 5
EXAMPLES = 3  # answers quoted per topic group
EXAMPLE_LENGTH = 80  # characters of an answer quoted
PANELS_PER_IMAGE = 6  # questions per chart image: taller gets hard to read on a phone
SEARCHED = 10  # materials the search brings per hot word, for the suggestions


@dataclass(frozen=True)
class Tally:
    """A choice or scale question's answers counted: per option (A, B, ...) or per score
    (1 to 5); `answered` is how many did not skip it."""

    number: int
    kind: str
    text: str
    labels: tuple[str, ...]
    counts: tuple[int, ...]
    answered: int

    @property
    def mean(self) -> float | None:
        if self.kind != "scale" or not self.answered:
            return None
        return sum(score * n for score, n in zip(SCALE, self.counts, strict=True)) / self.answered


def tally(number: int, question: dict[str, Any], answers: Sequence[Answer]) -> Tally:
    """Count one choice or scale question. A multiple-choice answer counts once per option
    chosen, so its percentages (of those who answered) may add up to more than 100."""
    kind = str(question.get("kind"))
    text = str(question.get("text", ""))
    if kind == "scale":
        scores = [a for a in answers if isinstance(a, int) and a in SCALE]
        counts = tuple(scores.count(s) for s in SCALE)
        return Tally(number, kind, text, tuple(str(s) for s in SCALE), counts, len(scores))
    options = [str(o) for o in question.get("options") or ()]
    counts_list = [0] * len(options)
    answered = 0
    for answer in answers:
        chosen = answer if isinstance(answer, list) else [answer]
        valid = {c for c in chosen if isinstance(c, int) and 0 <= c < len(options)}
        answered += bool(valid)
        for c in valid:
            counts_list[c] += 1
    labels = tuple(f"{chr(ord('A') + i)}. {o}" for i, o in enumerate(options))
    return Tally(number, kind, text, labels, tuple(counts_list), answered)


def percent(part: int, whole: int) -> str:
    """62.5, 60 or 0: one decimal at most, as a percentage of `whole`."""
    if not whole:
        return "0"
    return f"{100 * part / whole:.1f}".removesuffix(".0")


def _tally_text(t: Tally) -> Msg:
    if t.kind == "scale":
        lines = [
            Msg("survey_results.score", score=s, count=n, percent=percent(n, t.answered))
            for s, n in zip(SCALE, t.counts, strict=True)
        ]
        mean = f"{t.mean:.1f}" if t.mean is not None else "-"
        return Msg(
            "survey_results.scale",
            number=t.number,
            text=t.text,
            answered=t.answered,
            mean=mean,
            lines=lines,
        )
    lines = [
        Msg("survey_results.option", label=label, count=n, percent=percent(n, t.answered))
        for label, n in zip(t.labels, t.counts, strict=True)
    ]
    return Msg(
        f"survey_results.{t.kind}", number=t.number, text=t.text, answered=t.answered, lines=lines
    )


def _tally_bars(t: Tally) -> Bars:
    notes = [f"{n} · {percent(n, t.answered)}%" for n in t.counts]
    return Bars(f"{t.number}. {t.text}", t.labels, t.counts, notes)


@dataclass(frozen=True)
class OpenAnswers:
    """An open question's answers, with who wrote each (named surveys only)."""

    number: int
    text: str
    answers: tuple[str, ...]
    authors: tuple[int | None, ...]


def open_answers(number: int, question: dict[str, Any], ballots: Sequence[Ballot]) -> OpenAnswers:
    """The non-empty answers to open question `number` (1-based), in the ballots' order."""
    found: list[tuple[str, int | None]] = []
    for ballot in ballots:
        answer = ballot.answers[number - 1] if number <= len(ballot.answers) else None
        if isinstance(answer, str) and answer.strip():
            found.append((answer.strip(), ballot.member_id))
    return OpenAnswers(
        number,
        str(question.get("text", "")),
        tuple(text for text, _ in found),
        tuple(author for _, author in found),
    )


def _open_section(question: OpenAnswers, names: dict[int, str]) -> tuple[Msg, list[HotWord]]:
    """The text about one open question, and its hot words (for its chart). `names`: who
    wrote which answer, for a named survey."""
    if not question.answers:
        return Msg("survey_results.open_none", number=question.number, text=question.text), []
    ignore = question_words(question.text)
    hot = recurring(hot_words(question.answers, SHOWN_WORDS, ignore))
    phrases = key_phrases(question.answers, SHOWN_PHRASES, ignore)
    groups = [
        _group(group, question, names)
        for group in group_by_topic(question.answers, [h.word for h in hot])
    ]
    section = Msg(
        "survey_results.open",
        number=question.number,
        text=question.text,
        answered=len(question.answers),
        words=Series(Msg("survey_results.word", word=h.word, count=h.count) for h in hot),
        phrases=(
            Msg("survey_results.phrases", phrases=Series(h.word for h in phrases))
            if phrases
            else ""
        ),
        groups=groups,
    )
    return section, hot


def _group(group: Group, question: OpenAnswers, names: dict[int, str]) -> Msg:
    examples = []
    for index in group.answers[:EXAMPLES]:
        author = question.authors[index]
        name = names.get(author) if author is not None else None
        text = quoted(question.answers[index], inline=True, limit=EXAMPLE_LENGTH)
        if name is None:
            examples.append(Msg("survey_results.example", text=text))
        else:
            examples.append(Msg("survey_results.example_named", text=text, name=name))
    count = len(group.answers)
    if group.word is None:
        return Msg("survey_results.group_other", count=count, examples=examples)
    return Msg("survey_results.group", word=group.word, count=count, examples=examples)


async def _suggestions(ctx: Context, survey: Survey, opens: Sequence[OpenAnswers]) -> Msg | None:
    """Study topics from every open answer together, or None when there are none."""
    texts = [text for question in opens for text in question.answers]
    if not texts:
        return None
    ignore = set().union(*(question_words(q.text) for q in opens))
    hot = recurring(hot_words(texts, SHOWN_WORDS, ignore))
    found = suggest(hot, await _candidates(ctx, hot, survey.branch_id))
    if not found:
        return Msg("survey_results.suggest_none")
    lines = [_suggestion(number, s) for number, s in enumerate(found, 1)]
    return Msg("survey_results.suggest", lines=lines)


async def _candidates(
    ctx: Context, hot: Sequence[HotWord], branch_id: int | None
) -> list[MaterialWords]:
    """The materials the study search finds for the hot words, that the branch may read."""
    index = await current_index(ctx.session)
    ids: dict[int, None] = {}
    for word in hot:
        ids.update((mid, None) for mid, _ in index.top(terms(word.word), branch_id, SEARCHED))
    found = await materials.visible_among(ctx.session, list(ids), branch_id)
    return [
        MaterialWords(m.id, m.title, tuple(m.keywords or ()), frozenset(m.terms or {}))
        for m in found.values()
    ]


def _suggestion(number: int, found: Suggestion) -> Msg:
    words = Series(found.words)
    if found.material_id is None:
        return Msg("survey_results.suggest_topic", number=number, word=words, answers=found.answers)
    return Msg(
        "survey_results.suggest_material",
        number=number,
        id=found.material_id,
        title=found.title,
        words=words,
        answers=found.answers,
    )


def _head(ctx: Context, survey: Survey, answers: int) -> Msg:
    if survey.closed_at is not None or survey.deadline <= ctx.now:
        status = Msg("survey_results.closed", at=survey.closed_at or survey.deadline)
    else:
        status = Msg("survey_results.open_until", at=survey.deadline)
    kind = Msg("survey_results.anonymous" if survey.anonymous else "survey_results.named")
    return Msg(
        "survey_results.head",
        id=survey.id,
        title=survey.title,
        kind=kind,
        answers=answers,
        status=status,
    )


async def _find(ctx: Context, args: str) -> Survey:
    survey_id = parse_id(args) if args.strip() else None
    if survey_id is None:
        raise UserError("usage", usage=Msg("cmd.survey_results.usage"))
    survey = await surveys.get(ctx.session, survey_id)
    scope = ctx.branch_scope()
    if survey is None or (scope is not None and survey.branch_id != scope):
        usage = Msg("cmd.survey_results.usage")
        target, exists = f"survey:{survey_id}", survey is not None
        raise Denied(
            "survey_results.not_found", target=target, exists=exists, id=survey_id, usage=usage
        )
    return survey


@feature.command("survey_results", roles=SECRETARY_UP, aliases=("问卷结果",), private_only=True)
async def survey_results(ctx: Context, args: str) -> Replies:
    """`/survey_results ID`: the results, their charts and the suggested study topics."""
    survey = await _find(ctx, args)
    ballots = await surveys.ballots(ctx.session, ctx.box, survey.id)
    minimum = ctx.options.of(SurveySettings).survey_min_answers
    withheld = survey.anonymous and len(ballots) < minimum
    await ctx.trace(
        "survey.results_viewed",
        branch_id=or_own(survey.branch_id),
        ref=survey_ref(survey.id),
        data={"answers": len(ballots), "withheld": withheld},
    )
    head = _head(ctx, survey, len(ballots))
    if withheld:
        more = minimum - len(ballots)
        return Reply(Msg("survey_results.withheld", head=head, minimum=minimum, more=more))
    return await _results(ctx, survey, ballots, head)


async def _results(ctx: Context, survey: Survey, ballots: list[Ballot], head: Msg) -> list[Reply]:
    questions = list(survey.questions)
    tallies = [
        tally(n, q, [b.answers[n - 1] if n <= len(b.answers) else None for b in ballots])
        for n, q in enumerate(questions, 1)
        if q.get("kind") in (*CHOICE_KINDS, "scale")
    ]
    opens = [
        open_answers(n, q, ballots) for n, q in enumerate(questions, 1) if q.get("kind") == "text"
    ]
    overview = Msg(
        "survey_results.overview", head=head, questions=[_tally_text(t) for t in tallies]
    )
    replies = [Reply(overview if tallies else head)]
    for start in range(0, len(tallies), PANELS_PER_IMAGE):
        panels = [_tally_bars(t) for t in tallies[start : start + PANELS_PER_IMAGE]]
        about = f"/survey_results {survey.id} questions from {start + 1}"
        image = await asyncio.to_thread(chart_or_none, about, panels_chart, panels)
        replies.append(chart_reply(image, Msg("survey_results.chart_choices", id=survey.id)))
    authors = sorted({b.member_id for b in ballots if b.member_id is not None})
    names = {} if survey.anonymous else await meetings.names(ctx.session, authors)
    for question in opens:
        section, hot = _open_section(question, names)
        replies.append(Reply(section))
        if hot:
            title = f"{question.number}. {question.text}"
            bars = Bars(title, [h.word for h in hot], [h.count for h in hot])
            about = f"/survey_results {survey.id} words of question {question.number}"
            image = await asyncio.to_thread(chart_or_none, about, bar_chart, bars)
            caption = Msg("survey_results.chart_words", number=question.number)
            replies.append(chart_reply(image, caption))
    advice = await _suggestions(ctx, survey, opens)
    if advice is not None:
        replies.append(Reply(advice))
    return replies
