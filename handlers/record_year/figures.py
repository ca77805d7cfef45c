"""A member's year from the records (党员日常管理记实): computed each time from what is stored
and traced, never kept, by the membership true on each date.

The figures follow the evaluation's rules (handlers/evaluation: its stints, queries and dues
months): a member who moved is counted in each branch for their time there, and all of it is
theirs; one who left is counted up to the leaving. Meetings are the finalised ones they were
expected at, by kind; the rest comes from the traces, the dues books, the development file,
the archive, the 民主评议 grades and the moves of that year.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import reduce
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.periods import Period
from handlers.core.context import Options
from handlers.dues.standing import dues_rows
from handlers.evaluation.facts import dues_counts, evidence_for, joined_up
from handlers.evaluation.formulas import Facts
from handlers.evaluation.stints import Roster, Stint, roster_between
from handlers.votes.appraisal import APPRAISAL
from storage import archive, evidence, pipeline, roster, votes
from storage.chain import ChainState, chain_state
from storage.crypto import SecretBox
from storage.enums import MeetingKind
from storage.evidence import AttendanceCounts
from storage.models import Branch, Member, Trace
from storage.pipeline_models import StageChange
from storage.roster import Stretch
from storage.roster_models import ArchiveEntry
from storage.vote_models import AppraisalGrade

HONOURS = ("award", "punishment")


@dataclass(frozen=True)
class Stay:
    """A part of the year the member belonged to a branch: its name, first and last day."""

    branch: str
    first: date
    last: date


@dataclass
class YearRecord:
    member: Member
    year: int
    period: Period  # the year, up to today for the year in progress
    chain: ChainState
    stays: list[Stay] = field(default_factory=list)
    kinds: dict[str, AttendanceCounts] = field(default_factory=dict)
    facts: Facts | None = None
    steps: list[StageChange] = field(default_factory=list)
    honours: list[ArchiveEntry] = field(default_factory=list)
    grades: list[AppraisalGrade] = field(default_factory=list)
    moves: list[Trace] = field(default_factory=list)

    @property
    def attendance(self) -> AttendanceCounts:
        """All meetings of the year, every kind added up."""
        return reduce(_added, self.kinds.values(), AttendanceCounts())

    @property
    def member_then(self) -> bool:
        """They belonged to a branch at some time in the year."""
        return bool(self.stays)

    @property
    def nothing(self) -> bool:
        """Nothing at all was recorded of them that year."""
        facts = self.facts
        counted = facts is not None and (
            any(vars(facts.traces).values()) or facts.dues_owed or facts.dues_paid
        )
        events = self.kinds or self.steps or self.honours or self.grades or self.moves
        return not (counted or events)


def year_of(year: int, today: date) -> Period:
    return Period(date(year, 1, 1), date(year + 1, 1, 1)).clipped(today)


async def year_record(
    session: AsyncSession,
    box: SecretBox,
    member: Member,
    year: int,
    today: date,
    options: Options,
    chain: ChainState | None = None,
) -> YearRecord:
    """The member's record of `year` (up to `today`); `chain`: a check already made (a
    branch's records share one)."""
    period = year_of(year, today)
    record = YearRecord(member, year, period, chain or await chain_state(session, box))
    stretches = [
        Stretch(m.member_id, m.branch_id, m.since, m.until)
        for m in await roster.memberships_of(session, member.id)
    ]
    zone = options.timezone
    since, until = period.bounds(zone)
    stints = [
        s for s in Roster({member.id: member}, stretches).stints(since, until) if s.end > s.start
    ]
    if not stints:
        return record
    record.stays = [await _stay(session, s, zone) for s in stints]
    await _figures(session, record, stints, options)
    await _events(session, record, zone)
    return record


async def _events(session: AsyncSession, record: YearRecord, zone: ZoneInfo) -> None:
    """What happened in the member's file that year: development steps, awards and
    punishments, 民主评议 grades, transfers and leaving."""
    member_id, year = record.member.id, record.year
    whole = Period(date(year, 1, 1), date(year + 1, 1, 1))
    steps = (await pipeline.steps(session, [member_id]))[member_id]
    record.steps = [s for s in steps if whole.contains(s.on)]
    entries = await archive.entries_of(session, member_id)
    record.honours = [
        e for e in entries if e.kind in HONOURS and e.since and whole.contains(e.since)
    ]
    since, until = record.period.bounds(zone)
    record.grades = list(await votes.grades_of_member(session, member_id, APPRAISAL, since, until))
    moved = await roster.moves_traced(session, member_id)
    record.moves = [t for t in moved if whole.contains(_move_day(t, zone))]


async def _stay(session: AsyncSession, stint: Stint, zone: ZoneInfo) -> Stay:
    branch = await session.get(Branch, stint.branch_id)
    last = (stint.end - timedelta(microseconds=1)).astimezone(zone).date()
    return Stay(branch.name if branch else "-", stint.start.astimezone(zone).date(), last)


async def _figures(
    session: AsyncSession, record: YearRecord, stints: Sequence[Stint], options: Options
) -> None:
    """The counts of the stints, by the evaluation's queries and rules, added up; the
    meetings by kind over the same bounds the evaluation counts them in."""
    period, member, zone = record.period, record.member, options.timezone
    since, until = period.bounds(zone)
    found = await evidence_for(session, stints, since, until, False, ())
    windows = [s.window(period, zone) for s in stints]
    owed = dues_counts(stints, windows, period, options, await dues_rows(session, [member]))
    parts = []
    for stint, window, (payer, months, paid) in zip(stints, windows, owed, strict=True):
        attended, figures = found.of(stint)
        parts.append(Facts(member.stage, window, attended, figures, months, paid, payer))
        start, end = (since, until) if stint.whole else (stint.start, stint.end)
        for kind, counts in (
            await evidence.attendance_by_kind(session, member.id, start, end)
        ).items():
            record.kinds[kind] = _added(record.kinds.get(kind, AttendanceCounts()), counts)
    record.facts = joined_up(parts)


def _added(before: AttendanceCounts, more: AttendanceCounts) -> AttendanceCounts:
    return AttendanceCounts(
        before.present + more.present,
        before.online + more.online,
        before.late + more.late,
        before.excused + more.excused,
        before.absent + more.absent,
    )


def kinds_in_order(kinds: dict[str, AttendanceCounts]) -> list[str]:
    """The meeting kinds met, 三会一课 first as the enum lists them, then any other."""
    known = [k.value for k in MeetingKind if k.value in kinds]
    return known + sorted(k for k in kinds if k not in known)


def _move_day(trace: Trace, zone: ZoneInfo) -> date:
    """The day a move took effect (its `on`), else the day it was recorded."""
    on = (trace.data or {}).get("on")
    try:
        return date.fromisoformat(on) if isinstance(on, str) else trace.at.astimezone(zone).date()
    except ValueError:
        return trace.at.astimezone(zone).date()


async def branch_records(
    session: AsyncSession,
    box: SecretBox,
    branch: Branch,
    year: int,
    today: date,
    options: Options,
) -> list[YearRecord]:
    """The records of `year` a branch keeps: its members now and those who left it (their
    last branch), each for the whole of their year, wherever they were (the rule of /record:
    a member who moved away is the new branch's); by name. Members not in a branch that year
    have none."""
    chain = await chain_state(session, box)
    period = year_of(year, today)
    seen = await roster_between(session, branch.id, *period.bounds(options.timezone))
    ours = sorted(
        (m for m in seen.members.values() if m.branch_id == branch.id), key=lambda m: (m.name, m.id)
    )
    records = [await year_record(session, box, m, year, today, options, chain) for m in ours]
    return [r for r in records if r.member_then]
