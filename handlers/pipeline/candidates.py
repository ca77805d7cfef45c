"""`/candidates`: the eligible people side by side with every figure the record holds.

For choosing whom to propose as 发展对象 (the activists) or for awards (评优评先, 民主评议: all
members). No total is computed: each column keeps its parts and its meaning, the table can be
sorted by any of them, and it says in words that it informs the branch's decision.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.periods import Period
from handlers.core.context import Context, Options
from handlers.core.messages import Msg, Reply, Series, UserError
from handlers.core.registry import SECRETARY_UP, Replies
from handlers.dues.settings import DuesSettings
from handlers.pipeline.evidence import Evidence, gather
from handlers.pipeline.feature import feature
from handlers.pipeline.rules import Status
from storage import people
from storage.enums import Stage
from storage.models import Member

USAGE = "cmd.candidates.usage"
SHOWN = 30  # people listed in chat; the Excel export has everyone
VIEWS = {"candidates": (Stage.ACTIVIST,), "awards": (Stage.PROBATIONARY, Stage.FULL)}
VIEW_WORDS = {
    "发展对象": "candidates",
    "推荐": "candidates",
    "candidates": "candidates",
    "评优": "awards",
    "评优评先": "awards",
    "民主评议": "awards",
    "awards": "awards",
}


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Column:
    """One column: its key (catalog `candidates.col.<key>` and `candidates.meaning.<key>`),
    the value a row holds, and how it sorts (None last; higher first unless `ascending`)."""

    key: str
    value: Callable[[Evidence, date], Any]
    ascending: bool = False
    percent: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("name", lambda e, t: e.member.name, ascending=True),
    Column("stage", lambda e, t: e.member.stage, ascending=True),
    Column("days_in_stage", lambda e, t: e.days_in_stage(t)),
    Column("attended", lambda e, t: e.attendance.attended),
    Column("expected", lambda e, t: e.attendance.expected),
    Column(
        "attendance_rate",
        lambda e, t: _ratio(e.attendance.attended, e.attendance.expected),
        percent=True,
    ),
    Column("late", lambda e, t: e.attendance.late, ascending=True),
    Column("excused", lambda e, t: e.attendance.excused, ascending=True),
    Column("learned", lambda e, t: e.learned),
    Column("quiz_days", lambda e, t: e.quiz.days),
    Column("quiz_accuracy", lambda e, t: e.quiz.accuracy, percent=True),
    Column("reports", lambda e, t: e.thoughts.count),
    Column("volunteer_hours", lambda e, t: e.volunteer_minutes / 60),
    Column(
        "dues_owed_months", lambda e, t: len(e.dues.owed) if e.dues.payer else None, ascending=True
    ),
    Column("rules_met", lambda e, t: e.met),
    Column("rules_open", lambda e, t: len(e.open_checks), ascending=True),
)
BY_KEY = {c.key: c for c in COLUMNS}
SORT_WORDS = {
    "姓名": "name",
    "时长": "days_in_stage",
    "出勤": "attendance_rate",
    "迟到": "late",
    "学习": "learned",
    "答题": "quiz_days",
    "正确率": "quiz_accuracy",
    "汇报": "reports",
    "思想汇报": "reports",
    "志愿": "volunteer_hours",
    "志愿服务": "volunteer_hours",
    "党费": "dues_owed_months",
    "规定": "rules_open",
    **{c.key: c.key for c in COLUMNS},
}


def sort_rows(rows: list[Evidence], column: Column, today: date) -> list[Evidence]:
    """By the column, missing values last, then by name: the order never depends on luck.

    Names compare by code point, which is not pinyin order for every pair of names; pinyin
    collation would need a dictionary (pypinyin) and is left for when members ask for it."""
    present = [r for r in rows if column.value(r, today) is not None]
    missing = [r for r in rows if column.value(r, today) is None]
    present.sort(key=lambda r: r.member.name)
    present.sort(key=lambda r: column.value(r, today), reverse=not column.ascending)
    return present + sorted(missing, key=lambda r: r.member.name)


async def eligible(session: AsyncSession, branch_id: int, view: str) -> Sequence[Member]:
    stages = VIEWS[view]
    return [m for m in await people.branch_members(session, branch_id) if m.stage in stages]


async def table(
    session: AsyncSession, branch_id: int, view: str, today: date, options: Options
) -> tuple[Period, list[Evidence]]:
    period = Period.last_year(today)
    members = await eligible(session, branch_id, view)
    rows = await gather(
        session, members, today, period, options.timezone, options.of(DuesSettings).default_fen
    )
    return period, rows


def _parse(args: str) -> tuple[str, Column]:
    view, sort = "candidates", None
    for word in args.split():
        if word.lower() in VIEW_WORDS or word in VIEW_WORDS:
            view = VIEW_WORDS.get(word, VIEW_WORDS.get(word.lower(), view))
        elif word in SORT_WORDS or word.lower() in SORT_WORDS:
            sort = BY_KEY[SORT_WORDS.get(word, SORT_WORDS.get(word.lower(), "name"))]
        else:
            raise UserError("candidates.bad_word", word=word, usage=Msg(USAGE))
    default = "days_in_stage" if view == "candidates" else "name"
    return view, sort or BY_KEY[default]


def person_block(number: int, row: Evidence, today: date) -> Msg:
    attendance = row.attendance
    return Msg(
        "candidates.row",
        no=number,
        name=row.member.name,
        stage=Msg(f"stage.{row.member.stage}"),
        days=row.days_in_stage(today) if row.entered else "—",
        attended=attendance.attended,
        expected=attendance.expected,
        late=attendance.late,
        excused=attendance.excused,
        learned=row.learned,
        quiz_days=row.quiz.days,
        accuracy=f"{row.quiz.accuracy:.0%}" if row.quiz.accuracy is not None else "—",
        reports=row.thoughts.count,
        hours=f"{row.volunteer_minutes / 60:g}",
        dues=_dues(row),
        rules=_rules(row),
    )


def _rules(row: Evidence) -> Msg:
    """Rules met of those the record lets us check; what is not met by name; how many could
    not be checked (a date not entered, a step back-filled from the paper file). Someone
    whose whole development predates the bot, with no dates entered, has no rules to check."""
    if not row.checks:
        return Msg("candidates.rules_none")
    known = [c for c in row.checks if c.status != Status.UNKNOWN]
    unmet = [c.rule.name for c in known if c.status in (Status.UNMET, Status.OVERDUE)]
    unknown = len(row.checks) - len(known)
    return Msg(
        "candidates.rules",
        met=row.met,
        total=len(known),
        unmet=Msg("candidates.unmet", rules=Series(unmet)) if unmet else "",
        unknown=Msg("candidates.unknown", count=unknown) if unknown else "",
    )


def _dues(row: Evidence) -> Msg:
    if not row.dues.payer:
        return Msg("candidates.dues_none")
    if row.dues.owed:
        return Msg("candidates.dues_owed", months=len(row.dues.owed))
    return Msg("candidates.dues_clear")


@feature.command(
    "candidates", roles=SECRETARY_UP, aliases=("比较表", "推荐人选"), private_only=True
)
async def candidates(ctx: Context, args: str) -> Replies:
    """`/candidates [发展对象|评优] [排序列]`: the side-by-side table, in chat."""
    view, column = _parse(args)
    scope = ctx.branch_scope()
    caller = ctx.require_caller()
    branch_id = scope if scope is not None else caller.branch_id
    if branch_id is None:
        raise UserError("error.no_branch")
    period, rows = await table(ctx.session, branch_id, view, ctx.today, ctx.options)
    await ctx.trace(
        "candidates.viewed", branch_id=branch_id, data={"view": view, "people": len(rows)}
    )
    if not rows:
        return Reply(Msg(f"candidates.none_{view}"))
    ordered = sort_rows(rows, column, ctx.today)
    blocks = [person_block(i, row, ctx.today) for i, row in enumerate(ordered[:SHOWN], 1)]
    more = Msg("candidates.more", shown=SHOWN, count=len(rows)) if len(rows) > SHOWN else ""
    return Reply(
        Msg(
            "candidates.table",
            view=Msg(f"candidates.view_{view}"),
            since=period.since,
            until=ctx.today,
            sort=Msg(f"candidates.col.{column.key}"),
            rows=blocks,
            more=more,
        )
    )
