"""The six-month rule's pieces without a database: the rules file (and its mistakes), words
for every kind it names, a month's state, the runs of months (neutral months passed over, the
month in progress), and the unpaid months (from the last paid on, never before the books)."""

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.care.rules import care_rules, note_kinds, parse_six_month, six_month_rule
from handlers.care.sixmonth import Month, missed_run, month_state, unpaid_run
from handlers.common.periods import add_months
from handlers.core.i18n import load_catalog
from storage.care import Seen
from storage.care_models import CareExcusal

ZONE = ZoneInfo("Asia/Shanghai")
RULE = six_month_rule()
CURRENT = date(2026, 7, 1)
FLOOR = add_months(CURRENT, -RULE.lookback_months)


def seen(day: date, presence: str) -> Seen:
    return Seen(
        1,
        day.toordinal(),
        "主题党日",
        "theme_day",
        datetime(day.year, day.month, day.day, 4, tzinfo=UTC),
        presence,
    )


def sick(since: date, until: date) -> CareExcusal:
    return CareExcusal(member_id=1, kind="sick", since=since, until=until)


def test_the_rules_file_reads_and_says_its_source() -> None:
    assert RULE.thresholds == (4, 5, 6) and RULE.listed_at == 6 and RULE.remind_member_at == 4
    assert (
        RULE.source == "《中国共产党章程》第九条" and "连续六个月不参加党的组织生活" in RULE.quote
    )
    assert (
        RULE.excusal_kinds.kind_named("病假") == "sick"
        and RULE.excusal_kinds.kind_named("其它") == "other"
    )
    assert RULE.reason_required == {"other"}
    assert note_kinds().kind_named("谈话") == "talk" and note_kinds().kind_named("表扬") is None
    assert RULE.reached(3) is None and RULE.reached(5) == 5 and RULE.reached(14) == 6


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"thresholds": []}, "thresholds"),
        ({"lookback_months": 6}, "lookback_months"),
        ({"attended": ["present", "here"]}, "attended"),
        ({"excusal_kinds": {"sick": {"reason_required": False}}}, "words"),
    ],
)
def test_a_mistake_in_the_rules_file_is_named(change: dict[str, Any], words: str) -> None:
    table = {**care_rules()["six_month"], **change}
    with pytest.raises(ValueError, match=words):
        parse_six_month(table)


def test_a_missing_key_is_named() -> None:
    table = dict(care_rules()["six_month"])
    del table["quote"]
    with pytest.raises(ValueError, match="quote"):
        parse_six_month(table)


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_every_kind_in_the_rules_file_has_words(lang: str) -> None:
    catalog = load_catalog(lang)
    wanted = [f"care.excusal_kind.{k}" for k in RULE.excusal_kinds.kinds]
    wanted += [
        f"{prefix}.{k}" for k in note_kinds().kinds for prefix in ("care.note_kind", "care.button")
    ]
    assert [key for key in wanted if key not in catalog] == []


def test_a_months_state() -> None:
    day = date(2026, 3, 15)
    assert month_state([seen(day, "present"), seen(day, "absent")], [], RULE, ZONE)[0] is Month.KEPT
    assert month_state([seen(day, "online")], [], RULE, ZONE)[0] is Month.KEPT
    assert month_state([], [], RULE, ZONE)[0] is Month.NEUTRAL
    assert month_state([seen(day, "excused")], [], RULE, ZONE)[0] is Month.NEUTRAL
    covered = [sick(date(2026, 3, 1), date(2026, 3, 15))]
    assert month_state([seen(day, "absent")], covered, RULE, ZONE)[0] is Month.NEUTRAL
    state, missed = month_state(
        [seen(day, "absent"), seen(date(2026, 3, 20), "absent")], covered, RULE, ZONE
    )
    assert state is Month.MISSED and [m.starts_at.day for m in missed] == [20], (
        "one excused, one not"
    )


# A month's record as the strategy draws it: kept, missed, neutral (excused) or no meeting.
STATES = st.sampled_from(["present", "absent", "excused", None])


@given(st.lists(STATES, min_size=1, max_size=30))
def test_the_run_is_the_missed_months_since_the_last_kept(history: list[str | None]) -> None:
    """history[-1] is the month in progress, the others the whole months before it."""
    months = [add_months(CURRENT, i - len(history) + 1) for i in range(len(history))]
    records = [seen(m.replace(day=10), p) for m, p in zip(months, history, strict=True) if p]
    run = [m.month for m in missed_run(records, [], CURRENT, FLOOR, RULE, ZONE)]
    expected: list[date] = []
    if history[-1] != "present":
        for month, presence in reversed(list(zip(months[:-1], history[:-1], strict=True))):
            if presence == "present" or month < FLOOR:
                break
            if presence == "absent":
                expected.insert(0, month)
    assert run == expected


def test_the_unpaid_months() -> None:
    jan, feb, may, jun = (date(2026, m, 1) for m in (1, 2, 5, 6))
    assert unpaid_run(jan, jan, CURRENT, FLOOR) == tuple(date(2026, m, 1) for m in range(2, 7))
    assert unpaid_run(jan, CURRENT, CURRENT, FLOOR) == (), "the month in progress paid"
    assert unpaid_run(jan, jun, CURRENT, FLOOR) == (), "paid up to last month"
    assert unpaid_run(jan, feb, CURRENT, FLOOR) == (date(2026, 3, 1), date(2026, 4, 1), may, jun)
    assert unpaid_run(may, None, CURRENT, FLOOR) == (may, jun), "from the books' first month"
    assert unpaid_run(None, None, CURRENT, FLOOR) == (), "a member who pays no dues"
    assert len(unpaid_run(date(2020, 1, 1), None, CURRENT, FLOOR)) == RULE.lookback_months
