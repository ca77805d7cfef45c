"""The checks a person's fields pass, from a roster row or the command line's options: each
bad cell becomes a problem saying what is wrong and the right form, none is written.

Dates are read as secretaries write them (2024-05-01, 2024/5/1, 2024.5.1, 2024年5月1日, an
Excel date cell); a birth date may be a month (出生年月: 2001-05, 2001年5月), its first day.
"""

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from handlers.account.members import NewMember
from handlers.account.roster_format import POLITICAL_STATUS
from handlers.core.messages import Msg, UserError
from handlers.core.parsing import parse_date, parse_role, parse_stage, valid_name
from storage.enums import Stage

_PHONE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_MONTH = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?")
GENDERS = {"男": "男", "女": "女", "男性": "男", "女性": "女", "male": "男", "female": "女"}
# The longest text each plain field may hold (grade and class as the schema keeps them).
TEXT_LIMITS = {
    "ethnicity": 20,
    "education": 20,
    "native_place": 50,
    "grade": 16,
    "class_name": 50,
}
# Stages whose people have a date of joining (入党日期) and of becoming full (转正日期).
JOINED_STAGES = frozenset({Stage.PROBATIONARY, Stage.FULL})


@dataclass
class RosterRow:
    """A roster row checked: the person (with their personal fields), the stage dates for the
    development file, the branch the row names and which columns the file had."""

    new: NewMember
    joined_on: date | None
    full_on: date | None
    branch: str | None
    given: frozenset[str]  # the file's columns
    filled: frozenset[str]  # the row's cells that are not blank


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


def roster_stage(text: str) -> Stage:
    """A stage as a roster writes it: 人员类别, or 政治面貌 (中共党员, 中共预备党员)."""
    return POLITICAL_STATUS.get(text.strip()) or parse_stage(text)


def roster_date(field: str, text: str) -> date:
    """A date cell; a birth date may be a month (its first day). A UserError with the form."""
    try:
        return parse_date(text)
    except UserError:
        month = _MONTH.fullmatch(text.strip())
        if field == "birth_date" and month and 1 <= int(month.group(2)) <= 12:
            return date(int(month.group(1)), int(month.group(2)), 1)
        key = "roster.bad_month" if field == "birth_date" else "roster.bad_date"
        raise UserError(key, field=Msg(f"roster.col.{field}"), value=text) from None


def check_member(values: dict[str, str]) -> tuple[NewMember | None, list[Msg]]:
    """One person's fields (roster row or CLI options) checked; the member, or the problems."""
    problems: list[Msg] = []
    name = values.get("name", "")
    if not valid_name(name):
        problems.append(Msg("roster.bad_name", value=name))
    new = NewMember(name=name, staff_no=values.get("staff_no") or None)
    if new.staff_no and (len(new.staff_no) > 32 or any(c.isspace() for c in new.staff_no)):
        problems.append(Msg("roster.bad_staff_no", value=new.staff_no[:40]))
    for field, parse in (("role", parse_role), ("stage", roster_stage)):
        if values.get(field):
            try:
                setattr(new, field, parse(values[field]))
            except UserError as err:
                problems.append(err.msg)
    if values.get("remote_until"):
        try:
            new.remote_until = roster_date("remote_until", values["remote_until"])
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
    new.grade, new.class_name = values.get("grade") or None, values.get("class_name") or None
    return (None if problems else new), problems


def check_row(
    values: dict[str, str], given: frozenset[str], today: date
) -> tuple[RosterRow | None, list[Msg]]:
    """A whole roster row: the person (check_member), their personal fields, the stage dates
    (against the row's stage, when it gives one) and the branch it names."""
    new, problems = check_member(values)
    personal: dict[str, Any] = new.personal if new is not None else {}
    gender = values.get("gender", "")
    if gender and gender.lower() not in GENDERS:
        problems.append(Msg("roster.bad_gender", value=gender))
    elif gender:
        personal["gender"] = GENDERS[gender.lower()]
    for field, limit in TEXT_LIMITS.items():
        text = values.get(field, "")
        if len(text) > limit:
            problems.append(
                Msg("roster.too_long", field=Msg(f"roster.col.{field}"), value=text, limit=limit)
            )
        elif text and field not in ("grade", "class_name"):
            personal[field] = text
    dates: dict[str, date | None] = {}
    for field in ("birth_date", "joined_on", "full_on"):
        try:
            dates[field] = roster_date(field, values[field]) if values.get(field) else None
        except UserError as err:
            problems.append(err.msg)
    if dates.get("birth_date"):
        personal["birth_date"] = dates["birth_date"]
    if new is not None and values.get("stage"):
        problems += check_dates(new.stage, dates.get("joined_on"), dates.get("full_on"), today)
    if new is None or problems:
        return None, problems
    row = RosterRow(
        new,
        dates.get("joined_on"),
        dates.get("full_on"),
        values.get("branch") or None,
        given,
        frozenset(f for f, v in values.items() if v),
    )
    return row, []


def check_dates(stage: str, joined_on: date | None, full_on: date | None, today: date) -> list[Msg]:
    """The stage dates a row gives must fit its stage and each other, and not lie ahead."""
    problems: list[Msg] = []
    shown = Msg(f"stage.{stage}")
    if joined_on is not None and Stage(stage) not in JOINED_STAGES:
        problems.append(Msg("roster.joined_stage", stage=shown))
    if full_on is not None and stage != Stage.FULL:
        problems.append(Msg("roster.full_stage", stage=shown))
    if joined_on is not None and full_on is not None and full_on < joined_on:
        problems.append(Msg("roster.full_before_joined", full=full_on, joined=joined_on))
    for field, on in (("joined_on", joined_on), ("full_on", full_on)):
        if on is not None and on > today:
            problems.append(Msg("roster.future_date", field=Msg(f"roster.col.{field}"), on=on))
    return problems
