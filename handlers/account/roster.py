"""Roster (花名册) import: read an Excel, CSV or JSON roster (our own export, or a school's sheet
with its usual Chinese headers), check every row, import all or nothing.

Every bad row is reported with its line number, what is wrong and the right form, and nothing
is written unless all are good. A row goes to the branch given, or to the one its 所在党支部
names; with `update`, a row whose 学号/工号 is already on the roster updates that member (each
change traced as member.changed), and 入党日期/转正日期 go into the development file as dated
steps (handlers/pipeline/stages.py).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.account.changes import Editor, change_member, current
from handlers.account.members import add_member, issue_invite
from handlers.account.personal import PERSONAL_FIELDS
from handlers.account.roster_checks import RosterRow, check_dates, check_row
from handlers.account.roster_format import COLUMNS, read_json
from handlers.common.tables import RowError, RowsInvalid, read_table
from handlers.core.messages import Msg, UserError
from handlers.core.tracer import SessionTracer
from handlers.pipeline.rules import PersonFile
from handlers.pipeline.stages import NewStep, check_order, write_step
from storage import people, pipeline, roster
from storage.crypto import SecretBox
from storage.enums import Stage, StepKind
from storage.models import Branch, Member

# The columns that say who a row is about, in a roster and in any file that names members.
PERSON_COLUMNS: dict[str, str] = {
    "姓名": "name",
    "name": "name",
    "学号": "staff_no",
    "工号": "staff_no",
    "学工号": "staff_no",
    "staff_no": "staff_no",
}
# The fields an update compares, in the order they are changed (the role last: a new
# secretary demotes the old one, who may be a later row of the same file).
UPDATED = (
    "name",
    "phone",
    "id_number",
    "remote_until",
    "grade",
    "class_name",
    "interests",
    *PERSONAL_FIELDS,
    "role",
)
# Fields a blank cell leaves as they are (a row never clears a name or a role).
KEPT_WHEN_BLANK = frozenset({"name", "role"})
# The stage each date column records the entry into.
DATED = (("joined_on", Stage.PROBATIONARY), ("full_on", Stage.FULL))


@dataclass(frozen=True)
class Imported:
    """A member the import added (with their invite code) or updated (the fields changed)."""

    member: Member
    code: str | None
    changed: tuple[str, ...] = ()


@dataclass
class _Planned:
    line: int
    row: RosterRow
    branch: Branch
    existing: Member | None = None


def read_roster(name: str, raw: bytes) -> tuple[int, list[tuple[int, dict[str, str]]], set[str]]:
    """(header line, rows as (line, {field: cell}), the fields the file has) of a roster file;
    a JSON file's members are numbered from 1."""
    if Path(name).suffix.lower() != ".json":
        table = read_table(name, raw, COLUMNS, "roster.empty")
        return table.header_line, table.rows, {f for f in table.fields if f}
    members = read_json(raw)
    if members is None:
        raise UserError("roster.bad_json", name=name)
    return 0, list(enumerate(members, start=1)), {f for m in members for f in m}


def parse_roster(
    name: str, raw: bytes, today: date
) -> tuple[list[tuple[int, RosterRow]], list[RowError]]:
    """Every data row checked; returns the good rows and every problem found."""
    header_line, rows, given = read_roster(name, raw)
    if "name" not in given:
        return [], [RowError(header_line, Msg("roster.no_name_column"))]
    good: list[tuple[int, RosterRow]] = []
    errors: list[RowError] = []
    seen_numbers: dict[str, int] = {}
    for line, values in rows:
        row, problems = check_row(values, frozenset(given), today)
        number = values.get("staff_no")
        if number and number in seen_numbers:
            problems.append(Msg("roster.duplicate_no", value=number, other=seen_numbers[number]))
        elif number:
            seen_numbers[number] = line
        errors.extend(RowError(line, p) for p in problems)
        if row is not None and not problems:
            good.append((line, row))
    if not good and not errors:
        raise UserError("roster.empty", name=name)
    return good, errors


async def import_roster(
    session: AsyncSession,
    box: SecretBox,
    branch: Branch | None,
    file_name: str,
    raw: bytes,
    now: datetime,
    today: date,
    invite_ttl: timedelta,
    *,
    editor: Editor,
    update: bool = False,
) -> list[Imported]:
    """Import every row or none: raises RowsInvalid listing every bad row. Without `branch`,
    each row goes to the branch its 所在党支部 names."""
    good, errors = parse_roster(file_name, raw, today)
    planned = await _plan(session, branch, good, errors, update)
    for plan in planned:
        errors.extend(RowError(plan.line, p) for p in await _check_stage(session, plan, today))
    if errors:
        raise RowsInvalid(errors)
    imported = [await _write(session, box, plan, now, invite_ttl, editor) for plan in planned]
    by_branch: dict[int, list[Imported]] = {}
    for plan, item in zip(planned, imported, strict=True):
        by_branch.setdefault(plan.branch.id, []).append(item)
    tracer = SessionTracer(session, box, now, editor.member.id if editor.member else None)
    for branch_id, items in by_branch.items():
        await tracer.trace(
            "member.imported",
            branch_id=branch_id,
            ref=f"branch:{branch_id}",
            data=_summary(file_name, items),
        )
    return imported


async def _write(
    session: AsyncSession,
    box: SecretBox,
    plan: _Planned,
    now: datetime,
    invite_ttl: timedelta,
    editor: Editor,
) -> Imported:
    """Add the row's person (with an invite code) or update the member it names, then enter
    its stage dates in the development file."""
    actor_id = editor.member.id if editor.member else None
    if plan.existing is None:
        member = await add_member(session, box, plan.branch, plan.row.new, now, actor_id, "roster")
        code = await issue_invite(session, box, member, now, invite_ttl, actor_id=actor_id)
        done = Imported(member, code)
    else:
        changed = await _update(session, box, plan.existing, plan.row, now, editor)
        done = Imported(plan.existing, None, changed)
    await _record_dates(session, box, done.member, plan.row, now, actor_id)
    return done


def _summary(file_name: str, imported: list[Imported]) -> dict[str, Any]:
    added = sum(1 for i in imported if i.code is not None)
    return {"file": Path(file_name).name, "rows": len(imported), "added": added}


async def _plan(
    session: AsyncSession,
    branch: Branch | None,
    good: list[tuple[int, RosterRow]],
    errors: list[RowError],
    update: bool,
) -> list[_Planned]:
    """Each good row's branch and, for a known 学号/工号, its member; rows that cannot go
    anywhere become errors."""
    branches: dict[str, Branch | None] = {}
    planned: list[_Planned] = []
    for line, row in good:
        try:
            target = await _branch_of(session, branch, row.branch, branches)
            existing = await _existing(session, row, target, update)
        except UserError as err:
            errors.append(RowError(line, err.msg))
            continue
        planned.append(_Planned(line, row, target, existing))
    return planned


async def _branch_of(
    session: AsyncSession, given: Branch | None, named: str | None, known: dict[str, Branch | None]
) -> Branch:
    if given is not None:
        if named is not None and named != given.name:
            raise UserError("roster.other_branch", value=named, branch=given.name)
        return given
    if named is None:
        raise UserError("roster.no_branch")
    if named not in known:
        known[named] = await people.branch_by_name(session, named)
    found = known[named]
    if found is None:
        raise UserError("roster.unknown_branch", value=named)
    if found.archived_at is not None:
        raise UserError("roster.archived_branch", value=named)
    return found


async def _existing(
    session: AsyncSession, row: RosterRow, target: Branch, update: bool
) -> Member | None:
    """The member a row's 学号/工号 names, when it names one and `update` allows it."""
    number = row.new.staff_no
    holder = await roster.staff_no_holder(session, number) if number else None
    if holder is None:
        return None
    if not update:
        raise UserError("roster.no_taken", value=number)
    if not holder.active or holder.branch_id != target.id:
        where = holder.branch.name if holder.branch and holder.active else "-"
        raise UserError("roster.elsewhere", value=number, name=holder.name, branch=where)
    return holder


async def _check_stage(session: AsyncSession, plan: _Planned, today: date) -> list[Msg]:
    """The row's stage and dates fit each other and, for a member already on file, their
    stage (moved only by /stage) and the dates their development file has."""
    row, member = plan.row, plan.existing
    if "stage" in row.filled:
        stage, problems = row.new.stage, []  # checked with the row (check_row)
    else:
        stage = row.new.stage if member is None else Stage(member.stage)
        problems = check_dates(stage, row.joined_on, row.full_on, today)
    if member is None or problems:
        return problems
    if stage != member.stage:
        was = Msg(f"stage.{member.stage}")
        return [
            Msg("roster.stage_differs", name=member.name, current=was, stage=Msg(f"stage.{stage}"))
        ]
    history = (await pipeline.steps(session, [member.id]))[member.id]
    file = PersonFile(member.stage, history, [], [])
    for field, entered in DATED:
        on = getattr(row, field)
        recorded = file.entered(entered)
        if on is None or recorded == on:
            continue
        if recorded is not None:
            col = Msg(f"roster.col.{field}")
            problems.append(Msg("roster.date_recorded", field=col, on=recorded, value=on))
            continue
        try:
            check_order(history, NewStep(StepKind.DATED, entered, on))
        except UserError as err:
            problems.append(err.msg)
    return problems


async def _update(
    session: AsyncSession,
    box: SecretBox,
    member: Member,
    row: RosterRow,
    now: datetime,
    editor: Editor,
) -> tuple[str, ...]:
    """Change the member's fields the file has and gives differently (each traced)."""
    changed = []
    for field in UPDATED:
        if field not in row.given or (field in KEPT_WHEN_BLANK and field not in row.filled):
            continue
        value = _value(row, field)
        if value != current(box, member, field):
            await change_member(session, box, member, field, value, now, editor)
            changed.append(field)
    return tuple(changed)


def _value(row: RosterRow, field: str) -> Any:
    if field in PERSONAL_FIELDS:
        return row.new.personal.get(field)
    return getattr(row.new, field)


async def _record_dates(
    session: AsyncSession,
    box: SecretBox,
    member: Member,
    row: RosterRow,
    now: datetime,
    actor_id: int | None,
) -> None:
    """入党日期 and 转正日期 into the development file, as dated steps not yet there."""
    history = (await pipeline.steps(session, [member.id]))[member.id]
    file = PersonFile(member.stage, history, [], [])
    tracer = SessionTracer(session, box, now, actor_id)
    for field, entered in DATED:
        on = getattr(row, field)
        if on is not None and file.entered(entered) is None:
            step = NewStep(StepKind.DATED, entered, on)
            await write_step(session, tracer, member, step, actor_id, now)
