"""The pipeline's daily reminders, through the outbox, each once:

- the branch secretary, when a statutory deadline (a rule with `deadline = true`) comes within
  DEADLINE_NOTICE_DAYS or has passed undone, once per person, rule and deadline;
- contact persons, when the activist they cultivate has had no recorded talk for
  CONTACT_TALK_MONTHS, once per activist and due date; the reminder says how long it really
  has been (since the last talk, else since the application, else since the assignment).
"""

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Options
from handlers.core.messages import Button, Msg, Reply
from handlers.core.notify import Message, queue_many
from handlers.core.tracer import Entry, SessionTracer
from handlers.pipeline.files import load_files
from handlers.pipeline.rules import Check, Status, add_months, checklist, whole_months
from handlers.pipeline.settings import PipelineSettings
from storage import people, pipeline, traces
from storage.crypto import SecretBox
from storage.enums import Stage
from storage.models import Member

KIND = "pipeline.reminded"


def _deadlines(checks: list[Check], today: date, days: int) -> list[Check]:
    """Statutory deadlines coming within `days`, or passed and still open."""
    horizon = today + timedelta(days=days)
    return [
        c
        for c in checks
        if c.rule.deadline
        and c.deadline is not None
        and c.status in (Status.DUE, Status.OVERDUE)
        and c.deadline <= horizon
    ]


async def remind_deadlines(
    session: AsyncSession, box: SecretBox, options: Options, now: datetime
) -> int:
    """Tell each branch's secretaries of the deadlines coming up; returns messages queued."""
    today = now.astimezone(options.timezone).date()
    persons = await pipeline.in_pipeline(session, None)
    files = await load_files(session, persons)
    found: list[tuple[Member, Check, str]] = []
    for person in persons:
        checks = checklist(files[person.id], today)
        for check in _deadlines(checks, today, options.of(PipelineSettings).deadline_notice_days):
            found.append((person, check, f"pipeline:{person.id}:{check.rule.id}:{check.deadline}"))
    done = await traces.refs_present(session, KIND, [ref for _, _, ref in found])
    found = [f for f in found if f[2] not in done]
    branches = sorted({p.branch_id for p, _, _ in found if p.branch_id is not None})
    secretaries = await people.secretaries(session, branches)
    messages, entries = [], []
    for person, check, ref in found:
        to = [s for s, _ in secretaries.get(person.branch_id or 0, []) if s != person.id]
        if not to:  # no secretary yet: the one appointed later hears of it then
            continue
        messages.append(Message(ref, to, _deadline_note(person, check), KIND, _ref(person)))
        due = check.deadline.isoformat() if check.deadline else None
        data = {"rule": check.rule.id, "due": due}
        entries.append(Entry(KIND, person.id, person.branch_id, ref=ref, data=data))
    await queue_many(session, messages, now)
    await SessionTracer(session, box, now).trace_many(entries)
    return sum(len(m.member_ids) for m in messages)


def _ref(person: Member) -> str:
    return f"member:{person.id}"


def _deadline_note(person: Member, check: Check) -> Reply:
    text = Msg(
        "pipeline.deadline_reminder",
        name=person.name,
        stage=Msg(f"stage.{person.stage}"),
        rule=check.rule.name,
        detail=check.detail,
        source=check.rule.source,
    )
    return Reply(text, ((Button(Msg("pipeline.open_file"), f"/pipeline {person.name}"),),))


def talk_due(last_talk: date | None, assigned: date, months: int) -> date:
    """When the contacts should talk with their activist next."""
    return add_months(max(d for d in (last_talk, assigned) if d is not None), months)


def talk_gap(last_talk: date | None, applied: date | None, assigned: date, today: date) -> Msg:
    """How long the activist has gone without a talk, from the dates on record (not the
    setting that made the reminder due): since the last talk, else since the application,
    else since the contact persons were assigned."""
    if last_talk is not None:
        key, since = "pipeline.talk_since_last", last_talk
    elif applied is not None:
        key, since = "pipeline.talk_since_application", applied
    else:
        key, since = "pipeline.talk_since_contact", assigned
    return Msg(key, on=since, months=whole_months(since, today))


async def remind_contact_talks(
    session: AsyncSession, box: SecretBox, options: Options, now: datetime
) -> int:
    """Remind contact persons whose activist has had no recorded talk for a while."""
    today = now.astimezone(options.timezone).date()
    activists = await pipeline.in_pipeline(session, None, Stage.ACTIVIST)
    ids = [p.id for p in activists]
    contacts = await pipeline.contacts(session, ids)
    talks = await pipeline.last_talks(session, ids)
    applied = await pipeline.entered_dates(session, ids, Stage.APPLICANT)
    found: list[tuple[Member, Sequence[int], date, str, Msg]] = []
    for person in activists:
        current = contacts[person.id]
        if not current:
            continue
        last = talks.get(person.id)
        due = talk_due(
            last,
            max(c.assigned_on for c in current),
            options.of(PipelineSettings).contact_talk_months,
        )
        if due <= today:
            ref = f"pipeline:talk:{person.id}:{due.isoformat()}"
            first = min(c.assigned_on for c in current)
            gap = talk_gap(last, applied.get(person.id), first, today)
            found.append((person, [c.contact_id for c in current], due, ref, gap))
    done = await traces.refs_present(session, KIND, [f[3] for f in found])
    messages, entries = [], []
    for person, contact_ids, due, ref, gap in found:
        if ref in done:
            continue
        text = Msg("pipeline.talk_reminder", name=person.name, since=gap)
        messages.append(Message(ref, contact_ids, Reply(text), KIND, _ref(person)))
        data = {"rule": "contact_talk", "due": due.isoformat()}
        entries.append(Entry(KIND, person.id, person.branch_id, ref=ref, data=data))
    await queue_many(session, messages, now)
    await SessionTracer(session, box, now).trace_many(entries)
    return sum(len(m.member_ids) for m in messages)
