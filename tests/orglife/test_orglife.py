"""Organisational life: each kind of meeting against its frequency rule for the current
periods (held, scheduled, missing and by when), last periods' misses, the admin's side by side,
and the reminder before a period ends, once."""

import pytest

from handlers.orglife.reminders import remind_missing
from handlers.orglife.rules import parse_rules
from storage.enums import Role
from tests.support.chat import Chat, User
from tests.support.outbox import queued_to
from tests.support.people import admin_user, member_id
from tests.support.traces import traces_of

OTHER = "化学化工学院第二党支部"


async def meetings_in_november(secretary: User) -> None:
    """A 主题党日 and a 支委会 held, a 党课 scheduled for December, a 党小组会 cancelled."""
    for line in (
        "2026-11-25 14:30 | 主题党日 | 学习全会精神",
        "2026-11-26 14:30 | 支委会 | 研究发展工作",
        "2026-12-05 14:30 | 党课 | 党史专题",
        "2026-11-26 19:00 | 党小组会 | 学习交流",
    ):
        assert "已创建" in await secretary.say(f"/meeting_new {line}"), line
    assert "已取消" in await secretary.say("/meeting_cancel 4")


async def test_the_branch_sees_each_rule_for_this_period(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await meetings_in_november(secretary)
    chat.clock.advance(days=3)  # 2026-11-27 10:00
    view = await secretary.say("/orglife")
    lines = view.splitlines()
    assert lines[0] == "【化学化工学院第一党支部】组织生活（本期）"
    assert lines[1:7] == [
        "❗ 支部党员大会（2026年第4季度）：还差 1 次，须在 2026-12-31 前召开",
        "✅ 支委会（2026年11月）：已开 1 次，应至少 1 次",
        "❗ 党小组会（2026年11月）：还差 1 次，须在 2026-11-30 前召开",
        "⏳ 党课（2026年第4季度）：已开 0 次，已安排 1 次，应至少 1 次",
        "✅ 主题党日（2026年11月）：已开 1 次，应至少 1 次",
        "❗ 组织生活会（2026年）：还差 1 次，须在 2026-12-31 前召开",
    ]
    assert "上期未达：" in view and "· 支委会 2026年10月：开了 0 次，应至少 1 次" in view
    assert (
        "· 组织生活会 2025年：开了 0 次" in view
        and "依据：《中国共产党支部工作条例（试行）》" in view
    )


async def test_admins_compare_branches_and_others_see_their_own(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await chat.branch(OTHER)
    await meetings_in_november(secretary)
    chat.clock.advance(days=3)
    admin = await admin_user(chat)
    school = await admin.say("组织生活")
    marks = "❗assembly ✅committee ❗group ⏳lecture ✅theme_day ❗life"
    assert f"· 化学化工学院第一党支部：{marks}（还差 3 项）" in school
    assert "· 化学化工学院第二党支部：" in school and "（还差 6 项）" in school
    assert "theme_day = 主题党日" in school
    assert "【化学化工学院第二党支部】" in await admin.say(f"/orglife {OTHER}")
    assert "没有名为“第三支部”的支部" in await admin.say("/orglife 第三支部")
    assert "只能查看本支部" in await secretary.say(f"/orglife {OTHER}")
    member = await chat.bound("党员")
    assert "仅限支委及以上" in await member.say("/orglife")


async def test_the_reminder_goes_once_when_a_period_is_about_to_end(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await meetings_in_november(secretary)
    chat.clock.advance(days=3)  # three days before November ends: 党小组会 is missing
    services = chat.services

    async def remind() -> int:
        async with services.sessions.begin() as session:
            return await remind_missing(
                session, services.box, services.router.options, chat.clock()
            )

    assert await remind() == 1
    assert await remind() == 0  # once per rule and period
    (told,) = await queued_to(services, await member_id(secretary), "orglife.reminded")
    assert "党小组会（2026年11月）：还差 1 次，须在 2026-11-30 前召开" in told
    assert "第十五条" in told
    (trace,) = await traces_of(services, "orglife.reminded")
    assert trace.ref == f"orglife:{trace.branch_id}:group:2026-11-01"
    chat.clock.advance(days=10)  # December: nothing is within 14 days of its end yet
    assert await remind() == 0


def test_a_bad_rules_file_names_the_rule() -> None:
    table = {
        "version": "x",
        "rule": [
            {
                "id": "bad",
                "name": "n",
                "source": "s",
                "kind": "party",
                "period": "month",
                "at_least": 1,
            }
        ],
    }
    with pytest.raises(ValueError, match="rule bad"):
        parse_rules(table)
    table["rule"][0] |= {"kind": "committee", "period": "week"}
    with pytest.raises(ValueError, match="rule bad"):
        parse_rules(table)
