"""Data-access monitoring (泄露监测): refused commands traced by the router, the rules over the
traces (volume, usual rate, outside the branch, repeated refusals) alerting once per incident,
/access_log, and the watermark every export carries; an alert end to end over the fake Bot API."""

import ast
import csv
import json
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.app.services import Services
from handlers.access import watch
from handlers.access.log import KNOWN_WHAT, REFUSAL_REASONS
from handlers.access.rules import incident_key, usual_rate, window_start
from handlers.access.settings import AccessSettings
from handlers.account.members import NewMember, add_member, issue_invite
from handlers.core.context import Options
from handlers.core.i18n import load_catalog
from storage import chain, traces
from storage.enums import Role, Stage
from storage.models import Member, OutboxMessage
from storage.traces import Entry
from tests.conftest import BRANCH, Cli
from tests.support.chat import Chat, Clock, User
from tests.support.fake_telegram import FakeTelegram
from tests.support.notices import queued
from tests.support.people import member_named as member
from tests.support.telegram_rig import Rig, received, say
from tests.support.traces import traces_of

OTHER_BRANCH = "化学化工学院第二党支部"
ROOT = Path(__file__).resolve().parents[2]
EXPORTER = "audit01"


async def add_reads(
    services: Services,
    actor: Member,
    whose: Sequence[Member | None],
    at: datetime,
    kind: str = "data.viewed",
) -> None:
    """One read by `actor` of each person in `whose` (None: a branch-wide table), at `at`."""
    entries = [
        Entry(
            kind,
            member_id=m.id if m else None,
            branch_id=m.branch_id if m else actor.branch_id,
            actor_id=actor.id,
            data={"what": "pipeline"} if kind == "data.viewed" else {"view": "candidates"},
        )
        for m in whose
    ]
    async with services.sessions.begin() as session:
        await traces.append_many(session, services.box, entries, at)


async def run_watch(services: Services, now: datetime, **settings: object) -> int:
    options = services.router.options
    options = options.having(options.of(AccessSettings).model_copy(update=settings))
    async with services.sessions.begin() as session:
        return await watch(session, services.box, options, now)


async def branch_staff(chat: Chat) -> tuple[User, User, Member, Member]:
    """A bound secretary and admin of the first branch, and two members to read about."""
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    admin = await chat.bound("组织员", role=Role.ADMIN)
    await chat.enrol("张三", stage=Stage.ACTIVIST)
    await chat.enrol("李四")
    return secretary, admin, await member(chat, "张三"), await member(chat, "李四")


async def test_a_secretary_viewing_a_few_files_raises_nothing(chat: Chat, clock: Clock) -> None:
    secretary, _, zhang, _ = await branch_staff(chat)
    assert "张三" in await secretary.say("/pipeline 张三")
    assert "党费" in await secretary.say("/dues 李四")
    await secretary.say("/candidates")
    await secretary.send("/mydata")  # one's own data is not someone else's
    reads = await traces_of(chat.services, "data.viewed")
    assert [t.data["what"] for t in reads] == ["pipeline", "dues"]
    assert reads[0].member_id == zhang.id
    assert await run_watch(chat.services, clock()) == 0
    assert await traces_of(chat.services, "access.alert") == []


async def test_a_burst_alerts_once_per_window_and_again_in_a_new_one(
    chat: Chat, clock: Clock
) -> None:
    _, _, zhang, li = await branch_staff(chat)
    reader = await member(chat, "书记")
    limit = chat.services.router.options.of(AccessSettings).access_max_reads
    await add_reads(chat.services, reader, [zhang, li] * (limit // 2 + 1), clock())
    assert await run_watch(chat.services, clock()) == 1
    clock.advance(minutes=5)
    assert await run_watch(chat.services, clock()) == 0, "the same incident alerts once"

    [alert] = await traces_of(chat.services, "access.alert")
    key = incident_key("volume", reader.id, window_start(clock(), timedelta(hours=1)))
    assert alert.ref == key == f"access:volume:{reader.id}:20261124T0200Z"
    assert alert.member_id == reader.id and alert.data["count"] == limit + 2
    messages = await queued(chat.services, key)
    admin_id = (await member(chat, "组织员")).id
    assert sorted(m.member_id or 0 for m in messages) == sorted([reader.id, admin_id])
    text = messages[0].text
    assert "书记" in text and "短时间内大量查看或导出他人数据" in text
    assert f"60 分钟内查看或导出他人数据 {limit + 2} 次（上限 {limit} 次）" in text
    assert "/access_log 书记" in text
    buttons = {m.member_id: m.buttons for m in messages}
    assert buttons == {reader.id: [], admin_id: [f"/access_log #{reader.id}"]}

    clock.advance(hours=2)
    await add_reads(chat.services, reader, [zhang] * (limit + 1), clock())
    assert await run_watch(chat.services, clock()) == 1, "a new window is a new incident"
    assert len(await traces_of(chat.services, "access.alert")) == 2
    async with chat.services.sessions() as session:
        rows = (await session.scalars(select(OutboxMessage.key))).all()
    assert len(rows) == len(set(rows)) == 4


async def test_far_above_the_usual_rate_alerts_and_a_busy_routine_does_not(
    chat: Chat, clock: Clock
) -> None:
    await branch_staff(chat)
    quiet = await member(chat, "书记")
    await chat.enrol("组织委员", role=Role.COMMITTEE)
    busy = await member(chat, "组织委员")
    zhang = await member(chat, "张三")
    for day in range(1, 30):  # a month of history: 1 read a day, or 300
        at = clock() - timedelta(days=day)
        await add_reads(chat.services, quiet, [zhang], at)
        await add_reads(chat.services, busy, [zhang] * 300, at)
    # 30 reads in the hour: far above a read a day, not above 300 a day (12.5 an hour).
    await add_reads(chat.services, quiet, [zhang] * 30, clock())
    await add_reads(chat.services, busy, [zhang] * 30, clock())
    assert await run_watch(chat.services, clock()) == 1
    [alert] = await traces_of(chat.services, "access.alert")
    assert alert.member_id == quiet.id and alert.data["usual"] == pytest.approx(0.04, abs=0.01)
    [message, *_] = await queued(chat.services, alert.ref)
    # One read a day is 0.04 an hour: shown as such, not rounded to a misleading 0.0.
    assert "远超其平时（此前 30 天平均每 60 分钟 0.04 次）" in message.text

    # Under the minimum, even a first reader raises nothing; over it, with no history, it does.
    clock.advance(hours=3)
    await chat.enrol("新支委", role=Role.COMMITTEE)
    newcomer = await member(chat, "新支委")
    await add_reads(chat.services, newcomer, [zhang] * 19, clock())
    assert await run_watch(chat.services, clock()) == 0
    await add_reads(chat.services, newcomer, [None], clock())  # a branch-wide table counts too
    assert await run_watch(chat.services, clock()) == 1
    fresh = (await traces_of(chat.services, "access.alert"))[-1]
    [told, *_] = await queued(chat.services, fresh.ref)
    assert "此前 30 天没有任何查看或导出他人数据的记录（新账号或首次使用）" in told.text
    assert "0.0 次" not in told.text and "平均每" not in told.text
    assert await run_watch(chat.services, clock(), access_min_reads=10) == 0


async def test_reading_a_member_of_another_branch_alerts(chat: Chat, clock: Clock) -> None:
    await branch_staff(chat)
    await chat.bound("二支书记", role=Role.SECRETARY, branch=OTHER_BRANCH)
    await chat.enrol("王五", branch=OTHER_BRANCH)
    secretary, admin = await member(chat, "书记"), await member(chat, "组织员")
    wang, zhang = await member(chat, "王五"), await member(chat, "张三")
    await add_reads(chat.services, secretary, [zhang], clock())
    await add_reads(chat.services, admin, [wang, zhang], clock())  # admins see every branch
    assert await run_watch(chat.services, clock()) == 0
    await add_reads(chat.services, secretary, [wang], clock())
    assert await run_watch(chat.services, clock()) == 1
    [alert] = await traces_of(chat.services, "access.alert")
    assert alert.data["rule"] == "outside" and alert.data["count"] == 1
    messages = await queued(chat.services, alert.ref)
    # The reader's own branch hears of it (here the secretary themself) and every admin;
    # the other branch's secretary is not told.
    assert sorted(m.member_id or 0 for m in messages) == sorted([secretary.id, admin.id])
    assert "查看其他支部成员的数据" in messages[0].text
    assert "60 分钟内查看其他支部成员的数据 1 次" in messages[0].text


async def test_repeated_refused_commands_are_traced_and_alert(chat: Chat, clock: Clock) -> None:
    await chat.bound("书记", role=Role.SECRETARY)
    admin = await chat.bound("组织员", role=Role.ADMIN)
    prober = await chat.bound("党员甲")
    await chat.enrol("张三", stage=Stage.ACTIVIST)
    stranger = chat.user()
    assert "还没有绑定" in await stranger.say("/broadcast 通知")  # not traced
    limit = chat.services.router.options.of(AccessSettings).access_max_refusals
    for i in range(limit - 1):
        command = "/stage 张三 发展对象 2026-11-20" if i % 2 else "/broadcast 大家好"
        assert "仅限" in await prober.say(command)
    assert await run_watch(chat.services, clock()) == 0, "one short of the limit"
    in_group = prober.in_group("-100777")
    assert "私聊" in await in_group.say("/bind_code")  # a code typed where all can see it
    refused = await traces_of(chat.services, "access.refused")
    prober_id = (await member(chat, "党员甲")).id
    assert len(refused) == limit and {t.actor_id for t in refused} == {prober_id}
    assert {t.data["command"] for t in refused} == {"stage", "broadcast", "bind_code"}
    assert refused[-1].data["reason"] == "private" and refused[0].data["reason"] == "role"
    assert await run_watch(chat.services, clock()) == 1
    [alert] = await traces_of(chat.services, "access.alert")
    assert alert.data["rule"] == "refusals" and alert.data["count"] == limit
    [message, *_] = await queued(chat.services, alert.ref)
    assert f"60 分钟内 {limit} 次执行无权限的命令被拒" in message.text
    assert "党员甲" in message.text and "/access_log 党员甲" in message.text
    log = await admin.say("/access_log 党员甲")
    assert "多次执行无权限的命令，60 分钟内 10 次" in log
    refusals = log.split("被拒绝的命令（最近）：\n")[1].splitlines()
    assert refusals[0].endswith("/bind_code（未在私聊中使用）")
    assert refusals[1].endswith("/broadcast（无权限）") and refusals[2].endswith("/stage（无权限）")
    assert len(refusals) == 10


async def test_a_refusal_for_want_of_a_branch_is_traced_after_the_rollback(
    chat: Chat, services: Services
) -> None:
    await chat.branch()
    async with services.sessions.begin() as session:
        new = NewMember(name="无支部书记", role=Role.SECRETARY)
        nobody = await add_member(session, services.box, None, new, chat.clock())
        code = await issue_invite(session, services.box, nobody, chat.clock(), timedelta(1))
    stray = chat.user()
    await stray.say(f"/start {code}")
    assert "没有归属支部" in await stray.say("/broadcast 通知")
    [refused] = await traces_of(services, "access.refused")
    assert refused.actor_id == nobody.id
    assert refused.data == {"command": "broadcast", "reason": "branch"}
    async with services.sessions() as session:
        assert (await chain.verify(session, services.box)).ok


async def test_access_log_for_admins_only(chat: Chat, clock: Clock) -> None:
    secretary, admin, zhang, _ = await branch_staff(chat)
    await secretary.say("/pipeline 张三")
    await secretary.say("/dues 李四")
    await secretary.say("/candidates")
    clock.advance(minutes=1)
    await zhang_views_own(chat)

    refused = await secretary.say("/access_log")
    assert "仅限组织员（管理员）使用" in refused
    log = await admin.say("/access_log")
    assert log.startswith("🔍 访问记录") and "异常访问告警（最近）：\n（无）" in log
    lines = log.split("最近 50 条，新的在前）：\n")[1].splitlines()
    assert lines[0].endswith("书记 查看对比表 → 化学化工学院第一党支部（整个支部）"), lines
    assert lines[1].endswith("书记 查看党费记录 → 李四"), lines
    assert lines[2].endswith("书记 查看培养档案 → 张三"), lines
    assert lines[0].startswith("· 2026-11-24 10:00")
    assert len(lines) == 3, "one's own data (张三's /mydata) is not listed"

    named = await admin.say("/access_log 张三")
    assert named.startswith(f"🔍 张三（编号 #{zhang.id}）的访问记录")
    assert "查看培养档案 → 张三" in named and "李四" not in named
    again = await admin.say("访问记录 李四")
    assert "查看党费记录 → 李四" in again and "组织员 查看访问记录 → 张三" not in again
    viewed = [
        t for t in await traces_of(chat.services, "data.viewed") if t.data["what"] == "access_log"
    ]
    assert [t.member_id for t in viewed] == [None, zhang.id, (await member(chat, "李四")).id]
    assert "组织员 查看访问记录" in await admin.say("/access_log 组织员")

    # An alert shows at the top.
    reader = await member(chat, "书记")
    await add_reads(chat.services, reader, [zhang] * 201, clock())
    assert await run_watch(chat.services, clock()) == 1
    top = await admin.say("/access_log 书记")
    assert "2026-11-24 10:01 书记：短时间内大量查看或导出他人数据，60 分钟内 204 次" in top


def _traced_values(key: str) -> tuple[set[str], set[str]]:
    """The values (and f-string prefixes) the code traces under `key` in a dict literal
    ({"what": "pipeline"}), in bot/ and handlers/."""
    values: set[str] = set()
    prefixes: set[str] = set()
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Dict):
                    continue
                for k, v in zip(node.keys, node.values, strict=True):
                    if not (isinstance(k, ast.Constant) and k.value == key):
                        continue
                    if isinstance(v, ast.Constant) and isinstance(v.value, str):
                        values.add(v.value)
                    elif isinstance(v, ast.JoinedStr) and isinstance(v.values[0], ast.Constant):
                        prefixes.add(str(v.values[0].value))
    return values, prefixes


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_every_traced_read_and_refusal_has_words(lang: str) -> None:
    catalog = load_catalog(lang)
    whats, what_prefixes = _traced_values("what")
    assert {"report.scorecard", "scorecard", "web.scorecard"} <= whats and "report." in (
        what_prefixes
    )
    assert not whats - KNOWN_WHAT, f"traced but without words in /access_log: {whats - KNOWN_WHAT}"
    assert all(any(w.startswith(p) for w in KNOWN_WHAT) for p in what_prefixes)
    missing = sorted(w for w in KNOWN_WHAT if f"access.what.{w}" not in catalog)
    assert not missing, f"access.what.* missing in {lang}: {missing}"
    reasons, _ = _traced_values("reason")
    worded = {k.removeprefix("access.reason.") for k in catalog if k.startswith("access.reason.")}
    assert reasons <= REFUSAL_REASONS == worded


async def test_access_log_names_every_read_in_words(chat: Chat, clock: Clock) -> None:
    _, admin, zhang, _ = await branch_staff(chat)
    reader = await member(chat, "书记")
    entries = [
        Entry(kind, member_id=zhang.id, actor_id=reader.id, data={"what": what})
        for kind, what in [
            ("data.exported", "report.scorecard"),
            ("data.viewed", "web.scorecard"),
            ("data.viewed", "scorecard"),
            ("data.exported", "something.from.another.version"),
        ]
    ]
    async with chat.services.sessions.begin() as session:
        await traces.append_many(session, chat.services.box, entries, clock())
    log = await admin.say("/access_log")
    assert "书记 导出考评表 → 张三" in log and "书记 查看支部考评表（网页） → 张三" in log
    assert "书记 查看考评表 → 张三" in log and "书记 导出 → 张三" in log
    assert not re.search(r"[a-z_]+\.[a-z_]+", log.split("新的在前）：")[1]), log


async def zhang_views_own(chat: Chat) -> None:
    _, code = await chat.enrol("张三丰")
    user = chat.user()
    await user.say(f"/start {code}")
    await user.send("/mydata")


async def test_access_log_bad_input(chat: Chat) -> None:
    _, admin, _, _ = await branch_staff(chat)
    await chat.enrol("张三", branch=OTHER_BRANCH)
    assert "没有找到“赵六”" in await admin.say("/access_log 赵六")
    assert "有 2 位成员叫“张三”" in await admin.say("/access_log 张三")
    assert "没有找到“#999”" in await admin.say("/access_log #999")
    assert "没有找到“#abc”" in await admin.say("/access_log #abc")
    assert "参数太长" in await admin.say("/access_log " + "长" * 2000)
    in_group = admin.in_group("-100777")
    assert "访问" in await in_group.privately("/access_log")
    assert "/access_log 姓名" in await admin.say("/help access_log")


async def test_mydata_carries_a_watermark(chat: Chat, clock: Clock) -> None:
    user = await chat.bound("张三")
    [reply] = await user.send("/mydata")
    assert reply.file is not None
    document = json.loads(reply.file.content)
    [exported] = await traces_of(chat.services, "data.exported")
    zhang = await member(chat, "张三")
    assert document["watermark"] == {
        "exported_by": "张三",
        "member": zhang.id,
        "exported_at": "2026-11-24T10:00:00+08:00",
        "trace": exported.id,
        "app": "branchbot",
    }


def is_mark(line: str) -> bool:
    return line.startswith(f"导出人：{EXPORTER}（命令行） 导出时间：") and "留痕编号：" in line


def test_the_traces_export_carries_a_watermark(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: EXPORTER)
    lines = cli("export", "traces").output.splitlines()
    mark = json.loads(lines[0])
    assert list(mark) == ["watermark"] and is_mark(mark["watermark"]), mark
    assert mark["watermark"].endswith(" 支部助手")
    assert json.loads(lines[1])["kind"] == "branch.created"
    out = tmp_path / "traces.csv"
    assert cli("export", "traces", "--format", "csv", "-o", str(out)).exit_code == 0
    rows = list(csv.reader(out.open(encoding="utf-8", newline="")))
    assert len(rows[0]) == 1 and rows[0][0].startswith("# ") and is_mark(rows[0][0][2:])
    assert rows[1][:3] == ["id", "at", "kind"]
    # The number in the line is the export's own trace.
    exported = [json.loads(x) for x in cli("export", "traces").output.splitlines()[1:]]
    csv_export = [r for r in exported if r["kind"] == "data.exported"][1]
    assert f"留痕编号：{csv_export['id']} " in rows[0][0]
    assert csv_export["data"]["by"] == EXPORTER


def test_reports_carry_a_watermark(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: EXPORTER)
    assert (
        cli("member", "add", "--branch", BRANCH, "--name", "甲", "--stage", "activist").exit_code
        == 0
    )
    out = tmp_path / "candidates.xlsx"
    assert cli("report", "--branch", BRANCH, "--out", str(out)).exit_code == 0
    book = load_workbook(out)
    notes = [row[0].value for row in book["说明"].iter_rows() if row[0].value]
    assert "不代替组织决定" in notes[0]
    assert any(is_mark(str(line)) for line in notes), notes
    props = book.properties
    assert props.creator == f"{EXPORTER}（命令行）"
    assert is_mark(props.description or "") and props.keywords == props.description

    table = tmp_path / "t.csv"
    assert cli("report", "--branch", BRANCH, "--out", str(table)).exit_code == 0
    text = table.read_bytes().decode("utf-8-sig")
    first, header = text.splitlines()[:2]
    assert is_mark(first) and header.startswith("姓名,阶段")
    data = tmp_path / "t.json"
    assert cli("report", "--branch", BRANCH, "--view", "awards", "--out", str(data)).exit_code == 0
    assert is_mark(json.loads(data.read_text(encoding="utf-8"))["watermark"])
    exported = [
        json.loads(x)
        for x in cli("export", "traces").output.splitlines()[1:]
        if '"data.exported"' in x
    ]
    assert [e["data"]["by"] for e in exported[:3]] == [EXPORTER] * 3
    assert f"留痕编号：{exported[0]['id']} " in str(props.description)


async def test_an_alert_over_telegram(fake: FakeTelegram, rig: Rig, clock: Clock) -> None:
    chat = Chat(rig.services, clock)
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    admin = await chat.bound("组织员", role=Role.ADMIN)
    prober = await chat.bound("党员甲")
    await chat.enrol("张三", stage=Stage.ACTIVIST)
    options: Options = rig.services.router.options
    for _ in range(options.of(AccessSettings).access_max_refusals):
        assert "仅限" in await say(fake, prober, "/stage 张三 发展对象 2026-11-20")
    async with rig.services.sessions.begin() as session:
        assert await watch(session, rig.services.box, options, clock()) == 1
    rig.sender.wake()
    alert = await received(fake, secretary, "异常访问告警")
    assert "党员甲" in alert and "多次执行无权限的命令" in alert
    assert "党员甲" in await received(fake, admin, "异常访问告警")
    _, buttons = fake.buttons_on_latest(int(admin.account_id))
    prober_id = (await member(chat, "党员甲")).id
    assert buttons == [f"/access_log #{prober_id}"]
    log = await say(fake, admin, callback=buttons[0])
    assert "党员甲" in log and "多次执行无权限的命令，60 分钟内 10 次" in log


def test_a_usual_rate_is_never_shown_as_zero() -> None:
    assert [usual_rate(u) for u in (0.04, 0.0014, 0.5, 1.0, 12.46)] == [
        "0.04",
        "0.0014",
        "0.5",
        "1.0",
        "12.5",
    ]
