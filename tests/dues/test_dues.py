"""Party dues (党费): rates, recording one month or a range and every refusal, /dues on a moving
clock, /dues_owed, the statement import (all or nothing), the monthly reminder, and /dues_record
end to end over the fake Bot API."""

import asyncio
import csv
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event, func, select, update

from bot.app.services import handler_options
from bot.app.settings import load_settings
from handlers.core.messages import UserError
from handlers.dues import remind_unpaid, standings
from handlers.dues.money import parse_amount, parse_months, yuan
from handlers.dues.settings import DuesSettings
from storage import people
from storage.db import create_engine, session_factory
from storage.enums import Role, Stage, StepKind
from storage.models import Member, OutboxMessage
from storage.pipeline_models import DuesPayment, StageChange
from tests.conftest import BRANCH, Cli
from tests.support.chat import Chat, Clock, User
from tests.support.fake_telegram import FakeTelegram
from tests.support.notices import queued
from tests.support.people import member_named
from tests.support.telegram_rig import Rig, received, say
from tests.support.traces import traces_of

# The clock fixture starts at 2026-11-24 10:00 in Shanghai: members added then pay from 2026-11.
SHANGHAI = ZoneInfo("Asia/Shanghai")
OTHER_BRANCH = "化学化工学院第二党支部"


async def admitted(chat: Chat, name: str, on: date) -> None:
    """Record the member's move to probationary on `on` (their first dues month), as for
    someone on the bot's roster since then (dues never start before the roster date)."""
    member = await member_named(chat, name)
    async with chat.services.sessions() as session, session.begin():
        joined = datetime(on.year, on.month, on.day, tzinfo=UTC)
        await session.execute(
            update(Member).where(Member.id == member.id).values(created_at=joined)
        )
        session.add(
            StageChange(
                member_id=member.id,
                kind=StepKind.ADVANCE,
                stage=Stage.PROBATIONARY,
                on=on,
                recorded_at=chat.clock(),
            )
        )


async def payment_count(chat: Chat) -> int:
    async with chat.services.sessions() as session:
        return int(await session.scalar(select(func.count(DuesPayment.id))) or 0)


async def team(chat: Chat) -> tuple[User, User]:
    return await chat.bound("书记", role=Role.SECRETARY), await chat.bound("党员甲")


# ---- amounts and months -------------------------------------------------------------------


@given(st.integers(min_value=1, max_value=10_000_000))
def test_amounts_round_trip_exactly(fen: int) -> None:
    assert parse_amount(yuan(fen)) == fen
    assert parse_amount(f"¥{yuan(fen)}元") == fen


@pytest.mark.parametrize("text", ["0.2", "0.20", "0.2元", "¥0.2", "￥0.2", "RMB0.2"])
def test_amount_forms(text: str) -> None:
    assert parse_amount(text) == 20


@pytest.mark.parametrize("text", ["0", "0.001", "-1", "1e2", "100000.01", "abc", "", "0.2.0"])
def test_bad_amounts(text: str) -> None:
    with pytest.raises(UserError):
        parse_amount(text)


def test_month_forms() -> None:
    nov = [date(2026, 11, 1)]
    assert parse_months("2026-11") == parse_months("2026.11") == parse_months("2026年11月") == nov
    assert parse_months("2026-11..2027-01") == [
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
    ]
    assert parse_months("2026年9月至11月")[-1] == date(2026, 11, 1)
    for bad in ("2026-13", "2026-11-01", "11月", "2026-11..2026-09"):
        with pytest.raises(UserError):
            parse_months(bad)


def test_default_rate_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRANCHBOT_DUES_DEFAULT", "1.5")
    assert handler_options(load_settings()).of(DuesSettings).default_fen == 150
    monkeypatch.delenv("BRANCHBOT_DUES_DEFAULT")
    assert load_settings().dues_default == Decimal("0.2")


# ---- rates and recording ------------------------------------------------------------------


async def test_rate_default_and_set(chat: Chat) -> None:
    secretary, member = await team(chat)
    assert "月党费标准：0.20 元（默认标准）" in await member.say("/dues")
    reply = await secretary.say("/dues_set 党员甲 0.5")
    assert "已将党员甲的月党费标准定为 0.50 元（原为 0.20 元）" in reply
    assert "月党费标准：0.50 元（支部核定）" in await member.say("党费")
    assert "原为 0.50 元" in await secretary.say("核定党费 党员甲 1")
    notices = [q for q in await queued(chat.services) if q.kind == "dues.rate_set"]
    assert [q.text.count("每月 0.50 元") for q in notices] == [1, 0]
    assert [t.data for t in await traces_of(chat.services, "dues.rate_set")] == [
        {"amount": "0.50", "before": "0.20"},
        {"amount": "1.00", "before": "0.50"},
    ]
    assert "金额" in await secretary.say("/dues_set 党员甲 0")
    assert "用法" in await secretary.say("/dues_set 党员甲")


async def test_record_one_month_and_a_range(chat: Chat) -> None:
    secretary, first = await team(chat)
    second = await chat.bound("党员乙", stage=Stage.PROBATIONARY)
    await admitted(chat, "党员乙", date(2026, 8, 15))
    reply = await secretary.say("/dues_record 党员甲 2026-11 0.2")
    assert "已记录党员甲的党费：2026年11月（1 个月），每月 0.20 元，2026-11-24 交纳" in reply
    reply = await secretary.say("记党费 党员乙 2026.08..2026年10月 0.2元 2026-11-20")
    assert "2026年8月至2026年10月（3 个月）" in reply and "共 0.60 元" in reply
    recorded = await traces_of(chat.services, "dues.recorded")
    assert [t.data["month"] for t in recorded] == ["2026-11", "2026-08", "2026-09", "2026-10"]
    assert recorded[1].data == {
        "month": "2026-08", "amount": "0.20", "paid_on": "2026-11-20", "source": "chat",
    }  # fmt: skip
    told = [q for q in await queued(chat.services) if q.kind == "dues.recorded"]
    assert len(told) == 2 and "党费已入账：2026年11月" in told[0].text and "书记" in told[0].text
    view = await second.say("/dues")
    assert "从2026年8月起交纳" in view and "未交：2026年11月，共 1 个月" in view
    assert "✅ 截至本月没有欠缴" in await first.say("/dues")
    assert "低于其月党费标准 0.20 元" in await secretary.say("/dues_record 党员乙 2026-11 0.1")


async def test_every_refusal(chat: Chat) -> None:
    secretary, member = await team(chat)
    await chat.bound("小赵", stage=Stage.ACTIVIST)
    await chat.bound("外支部", branch=OTHER_BRANCH)
    assert "0.20 元" in await secretary.say("/dues_record 党员甲 2026-11 0.2 2026-11-01")
    for args, words in [
        ("路人 2026-11 0.2", "没有找到“路人”"),
        ("外支部 2026-11 0.2", "没有找到“外支部”"),
        ("#999 2026-11 0.2", "没有找到“#999”"),
        ("小赵 2026-11 0.2", "小赵目前是入党积极分子，不交纳党费"),
        ("党员甲 2026-10 0.2", "党费从2026年11月（加入本系统）起记录，2026年10月在此之前"),
        ("党员甲 2026-12 0.2", "2026年12月还没到"),
        ("党员甲 2026-11 0.3", "已经记录过了：0.20 元，2026-11-01 交纳（在对话中记录）"),
        ("党员甲 2026-10..2026-12 0.2", "没有记录任何月份"),
        ("党员甲 2026-11 0.001", "金额“0.001”看不懂"),
        ("党员甲 2026-11 abc", "金额“abc”看不懂"),
        ("党员甲 2026-13 0.2", "月份“2026-13”看不懂"),
        ("党员甲 2026-11 0.2 2026-12-01", "交纳日期 2026-12-01 还没到"),
        ("党员甲 2026-11 0.2 昨天", "日期“昨天”看不懂"),
        ("党员甲 2026-11", "用法"),
    ]:
        assert words in await secretary.say(f"/dues_record {args}"), args
    assert await payment_count(chat) == 1
    assert "仅限" in await member.say("/dues_record 党员甲 2026-11 0.2")
    assert "只有支部书记" in await member.say("/dues 书记")


async def test_arrears_from_before_the_roster_from_the_joining_date(chat: Chat) -> None:
    """A branch that starts using the bot in November records the months its members paid
    (or owed) earlier in the year, back to each one's joining date, not the roster's date."""
    secretary, _ = await team(chat)
    await chat.bound("党员乙", stage=Stage.PROBATIONARY)
    assert "已补录" in await secretary.say("/stage 党员甲 预备党员 2026-03-15")
    reply = await secretary.say("/dues_record 党员甲 2026-03..2026-10 0.2")
    assert "2026年3月至2026年10月（8 个月）" in reply, reply
    reply = await secretary.say("/dues_record 党员甲 2026-02 0.2")
    assert "党员甲于2026年3月成为预备党员，2026年2月在此之前" in reply, reply
    # No joining date yet: the form that sets it is shown, then the month is accepted.
    reply = await secretary.say("/dues_record 党员乙 2026-09 0.2")
    assert "/stage 党员乙 预备党员 2026-09-01" in reply, reply
    await secretary.say("/stage 党员乙 预备党员 2026-09-01")
    assert "已记录党员乙" in await secretary.say("/dues_record 党员乙 2026-09 0.2")
    # What the bot counts as owed still starts with its own books (November): no years of
    # paper-paid dues turn into debt; the months recorded before are shown as paid.
    view = await secretary.say("/dues 党员甲")
    assert "未交：2026年11月，共 1 个月" in view and "· 2026年3月：0.20 元" in view, view
    assert "从2026年3月起交纳" in view and "本系统自2026年11月起记账" in view


async def test_namesakes_need_the_staff_number(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await chat.bound("张三")
    await chat.bound("张三")
    async with chat.services.sessions() as session, session.begin():
        first = (await people.members_named(session, "张三", None))[0]
        await session.execute(
            update(Member).where(Member.id == first.id).values(staff_no="2021001")
        )
    reply = await secretary.say("/dues_record 张三 2026-11 0.2")
    assert "有 2 位成员叫“张三”" in reply and "学号 2021001" in reply and "“2021001”" in reply
    assert "已记录张三" in await secretary.say("/dues_record 2021001 2026-11 0.2")
    assert "已记录张三" in await secretary.say(f"/dues_record #{first.id + 1} 2026-11 0.2")


# ---- seeing dues --------------------------------------------------------------------------


async def test_dues_shows_paid_and_owed_as_time_passes(chat: Chat) -> None:
    secretary, member = await team(chat)
    await chat.bound("小赵", stage=Stage.ACTIVIST)
    await secretary.say("/dues_record 党员甲 2026-11 0.2 2026-11-20")
    chat.clock.now = datetime(2027, 2, 10, 2, tzinfo=UTC)
    await secretary.say("/dues_record 党员甲 2026-12 0.1 2027-01-05")
    view = await member.say("/dues")
    assert "· 2026年12月：0.10 元（2027-01-05 交纳），少交 0.10 元" in view
    assert "· 2026年11月：0.20 元（2026-11-20 交纳）" in view
    assert "未交：2027年1月至2027年2月，共 2 个月（每月 0.20 元）" in view
    assert "少交：2026年12月少 0.10 元" in view and "合计应补交 0.50 元" in view
    chat.clock.now = datetime(2028, 1, 10, 2, tzinfo=UTC)  # 2026's payments are past 12 months
    assert "暂无记录" in await member.say("/dues")
    assert "合计应补交 2.70 元" in await member.say("/dues")  # 13 months and 0.10 short
    newcomer = await chat.bound("新人", stage=Stage.ACTIVIST)
    assert "还不需要交纳党费" in await newcomer.say("/dues")
    seen = await secretary.say("/dues 党员甲")
    assert "【党员甲·党费】" in seen and "合计应补交 2.70 元" in seen
    assert "不交纳党费" in await secretary.say("/dues 小赵")
    viewed = await traces_of(chat.services, "data.viewed")
    assert [t.data for t in viewed] == [{"what": "dues"}, {"what": "dues"}]
    assert viewed[0].member_id == (await member_named(chat, "党员甲")).id


async def test_dues_owed_lists_the_branch_most_owed_first(chat: Chat) -> None:
    secretary, _ = await team(chat)
    await chat.bound("党员乙", stage=Stage.PROBATIONARY)
    await chat.bound("小赵", stage=Stage.ACTIVIST)
    await chat.bound("外支部", branch=OTHER_BRANCH)
    for name in ("书记", "党员甲", "党员乙"):
        await secretary.say(f"/dues_record {name} 2026-11 0.2")
    assert "都已交清" in await secretary.say("/dues_owed")
    await admitted(chat, "党员乙", date(2026, 9, 1))
    chat.clock.advance(days=10)  # into December
    await secretary.say("/dues_record 书记 2026-12 0.2")
    reply = await secretary.say("欠缴党费")
    assert "截至2026年12月，2 人未交清，合计 0.80 元" in reply
    rows = [line for line in reply.splitlines() if line.startswith("· ")]
    assert rows == [
        "· 党员乙：3 个月，0.60 元（2026年9月至2026年10月、2026年12月）",
        "· 党员甲：1 个月，0.20 元（2026年12月）",
    ]
    viewed = await traces_of(chat.services, "data.viewed")
    assert viewed[-1].data == {"what": "dues_owed"}


async def test_standings_take_the_same_queries_for_many_members(chat: Chat) -> None:
    for n in range(12):
        await chat.enrol(f"成员{n}")
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    async with chat.services.sessions() as session:
        members = list(await people.members_named(session, "成员0", None))
        everyone = list((await session.scalars(select(Member))).unique().all())
        engine = chat.services.engine.sync_engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            await standings(session, members, date(2026, 11, 24), 20)
            few = len(statements)
            found = await standings(session, everyone, date(2027, 1, 1), 20, SHANGHAI)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert len(statements) - few == few == 3
    assert all(
        s.owed == [date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)] for s in found.values()
    )
    assert {s.owed_fen for s in found.values()} == {60}


# ---- the monthly reminder -----------------------------------------------------------------


async def test_reminder_queues_once_when_run_twice(chat: Chat) -> None:
    secretary, _ = await team(chat)
    await chat.bound("已交清")
    await chat.bound("小赵", stage=Stage.ACTIVIST)
    await chat.enrol("未绑定")  # owes, but has no chat to be reminded in
    services = chat.services
    chat.clock.now = datetime(2026, 12, 5, 1, tzinfo=UTC)
    await secretary.say("/dues_record 已交清 2026-11..2026-12 0.2")
    await secretary.say("/dues_record 书记 2026-11..2026-12 0.2")
    for expected in (1, 0):
        async with services.sessions() as session, session.begin():
            count = await remind_unpaid(
                session, services.box, services.router.options, chat.clock()
            )
        assert count == expected
    reminders = [q for q in await queued(services) if q.kind == "dues.reminder"]
    assert len(reminders) == 1 and reminders[0].member_id == (await member_named(chat, "党员甲")).id
    text = reminders[0].text
    assert "未交：2026年11月至2026年12月，共 2 个月" in text and "合计应补交 0.40 元" in text
    assert "请向支部书记 书记交纳" in text and reminders[0].buttons == ["/dues"]
    reminded = await traces_of(chat.services, "dues.reminded")
    assert len(reminded) == 1 and reminded[0].ref == "dues:2026-12:remind"
    assert reminded[0].data == {"months": ["2026-11", "2026-12"], "underpaid": [], "owed": "0.40"}
    async with services.sessions() as session:
        keys = (
            await session.scalars(
                select(OutboxMessage.key).where(OutboxMessage.kind == "dues.reminder")
            )
        ).all()
    assert keys == [f"dues:2026-12:remind:m{reminded[0].member_id}"]


# ---- the statement import -----------------------------------------------------------------


def _months_back(count: int) -> list[str]:
    """The `count` months up to this one (real time: the CLI runs on the wall clock)."""
    month = datetime.now(SHANGHAI).date().replace(day=1)
    found: list[str] = []
    for _ in range(count):
        found.insert(0, f"{month:%Y-%m}")
        month = (month - timedelta(days=1)).replace(day=1)
    return found


def write_statement(path: Path, rows: list[list[str]], header: list[str] | None = None) -> str:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header or ["姓名", "学号", "月份", "金额", "缴纳日期"])
        writer.writerows(rows)
    return str(path)


def _cli_roster(cli: Cli, database_url: str) -> None:
    """张三 and 王五 admitted as probationary three months ago; two 李四; an activist."""
    for name, number, stage in [("张三", "2021001", "预备党员"), ("王五", "2021002", "预备党员"),
                                ("李四", "2021003", "党员"), ("李四", "2021004", "党员"),
                                ("赵六", "2021005", "积极分子")]:  # fmt: skip
        args = ["member", "add", "--branch", BRANCH, "--name", name, "--staff-no", number]
        assert cli(*args, "--stage", stage).exit_code == 0
    asyncio.run(_admit_probationary(database_url))


async def _admit_probationary(database_url: str) -> None:
    engine = create_engine(database_url)
    start = date.fromisoformat(_months_back(3)[0] + "-01")
    async with session_factory(engine)() as session, session.begin():
        for member_id in (
            await session.scalars(select(Member.id).where(Member.stage == "probationary"))
        ).all():
            step = StageChange(member_id=member_id, kind=StepKind.ADVANCE, stage=Stage.PROBATIONARY,
                               on=start, recorded_at=datetime.now(UTC))  # fmt: skip
            session.add(step)
        # On the roster since then: dues never start before the roster date.
        joined = datetime(start.year, start.month, start.day, tzinfo=UTC)
        await session.execute(update(Member).values(created_at=joined))
    await engine.dispose()


def _payments(database_url: str) -> int:
    return asyncio.run(_count_payments(database_url))


async def _count_payments(database_url: str) -> int:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        count = int(await session.scalar(select(func.count(DuesPayment.id))) or 0)
    await engine.dispose()
    return count


def test_import_statement(cli: Cli, database_url: str, tmp_path: Path) -> None:
    _cli_roster(cli, database_url)
    first, second, third = _months_back(3)
    chinese_month = f"{third[:4]}年{int(third[5:])}月"
    rows = [
        ["张三", "", first, "0.2", ""],
        ["张三", "", second, "0.20元", "2020-01-01"],
        ["", "2021003", third, "0.5", ""],
        ["王五", "2021002", chinese_month, "¥0.2", ""],
    ]
    result = cli("dues", "import", write_statement(tmp_path / "ok.csv", rows), "--branch", BRANCH)
    assert result.exit_code == 0, result.output
    assert "4 条，3 人，合计 1.10 元" in result.output
    assert _payments(database_url) == 4
    bad = [
        ["张三", "", first, "0.2", ""],  # 2: already recorded
        ["路人", "", third, "0.2", ""],  # 3: unknown
        ["李四", "", third, "0.2", ""],  # 4: namesakes without a number
        ["王五", "", "2026-13", "0", ""],  # 5: bad month and amount
        ["王五", "", first, "0.2", "明天"],  # 6: bad paid date
        ["王五", "", first, "0.2", ""],  # 7: the same month twice in the file
        ["赵六", "", third, "0.2", ""],  # 8: an activist pays no dues
        ["张三", "2021002", third, "0.2", ""],  # 9: the number is someone else's
        ["王五", "", "2099-01", "0.2", ""],  # 10: a month to come
    ]
    result = cli("dues", "import", write_statement(tmp_path / "bad.csv", bad), "--branch", BRANCH)
    assert result.exit_code == 1
    out = result.output
    assert "没有导入任何记录" in out
    expected = [(2, "已经记录过了"), (3, "没有找到“路人”"), (4, "2 位“李四”，请填写学号"),
                (5, "月份“2026-13”"), (5, "金额“0”"), (6, "日期“明天”"), (7, "与第 6 行重复"),
                (8, "不交纳党费"), (9, "学号 2021002 是王五的"), (10, "还没到")]  # fmt: skip
    for line, words in expected:
        assert any(f"第 {line} 行" in row and words in row for row in out.splitlines()), (
            line,
            words,
        )
    assert _payments(database_url) == 4
    result = cli(
        "dues",
        "import",
        write_statement(tmp_path / "h.csv", [["x"]], ["who", "when"]),
        "--branch",
        BRANCH,
    )
    assert result.exit_code == 1 and "表头" in result.output


# ---- end to end ---------------------------------------------------------------------------


async def test_recorded_dues_reach_the_member_over_http(
    fake: FakeTelegram, rig: Rig, clock: Clock
) -> None:
    chat = Chat(rig.services, clock)
    secretary, member = await team(chat)
    month = clock().astimezone(SHANGHAI).date()
    reply = await say(fake, secretary, f"/dues_record 党员甲 {month:%Y-%m} 0.2")
    assert "已记录党员甲的党费" in reply
    told = await received(fake, member, "党费已入账")
    assert f"{month.year}年{month.month}月，每月 0.20 元" in told
    assert "截至本月没有欠缴" in await say(fake, member, "/dues")
