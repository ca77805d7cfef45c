"""The six-month rule's daily part (scheduler/pipeline_jobs.py): each branch's secretaries are
told privately when a member's count reaches four and five months (what was missed, with
buttons to record a reason or a talk) and get the list of those at six with the dates; the
member gets one kind reminder at four. Each notice goes once per run of months, measure and
threshold (care_notices; the messages are keyed by it), however often the job runs. Nobody's
standing changes: only what the secretary records (/care_note) is an outcome."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.care.reminder import member_reminder
from handlers.care.rules import SixMonthRule, six_month_rule
from handlers.care.sixmonth import MEASURES, Count, counts_of
from handlers.care.words import dated_lines, latest_note, missed_lines, run_lines
from handlers.core.context import Options
from handlers.core.messages import Button, Msg, Reply
from handlers.core.notify import Message, queue_many
from handlers.core.tracer import Entry, SessionTracer
from storage import branches, care, dues, people
from storage.care import Told
from storage.care_models import CareNote
from storage.crypto import SecretBox
from storage.models import Branch

SECRETARY = "secretary"
MEMBER = "member"
LISTED_BUTTONS = 8  # members of the six-month list given a button of their own


@dataclass(frozen=True)
class Due:
    """A notice not given yet, with the count it is about."""

    told: Told
    count: int


def notices_due(counts: Iterable[Count], told: set[Told], rule: SixMonthRule) -> list[Due]:
    """For each member and measure: the secretaries' notice at the highest threshold reached,
    and the member's reminder from four months on, those not given in this run yet."""
    due = []
    for count in counts:
        member_id = count.member.id
        for measure in MEASURES:
            months, since = count.count(measure), count.since(measure)
            if since is None:
                continue
            wanted = []
            reached = rule.reached(months)
            if reached is not None:
                wanted.append(Told(member_id, measure, SECRETARY, since, reached))
            if months >= rule.remind_member_at:
                wanted.append(Told(member_id, measure, MEMBER, since, rule.remind_member_at))
            due += [Due(key, months) for key in wanted if key not in told]
    return due


async def remind_care(
    session: AsyncSession, box: SecretBox, options: Options, now: datetime
) -> int:
    """Queue the day's notices in every branch; returns how many members they were about."""
    told = 0
    for branch in await branches.current_branches(session):
        told += await _remind_branch(session, box, options, now, branch)
    return told


async def _remind_branch(
    session: AsyncSession, box: SecretBox, options: Options, now: datetime, branch: Branch
) -> int:
    rule = six_month_rule()
    counts = await counts_of(session, await dues.payers(session, branch.id), now, options)
    due = notices_due(counts.values(), await care.told_already(session, list(counts)), rule)
    staff = (await people.secretaries(session, [branch.id])).get(branch.id, [])
    # A notice for the secretaries waits while there is none but the member themselves.
    due = [d for d in due if d.told.audience == MEMBER or _readers(staff, [d.told.member_id])]
    if not due:
        return 0
    by_member: dict[int, list[Due]] = defaultdict(list)
    for d in due:
        by_member[d.told.member_id].append(d)
    notices = _Notices(
        numbers=await care.record_told(session, [(d.told, d.count) for d in due], branch.id, now),
        notes=await care.notes_of(session, list(by_member), latest_only=True),
        staff=staff,
        box=box,
        zone=options.timezone,
    )
    for member_id, found in by_member.items():
        notices.to_staff(counts[member_id], [d for d in found if d.told.audience == SECRETARY])
        to_member = [d for d in found if d.told.audience == MEMBER]
        if to_member:
            measures = [d.told.measure for d in to_member]
            reply = await member_reminder(session, counts[member_id], measures, staff, now)
            notices.to_member(counts[member_id], to_member, reply)
    if notices.listed:
        notices.messages.append(_six_list(branch, notices.listed, counts.values(), staff, rule))
    await queue_many(session, notices.messages, now)
    await SessionTracer(session, box, now).trace_many(notices.entries)
    return len(by_member)


@dataclass
class _Notices:
    """A branch's messages and traces of the day, keyed by the numbers of the notices."""

    numbers: dict[Told, int]
    notes: dict[int, list[CareNote]]
    staff: Sequence[tuple[int, str]]
    box: SecretBox
    zone: ZoneInfo
    messages: list[Message] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    listed: list[tuple[Count, int]] = field(default_factory=list)  # (count, notice number)

    def to_staff(self, count: Count, due: Sequence[Due]) -> None:
        """The secretaries' alert at four or five months, or a row of the six-month list."""
        if not due:
            return
        member_id = count.member.id
        key = min(self.numbers[d.told] for d in due)
        highest = max(d.told.threshold for d in due)
        listed = highest >= six_month_rule().listed_at
        if listed:
            self.listed.append((count, key))
        else:
            note = latest_note(self.box, self.notes.get(member_id, []), self.zone)
            text = _alert(count, highest, note, self.zone)
            readers = _readers(self.staff, [member_id])
            self.messages.append(
                Message(f"care:alert:n{key}", readers, text, "care.alert", f"care:{member_id}")
            )
        self.entries.append(_entry("care.alerted", count, due, listed))

    def to_member(self, count: Count, due: Sequence[Due], reply: Reply) -> None:
        member_id = count.member.id
        key = min(self.numbers[d.told] for d in due)
        self.messages.append(
            Message(f"care:remind:n{key}", [member_id], reply, "care.reminder", f"care:{member_id}")
        )
        self.entries.append(_entry("care.reminded", count, due, None))


def _readers(staff: Sequence[tuple[int, str]], about: Sequence[int]) -> list[int]:
    """The branch's secretaries, but not those the message is about."""
    return [member_id for member_id, _name in staff if member_id not in about]


def _entry(kind: str, count: Count, due: Sequence[Due], listed: bool | None) -> Entry:
    measures = {
        d.told.measure: {
            "count": d.count,
            "since": f"{d.told.run_since:%Y-%m}",
            "threshold": d.told.threshold,
        }
        for d in due
    }
    data: dict[str, object] = {"measures": measures}
    if listed is not None:
        data["listed"] = listed
    member = count.member
    return Entry(
        kind, member_id=member.id, branch_id=member.branch_id, ref=f"care:{member.id}", data=data
    )


def _alert(count: Count, threshold: int, note: Msg, zone: ZoneInfo) -> Reply:
    """The secretaries' notice at four or five months, with what was missed."""
    rule = six_month_rule()
    member = count.member
    text = Msg(
        "care.alert",
        name=member.name,
        threshold=threshold,
        runs=run_lines(count),
        missed=Msg("care.alert_missed", lines=missed_lines(count, zone)) if count.missed else "",
        listed_at=rule.listed_at,
        source=rule.source,
        note=note,
    )
    buttons = (
        Button(Msg("care.button.reason"), f"/care_note #{member.id} reason"),
        Button(Msg("care.button.talk"), f"/care_note #{member.id} talk"),
    )
    return Reply(text, (buttons,))


def _for(name: str, kind: str) -> Msg:
    return Msg("care.button.for", name=name, action=Msg(f"care.button.{kind}"))


def _six_list(
    branch: Branch,
    listed: Sequence[tuple[Count, int]],
    counts: Iterable[Count],
    staff: Sequence[tuple[int, str]],
    rule: SixMonthRule,
) -> Message:
    """The members newly at six months, with the dates; those listed before are counted."""
    ids = {c.member.id for c, _ in listed}
    earlier = sum(1 for c in counts if c.member.id not in ids and c.most >= rule.listed_at)
    rows = [Msg("care.six.row", name=c.member.name, dates=dated_lines(c)) for c, _ in listed]
    text = Msg(
        "care.six.list",
        months=rule.listed_at,
        branch=branch.name,
        count=len(listed),
        rows=rows,
        earlier=Msg("care.six.earlier", count=earlier) if earlier else "",
        source=rule.source,
        quote=rule.quote,
    )
    buttons = tuple(
        (Button(_for(c.member.name, "conclusion"), f"/care_note #{c.member.id} conclusion"),)
        for c, _ in listed[:LISTED_BUTTONS]
    )
    key = f"care:six:n{min(k for _, k in listed)}"
    readers = _readers(staff, sorted(ids))
    return Message(key, readers, Reply(text, buttons), "care.six", f"branch:{branch.id}")
