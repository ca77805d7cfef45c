"""The ledger (台账) of a branch's year, built once and written as Word, PDF or JSON at the edge
(bot/reports/ledger/): how often each kind of meeting was held against the rules, and every
meeting with its attendance, its current minutes, its photos and the votes taken at it.

Everything here is plain data with the secrets decrypted: whoever builds a ledger has been
allowed to export it, and the export is traced by the caller (data.exported)."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.periods import Period, add_months
from handlers.orglife.rules import PERIOD_MONTHS, Rule, RuleSet, frequency_rules
from storage import meetings, minutes, orglife, votes
from storage.crypto import SecretBox
from storage.enums import Presence
from storage.minutes_models import MeetingPhoto, Minutes
from storage.models import Attendance, Branch, Meeting
from storage.vote_models import Vote

PRESENCES = (Presence.PRESENT, Presence.ONLINE, Presence.EXCUSED, Presence.ABSENT)


@dataclass(frozen=True)
class SummaryRow:
    """How many meetings of a rule's kind were held in one period of the year."""

    rule: Rule
    period: Period
    held: int
    ended: bool  # the period is over (else it may still be kept)

    @property
    def met(self) -> bool:
        return self.held >= self.rule.at_least


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    late: bool = False


@dataclass(frozen=True)
class Photo:
    name: str
    mime: str
    size: int
    sha256: str
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class LedgerMinutes:
    """The current version of the minutes."""

    version: int
    versions: int
    topics: list[str]
    host: str | None
    recorder: str | None
    text: str
    document_name: str | None
    submitted_at: datetime


@dataclass(frozen=True)
class LedgerVote:
    id: int
    kind: str
    subject: str
    entitled: int
    closed: bool
    result: dict[
        str, Any
    ]  # a person's: for, against, abstain, cast, passed; an election's: elected


@dataclass(frozen=True)
class LedgerMeeting:
    id: int
    kind: str
    title: str
    starts_at: datetime
    length: int  # minutes
    place: str | None
    online_link: str | None
    school_wide: bool
    status: str
    expected: list[Person]
    # present, online, excused, absent: who was recorded so (late marked on the person)
    attendance: dict[str, list[Person]]
    minutes: LedgerMinutes | None
    photos: list[Photo]
    votes: list[LedgerVote]

    @property
    def unrecorded(self) -> list[Person]:
        """Expected with nothing recorded (attendance not finalised yet)."""
        recorded = {p.id for people in self.attendance.values() for p in people}
        return [p for p in self.expected if p.id not in recorded]

    @property
    def late(self) -> list[Person]:
        return [p for people in self.attendance.values() for p in people if p.late]


@dataclass(frozen=True)
class Ledger:
    branch: str
    branch_id: int
    year: int
    rules: RuleSet
    made_at: datetime
    summary: list[SummaryRow]
    meetings: list[LedgerMeeting]


async def build_ledger(
    session: AsyncSession,
    box: SecretBox,
    branch: Branch,
    year: int,
    now: datetime,
    zone: ZoneInfo,
    rules: RuleSet | None = None,
) -> Ledger:
    """The branch's ledger for `year` (calendar year in `zone`): its meetings and the school-wide
    ones, cancelled ones left out, as they stand at `now`."""
    rules = rules or frequency_rules()
    since, until = Period(date(year, 1, 1), date(year + 1, 1, 1)).bounds(zone)
    found = await orglife.meetings_of_branch(session, branch.id, since, until)
    entries = [await _meeting(session, box, branch.id, m) for m in found]
    begun = [(m.kind, m.starts_at.astimezone(zone).date()) for m in found if m.starts_at <= now]
    today = now.astimezone(zone).date()
    summary = [
        SummaryRow(rule, period, _held(begun, rule, period), period.until <= today)
        for rule in rules.rules
        for period in _periods(rule, year)
    ]
    return Ledger(branch.name, branch.id, year, rules, now, summary, entries)


def _periods(rule: Rule, year: int) -> list[Period]:
    months = PERIOD_MONTHS[rule.period]
    starts = [add_months(date(year, 1, 1), n) for n in range(0, 12, months)]
    return [Period(start, add_months(start, months)) for start in starts]


def _held(begun: list[tuple[str, date]], rule: Rule, period: Period) -> int:
    return sum(1 for kind, day in begun if kind == rule.kind and period.contains(day))


async def _meeting(
    session: AsyncSession, box: SecretBox, branch_id: int, meeting: Meeting
) -> LedgerMeeting:
    expected_ids = await meetings.expected_ids(session, meeting, branch_id)
    records = await meetings.attendance_of(session, meeting.id)
    if meeting.branch_id is None:  # a school-wide meeting: this branch's people only
        records = {i: a for i, a in records.items() if i in set(expected_ids)}
    current = await minutes.versions(session, meeting.id)
    latest = current[-1] if current else None
    taken = await votes.of_meeting(session, meeting.id, branch_id)
    people = [*expected_ids, *records, *(v.subject_id for v in taken if v.subject_id)]
    if latest is not None:
        people += [i for i in (latest.host_id, latest.recorder_id) if i]
    names = await meetings.names(session, sorted(set(people)))
    photos = await minutes.photos(session, meeting.id)
    return LedgerMeeting(
        id=meeting.id,
        kind=meeting.kind,
        title=meeting.title,
        starts_at=meeting.starts_at,
        length=meeting.minutes,
        place=meeting.place,
        online_link=meeting.online_link,
        school_wide=meeting.branch_id is None,
        status=meeting.status,
        expected=[Person(i, names.get(i, "?")) for i in expected_ids],
        attendance=_grouped(records, names),
        minutes=_minutes(box, current, names),
        photos=[_photo(box, p) for p in photos],
        votes=[_vote(v, names) for v in taken],
    )


def _grouped(records: dict[int, Attendance], names: dict[int, str]) -> dict[str, list[Person]]:
    grouped: dict[str, list[Person]] = {str(p): [] for p in PRESENCES}
    for member_id in sorted(records):
        row = records[member_id]
        person = Person(member_id, names.get(member_id, "?"), bool(row.late))
        grouped.setdefault(row.presence, []).append(person)
    return grouped


def _minutes(
    box: SecretBox, found: Sequence[Minutes], names: dict[int, str]
) -> LedgerMinutes | None:
    if not found:
        return None
    latest = found[-1]
    return LedgerMinutes(
        version=latest.version,
        versions=len(found),
        topics=list(latest.topics or []),
        host=names.get(latest.host_id) if latest.host_id else None,
        recorder=names.get(latest.recorder_id) if latest.recorder_id else None,
        text=box.decrypt(latest.body_enc) or "",
        document_name=latest.document_name,
        submitted_at=latest.submitted_at,
    )


def _photo(box: SecretBox, photo: MeetingPhoto) -> Photo:
    content = box.decrypt_bytes(photo.content_enc)
    return Photo(photo.name, photo.mime, photo.size, photo.sha256, content)


def _vote(vote: Vote, names: dict[int, str]) -> LedgerVote:
    return LedgerVote(
        id=vote.id,
        kind=vote.kind,
        subject=names.get(vote.subject_id, "?") if vote.subject_id else "",  # an election
        entitled=vote.entitled,
        closed=vote.closed_at is not None,
        result=dict(vote.result or {}),
    )
