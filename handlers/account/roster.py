"""Roster (花名册) import: read CSV or Excel, check every row, import all or nothing.

Headers may be Chinese or English; a CSV saved by Excel in GBK is read too. Every bad row is
reported with its line number and what is wrong, and nothing is written unless all are good.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.account.members import NewMember, add_member, issue_invite
from handlers.common.tables import RowError, RowsInvalid, read_table
from handlers.core.messages import Msg, UserError
from handlers.core.parsing import parse_date, parse_role, parse_stage, valid_name
from handlers.core.tracer import SessionTracer
from storage import people
from storage.crypto import SecretBox
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
COLUMNS: dict[str, str] = {
    **PERSON_COLUMNS,
    "角色": "role",
    "role": "role",
    "阶段": "stage",
    "政治面貌": "stage",
    "stage": "stage",
    "实习截止": "remote_until",
    "实习截止日期": "remote_until",
    "remote_until": "remote_until",
    "手机": "phone",
    "手机号": "phone",
    "phone": "phone",
    "身份证号": "id_number",
    "id_number": "id_number",
    "兴趣": "interests",
    "interests": "interests",
}
_PHONE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@dataclass(frozen=True)
class Imported:
    member: Member
    code: str


def plain_phone(value: str) -> str:
    """A phone number as typed, without the spaces and dashes people write in it."""
    return value.replace(" ", "").replace("-", "")


def valid_phone(value: str) -> bool:
    """A mainland mobile number (11 digits from 13–19, with or without +86)."""
    return bool(_PHONE.match(value))


def valid_id_number(value: str) -> bool:
    """An 18-character resident ID with a correct GB 11643 check character."""
    value = value.upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17]


def check_member(values: dict[str, str]) -> tuple[NewMember | None, list[Msg]]:
    """One person's fields (roster row or CLI options) checked; the member, or the problems."""
    problems: list[Msg] = []
    name = values.get("name", "")
    if not valid_name(name):
        problems.append(Msg("roster.bad_name", value=name))
    new = NewMember(name=name, staff_no=values.get("staff_no") or None)
    if new.staff_no and len(new.staff_no) > 32:
        problems.append(Msg("roster.bad_staff_no", value=new.staff_no[:40]))
    for field, parse in (("role", parse_role), ("stage", parse_stage)):
        if values.get(field):
            try:
                setattr(new, field, parse(values[field]))
            except UserError as err:
                problems.append(err.msg)
    if values.get("remote_until"):
        try:
            new.remote_until = parse_date(values["remote_until"])
        except UserError as err:
            problems.append(err.msg)
    phone = plain_phone(values.get("phone", ""))
    if phone and not valid_phone(phone):
        problems.append(Msg("roster.bad_phone", value=phone))
    new.phone = phone or None
    id_number = values.get("id_number", "").upper()
    if id_number and not valid_id_number(id_number):
        problems.append(Msg("roster.bad_id_number"))
    new.id_number = id_number or None
    interests = re.split(r"[,，、;；\s]+", values.get("interests", ""))
    new.interests = [i for i in interests if i]
    return (None if problems else new), problems


def parse_roster(name: str, raw: bytes) -> tuple[list[tuple[int, NewMember]], list[RowError]]:
    """Every data row checked; returns the good rows and every problem found."""
    table = read_table(name, raw, COLUMNS, "roster.empty")
    if "name" not in table.fields:
        return [], [RowError(table.header_line, Msg("roster.no_name_column"))]
    good: list[tuple[int, NewMember]] = []
    errors: list[RowError] = []
    seen_numbers: dict[str, int] = {}
    for line, values in table.rows:
        new, problems = check_member(values)
        number = values.get("staff_no")
        if number and number in seen_numbers:
            problems.append(Msg("roster.duplicate_no", value=number, other=seen_numbers[number]))
        elif number:
            seen_numbers[number] = line
        errors.extend(RowError(line, p) for p in problems)
        if new is not None and not problems:
            good.append((line, new))
    if not good and not errors:
        raise UserError("roster.empty", name=name)
    return good, errors


async def import_roster(
    session: AsyncSession,
    box: SecretBox,
    branch: Branch,
    file_name: str,
    raw: bytes,
    now: datetime,
    invite_ttl: timedelta,
    actor_id: int | None = None,
) -> list[Imported]:
    """Import every row or none: raises RosterInvalid listing every bad row."""
    good, errors = parse_roster(file_name, raw)
    taken = await people.staff_numbers_taken(session, [m.staff_no for _, m in good if m.staff_no])
    errors.extend(
        RowError(line, Msg("roster.no_taken", value=m.staff_no))
        for line, m in good
        if m.staff_no in taken
    )
    if errors:
        raise RowsInvalid(sorted(errors, key=lambda e: e.line))
    imported = []
    for _, new in good:
        member = await add_member(session, box, branch, new, now, actor_id=actor_id, via="roster")
        code = await issue_invite(session, box, member, now, invite_ttl, actor_id=actor_id)
        imported.append(Imported(member, code))
    await SessionTracer(session, box, now, actor_id).trace(
        "member.imported",
        branch_id=branch.id,
        ref=f"branch:{branch.id}",
        data={"file": Path(file_name).name, "rows": len(imported)},
    )
    return imported
