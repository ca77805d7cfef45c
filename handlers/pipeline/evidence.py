"""Everything the record says about people, side by side: the figures behind a cultivation
file and the comparison table (/candidates). Each figure keeps its parts (9 of 10 meetings,
not 90 points), so a reader can see what it rests on."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.periods import Period
from handlers.dues.standing import Standing, standings
from handlers.pipeline.files import load_files
from handlers.pipeline.rules import Check, PersonFile, Status, checklist
from storage import evidence, volunteer
from storage.enums import Stage
from storage.evidence import AttendanceCounts, QuizFigures
from storage.models import Member
from storage.thoughts import ReportStats, report_stats


@dataclass(frozen=True)
class Evidence:
    member: Member
    file: PersonFile
    entered: date | None  # when the current stage began, if recorded
    attendance: AttendanceCounts
    learned: int
    quiz: QuizFigures
    thoughts: ReportStats
    volunteer_minutes: int
    dues: Standing
    checks: list[Check]

    def days_in_stage(self, today: date) -> int | None:
        return (today - self.entered).days if self.entered else None

    @property
    def met(self) -> int:
        return sum(c.status == Status.MET for c in self.checks)

    @property
    def open_checks(self) -> list[Check]:
        """Checks not met: missing, overdue, coming up or without a date."""
        return [c for c in self.checks if c.status != Status.MET]


async def gather(
    session: AsyncSession,
    members: Sequence[Member],
    today: date,
    period: Period,
    zone: ZoneInfo,
    dues_default_fen: int,
) -> list[Evidence]:
    """The evidence for each person, in the order given, in a fixed number of queries."""
    ids = [m.id for m in members]
    start, end = period.bounds(zone)
    files = await load_files(session, members)
    attendance = await evidence.attendance(session, ids, start, end)
    learned = await evidence.learned(session, ids, start, end)
    quiz = await evidence.quizzes(session, ids, period.since, period.until)
    thoughts = await report_stats(session, ids)
    hours = await volunteer.approved_minutes(session, ids, period.since, period.until)
    dues = await standings(session, members, today, dues_default_fen, zone)
    return [
        Evidence(
            member=m,
            file=files[m.id],
            entered=files[m.id].entered(Stage(m.stage)),
            attendance=attendance[m.id],
            learned=learned[m.id],
            quiz=quiz[m.id],
            thoughts=thoughts[m.id],
            volunteer_minutes=hours.get(m.id, 0),
            dues=dues[m.id],
            checks=checklist(files[m.id], today),
        )
        for m in members
    ]
