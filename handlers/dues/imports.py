"""Importing a dues statement (CSV or XLSX) for a branch, all or nothing.

Headers may be Chinese or English (姓名/name, 学号/工号/staff_no, 月份/month, 金额/amount,
缴纳日期/paid_on, the last optional). Every bad row is reported with its line number and
what is wrong, and nothing is written unless every row is good.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.account.roster import PERSON_COLUMNS
from handlers.common.tables import RowError, RowsInvalid, read_table
from handlers.core.messages import Msg, UserError
from handlers.core.parsing import parse_date
from handlers.core.tracer import Entry
from handlers.dues.money import month_msg, parse_amount, parse_month
from handlers.dues.record import NewPayment, month_problem, paid_on_problem, record_payments
from handlers.dues.standing import Standing, standings
from storage import people
from storage.crypto import SecretBox
from storage.models import Branch, Member

COLUMNS: dict[str, str] = {
    **PERSON_COLUMNS,
    "月份": "month",
    "缴纳月份": "month",
    "交纳月份": "month",
    "month": "month",
    "金额": "amount",
    "缴纳金额": "amount",
    "交纳金额": "amount",
    "amount": "amount",
    "缴纳日期": "paid_on",
    "交纳日期": "paid_on",
    "paid_on": "paid_on",
}
T = TypeVar("T")


@dataclass(frozen=True)
class DuesImported:
    rows: int
    members: int
    total_fen: int


class _Roster:
    """The branch's members by name and by staff number, and their standings."""

    def __init__(self, members: Sequence[Member], found: dict[int, Standing]) -> None:
        self.by_name: dict[str, list[Member]] = {}
        self.by_number: dict[str, Member] = {}
        for member in members:
            self.by_name.setdefault(member.name, []).append(member)
            if member.staff_no:
                self.by_number[member.staff_no] = member
        self.standings = found

    def find(self, name: str, number: str) -> tuple[Member | None, Msg | None]:
        if number:
            member = self.by_number.get(number)
            if member is None:
                return None, Msg("dues.import_unknown_number", staff_no=number)
            if name and member.name != name:
                return None, Msg(
                    "dues.import_number_mismatch", staff_no=number, actual=member.name, name=name
                )
            return member, None
        if not name:
            return None, Msg("dues.import_no_member")
        namesakes = self.by_name.get(name, [])
        if not namesakes:
            return None, Msg("lookup.unknown_member", name=name)
        if len(namesakes) > 1:
            return None, Msg("dues.import_ambiguous", name=name, count=len(namesakes))
        return namesakes[0], None


def _parsed(parse: Callable[[str], T], text: str, problems: list[Msg]) -> T | None:
    """`parse(text)`, or None with its complaint added to `problems`."""
    try:
        return parse(text)
    except UserError as err:
        problems.append(err.msg)
        return None


def _data_rows(name: str, raw: bytes) -> list[tuple[int, dict[str, str]]]:
    """Each data row as (line, {field: cell}), after a header naming the columns."""
    table = read_table(name, raw, COLUMNS, "dues.import_empty")
    if not table.rows:
        raise UserError("dues.import_empty", name=name)
    fields = set(table.fields)
    if not {"month", "amount"} <= fields or not {"name", "staff_no"} & fields:
        raise RowsInvalid([RowError(table.header_line, Msg("dues.import_columns"))])
    return table.rows


def _check_rows(
    data: list[tuple[int, dict[str, str]]], roster: _Roster, today: date
) -> tuple[list[NewPayment], list[RowError]]:
    """The rows as payments, and every problem found (each row's, and repeats in the file)."""
    good: list[NewPayment] = []
    errors: list[RowError] = []
    seen: dict[tuple[int, date], int] = {}
    for line, values in data:
        problems: list[Msg] = []
        member, missing = roster.find(values.get("name", ""), values.get("staff_no", ""))
        problems.extend([missing] if missing else [])
        month = _parsed(parse_month, values.get("month", ""), problems)
        amount = _parsed(parse_amount, values.get("amount", ""), problems)
        paid_text = values.get("paid_on", "")
        paid_on = _parsed(parse_date, paid_text, problems) if paid_text else today
        late = paid_on_problem(paid_on, today) if paid_on else None
        problems.extend([late] if late else [])
        if member is not None and month is not None:
            other = seen.setdefault((member.id, month), line)
            if other != line:
                problems.append(
                    Msg("dues.import_twice", name=member.name, month=month_msg(month), other=other)
                )
            wrong = month_problem(member, roster.standings[member.id], month, today)
            problems.extend([wrong] if wrong else [])
        errors.extend(RowError(line, p) for p in problems)
        if not problems and member and month and amount and paid_on:
            good.append(NewPayment(member, month, amount, paid_on))
    return good, errors


async def import_dues(
    session: AsyncSession,
    box: SecretBox,
    branch: Branch,
    file_name: str,
    raw: bytes,
    now: datetime,
    *,
    default_fen: int,
    zone: ZoneInfo,
    actor_id: int | None = None,
) -> DuesImported:
    """Record every row of a statement or none: raises RowsInvalid listing every bad row."""
    data = _data_rows(file_name, raw)
    today = now.astimezone(zone).date()
    members = await people.branch_members(session, branch.id)
    found = await standings(session, members, today, default_fen, zone)
    good, errors = _check_rows(data, _Roster(members, found), today)
    if errors:
        raise RowsInvalid(errors)
    imported = Entry(
        "dues.imported",
        branch_id=branch.id,
        actor_id=actor_id,
        data={"file": Path(file_name).name, "rows": len(good)},
    )
    await record_payments(
        session, box, good, source="import", actor_id=actor_id, now=now, also=[imported]
    )
    total = sum(p.amount_fen for p in good)
    return DuesImported(len(good), len({p.member.id for p in good}), total)
