"""Parsers under arbitrary input (hypothesis): they answer or raise UserError, never crash."""

import contextlib
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.account.roster import parse_roster
from handlers.account.roster_checks import valid_id_number
from handlers.core.messages import UserError
from handlers.core.parsing import (
    as_typed,
    clean,
    parse_date,
    parse_role,
    parse_stage,
    split_command,
)
from storage.enums import Role, Stage

ALIASES = {"签到": "checkin", "帮助": "help", "我的数据": "mydata", "我的": "me"}


@given(st.text())
def test_clean_is_idempotent_and_never_raises(text: str) -> None:
    once = clean(text)
    assert clean(once) == once
    assert "\u200b" not in once and "\ufeff" not in once


@given(st.text())
def test_split_command_never_raises(text: str) -> None:
    result = split_command(clean(text), ALIASES)
    if result is not None:
        name, args = result
        assert isinstance(name, str) and isinstance(args, str)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/start ABC", ("start", "ABC")),
        ("/start@branchbot_bot ABC", ("start", "ABC")),
        ("／ｍｅ", ("me", "")),
        ("/HELP invite", ("help", "invite")),
        ("签到 123456", ("checkin", "123456")),
        ("签到123456", ("checkin", "123456")),
        ("我的数据", ("mydata", "")),
        ("我的", ("me", "")),
        ("你好", None),
        ("我的天", None),
        ("签到表在哪", None),
        ("签到，123456", ("checkin", ",123456")),
        ("/", ("", "")),
    ],
)
def test_split_command_forms(text: str, expected: tuple[str, str] | None) -> None:
    assert split_command(clean(text), ALIASES) == expected


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_dates_round_trip_in_every_spelling(day: date) -> None:
    for text in (
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}.{day.month:02d}.{day.day:02d}",
        f"{day.year}年{day.month}月{day.day}日",
    ):
        assert parse_date(text) == day


@given(st.text(max_size=30))
def test_parse_date_answers_or_refuses(text: str) -> None:
    try:
        parse_date(text)
    except UserError as err:
        assert err.msg.key == "error.bad_date"


@given(st.text(max_size=12))
def test_role_and_stage_parsers_answer_or_refuse(text: str) -> None:
    for parse, enum in ((parse_role, Role), (parse_stage, Stage)):
        with contextlib.suppress(UserError):
            assert parse(text) in set(enum)


def test_id_number_checksum() -> None:
    assert valid_id_number("11010519491231002X")
    assert not valid_id_number("110105194912310021")
    assert not valid_id_number("1101051949")


@given(st.binary(max_size=400))
def test_roster_parser_survives_any_csv_bytes(raw: bytes) -> None:
    try:
        good, errors = parse_roster("roster.csv", raw, date(2026, 12, 1))
    except UserError:
        return
    assert all(line >= 2 for line, _ in good)
    assert all(e.line >= 1 for e in errors)


@given(st.lists(st.lists(st.text(max_size=20), max_size=8), max_size=6))
def test_roster_parser_survives_any_table(rows: list[list[str]]) -> None:
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer).writerows([["姓名", "学号", "阶段", "手机", "实习截止"], *rows])
    with contextlib.suppress(UserError):
        parse_roster("roster.csv", buffer.getvalue().encode(), date(2026, 12, 1))


@given(st.text(st.characters(blacklist_categories=("Cc", "Cf", "Cs")), max_size=200))
def test_as_typed_gives_back_the_typed_tail_of_the_arguments(tail: str) -> None:
    raw = "/broadcast " + tail
    parsed = split_command(clean(raw), {})
    assert parsed is not None
    typed = as_typed(raw, parsed[1])
    assert clean(typed) == parsed[1]
    assert raw.rstrip().endswith(typed)  # the writer's own characters, not the folded ones
