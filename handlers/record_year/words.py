"""The annual record in words: the paper (a page of parts the edge writes as PDF or as a sheet)
and the compact answer in chat. Each figure comes from figures.YearRecord; the lines of the
development file, the archive and the moves are those features' own."""

from handlers.archive.lines import entry_line
from handlers.core.messages import Msg, Paper, PaperPart, PaperTable, Series
from handlers.evaluation.text import chain_note, chain_warning, figure, percent
from handlers.moves.history import HISTORY_LINES
from handlers.pipeline.view import step_lines
from handlers.record_year.figures import YearRecord, kinds_in_order
from storage.crypto import SecretBox
from storage.evaluation import TraceFigures
from storage.evidence import AttendanceCounts

# The meetings table's columns: the kind, then AttendanceCounts' fields and properties.
COLUMNS = ("kind", "held", "present", "late", "online", "excused", "absent")


def _cells(counts: AttendanceCounts) -> tuple[int, ...]:
    return tuple(getattr(counts, column) for column in COLUMNS[1:])


def _shares(counts: AttendanceCounts) -> dict[str, int]:
    """How the member took part (the brief's words after how many they were to attend)."""
    return {column: getattr(counts, column) for column in COLUMNS[2:]}


def _chain_line(record: YearRecord) -> Msg:
    """How far the trace chain was checked, or the warning that it is broken (one of the two
    always speaks)."""
    line = chain_warning(record.chain) or chain_note(record.chain)
    assert line is not None
    return line


def _traces(record: YearRecord) -> TraceFigures:
    return record.facts.traces if record.facts else TraceFigures()


def _meetings(record: YearRecord) -> PaperPart:
    title = Msg("record_year.part.meetings")
    if not record.kinds:
        return PaperPart(title, (Msg("record_year.no_meetings"),))
    rows = [(Msg(f"kind.{k}"), *_cells(record.kinds[k])) for k in kinds_in_order(record.kinds)]
    rows.append((Msg("record_year.total"), *_cells(record.attendance)))
    headers = tuple(Msg(f"record_year.col.{c}") for c in COLUMNS)
    return PaperPart(title, table=PaperTable(headers, tuple(rows)))


def _quiz(t: TraceFigures) -> Msg:
    rate = t.quiz_correct / t.quiz_answered if t.quiz_answered else None
    return Msg(
        "record_year.quiz",
        days=t.quiz_days,
        answered=t.quiz_answered,
        correct=t.quiz_correct,
        accuracy=percent(rate),
    )


def _acks(t: TraceFigures) -> Msg:
    rate = t.acknowledged / t.delivered if t.delivered else None
    return Msg("record_year.acks", delivered=t.delivered, acked=t.acknowledged, rate=percent(rate))


def _dues(record: YearRecord) -> Msg:
    facts = record.facts
    if facts is None or not facts.payer:
        return Msg("record_year.dues_none", stage=Msg(f"stage.{record.member.stage}"))
    return Msg("record_year.dues", owed=facts.dues_owed, paid=facts.dues_paid)


def _or_none(lines: list[Msg]) -> tuple[Msg, ...]:
    return tuple(lines) or (Msg("record_year.none"),)


def _grades(record: YearRecord) -> list[Msg]:
    return [
        Msg(
            "record_year.grade",
            grade=Msg(f"appraisal.grade.{g.grade}"),
            on=g.decided_at,
            reason=g.reason or "-",
        )
        for g in record.grades
    ]


def _moves(record: YearRecord) -> list[Msg]:
    return [HISTORY_LINES[t.kind](t.data or {}) for t in record.moves if t.kind in HISTORY_LINES]


def _parts(box: SecretBox, record: YearRecord) -> tuple[PaperPart, ...]:
    t = _traces(record)
    return (
        _meetings(record),
        PaperPart(
            Msg("record_year.part.study"), (Msg("record_year.learned", count=t.learned), _quiz(t))
        ),
        PaperPart(Msg("record_year.part.notices"), (_acks(t),)),
        PaperPart(Msg("record_year.part.dues"), (_dues(record),)),
        PaperPart(
            Msg("record_year.part.service"),
            (
                Msg("record_year.volunteer", hours=figure(t.volunteer_hours)),
                Msg("record_year.thoughts", count=t.thoughts),
            ),
        ),
        PaperPart(
            Msg("record_year.part.stages"),
            _or_none(step_lines(record.steps) if record.steps else []),
        ),
        PaperPart(
            Msg("record_year.part.honours"), _or_none([entry_line(box, e) for e in record.honours])
        ),
        PaperPart(Msg("record_year.part.appraisal"), _or_none(_grades(record))),
        PaperPart(Msg("record_year.part.moves"), _or_none(_moves(record))),
    )


def _stays(record: YearRecord) -> Msg:
    return Msg(
        "record_year.stays",
        stays=Series(
            Msg("record_year.stay", branch=s.branch, first=s.first, last=s.last)
            for s in record.stays
        ),
    )


def _span(record: YearRecord) -> Msg:
    """The days of the year the member belonged (joined or left in it: their part)."""
    return Msg("record_year.span", since=record.stays[0].first, until=record.stays[-1].last)


def record_paper(box: SecretBox, record: YearRecord, watermark: Msg) -> Paper:
    """The whole record, on one page where it fits."""
    member = record.member
    intro = (
        Msg("record_year.basis"),
        _chain_line(record),
        Msg("record_year.who", name=member.name, id=member.id, stage=Msg(f"stage.{member.stage}")),
        _span(record),
        _stays(record),
    )
    title = Msg("record_year.title", name=member.name, year=record.year)
    return Paper(title, intro, _parts(box, record), watermark)


def record_brief(record: YearRecord, trace_id: int) -> Msg:
    """The compact answer in chat, beside the PDF."""
    t, a = _traces(record), record.attendance
    grade = _grades(record)
    return Msg(
        "record_year.brief",
        name=record.member.name,
        year=record.year,
        span=_span(record),
        stays=_stays(record),
        chain=_chain_line(record),
        meetings=Msg("record_year.brief_meetings", held=a.held, **_shares(a)),
        quiz=_quiz(t),
        learned=t.learned,
        acks=_acks(t),
        dues=_dues(record),
        hours=figure(t.volunteer_hours),
        thoughts=t.thoughts,
        steps=len(record.steps),
        honours=len(record.honours),
        grade=grade[-1] if grade else Msg("record_year.none"),
        moves=len(record.moves),
        trace=trace_id,
    )
