"""The development file of people who joined before the branch used the bot, and the dates a
step's decision names (issue 18): a rule is ❌ only when the record shows it broken, a step
cannot rest on a meeting held after it, the history names the approval once, and the talk
reminder says how long it really has been.

The clock fixture stands at 2026-11-24 10:00 in Shanghai."""

from datetime import UTC, date, datetime

from sqlalchemy import update

from handlers.core.context import Options
from handlers.pipeline.reminders import remind_contact_talks
from handlers.pipeline.settings import PipelineSettings
from storage.enums import MeetingKind, MeetingStatus, Role, Stage
from storage.models import Meeting, Member
from storage.roster import move_membership
from tests.support.chat import Chat
from tests.support.evaluation import joined_on
from tests.support.notices import queued
from tests.support.pipeline import meeting, secretary_with_contacts


def marks(file: str) -> str:
    """The checklist marks of a file, in order."""
    return "".join(ch for ch in file if ch in "✅❌⏳❔") + "⚠" * file.count("⚠️")


async def test_people_from_before_the_bot_break_no_rule(chat: Chat) -> None:
    secretary = await secretary_with_contacts(chat)
    await chat.enrol("老党员")  # a full member for years, no dates entered
    await chat.enrol("新预备", stage=Stage.PROBATIONARY)  # added as probationary, no dates
    awards = await secretary.say("/candidates 评优")
    assert "未满足" not in awards, awards
    assert "老党员（正式党员" in awards and "规定 不适用" in awards
    old = await secretary.say("/pipeline 老党员")
    assert marks(old) == "", old
    assert "使用本系统之前" in old
    probation = await secretary.say("/pipeline 新预备")
    # Only the rule still running is listed, not checkable until the date is entered.
    assert marks(probation) == "❔" and "未记录进入“预备党员”的日期" in probation, probation
    overview = await secretary.say("/pipeline")
    assert "项未满足" not in overview, overview


async def test_entered_dates_bring_the_rules_in_judged_only_on_evidence(chat: Chat) -> None:
    secretary = await secretary_with_contacts(chat)
    await chat.enrol("补录甲")
    for step in (
        "/stage 补录甲 发展对象 2017-09-01",
        "/stage 补录甲 预备党员 2018-06-01",
        "/stage 补录甲 正式党员 2019-06-01",
    ):
        assert "已补录" in await secretary.say(step), step
    file = await secretary.say("/pipeline 补录甲")
    assert "❌" not in file and "⚠️" not in file, file
    # The probation is judged on its dates; the review and training, done on paper before
    # the bot, are not checkable rather than missing.
    assert "✅ 预备期为一年" in file and "自 2018-06-01 至 2019-06-01，期满" in file
    assert "❔ 接收为预备党员前完成政治审查" in file
    assert "成为预备党员不是在本系统中记录的" in file
    # Rules whose stages have no date at all (the application, the activist year) do not apply.
    assert "收到入党申请书" not in file and "经过一年以上培养" not in file
    table = await secretary.say("/candidates 评优")
    assert "补录甲" in table and "未满足" not in table


async def test_a_move_recorded_in_the_bot_is_still_judged(chat: Chat) -> None:
    """A person moved on in the bot without the requirement is ❌ as before."""
    secretary = await secretary_with_contacts(chat)
    await chat.enrol("积极丙", stage=Stage.ACTIVIST)
    await secretary.say("/stage 积极丙 入党积极分子 2025-06-01")
    await secretary.say("/stage 积极丙 发展对象 2026-07-01")
    file = await secretary.say("/pipeline 积极丙")
    assert "❌ 指定一至两名正式党员作培养联系人：尚未确定培养联系人" in file, file


async def finished(chat: Chat, kind: MeetingKind, day: date, status: MeetingStatus) -> int:
    found = await meeting(chat, kind, day)
    async with chat.services.sessions.begin() as session:
        await session.execute(update(Meeting).where(Meeting.id == found).values(status=status))
    return found


async def test_a_step_cannot_rest_on_a_later_or_cancelled_meeting(chat: Chat) -> None:
    secretary = await secretary_with_contacts(chat)
    await chat.enrol("发展甲", stage=Stage.CANDIDATE)
    later = await meeting(chat, MeetingKind.ASSEMBLY, date(2026, 11, 20))
    called_off = await finished(
        chat, MeetingKind.ASSEMBLY, date(2026, 10, 1), MeetingStatus.CANCELLED
    )
    reply = await secretary.say(f"/stage 发展甲 预备党员 2026-11-01 支部大会#{later}")
    assert f"会议 #{later} 于 2026-11-20 举行，晚于 2026-11-01" in reply, reply
    assert "/stage 发展甲 预备党员 2026-11-20" in reply  # the right form
    reply = await secretary.say(f"/stage 发展甲 预备党员 2026-11-01 支部大会#{called_off}")
    assert f"会议 #{called_off} 已取消" in reply, reply
    reply = await secretary.say(
        f"/stage 发展甲 预备党员 2026-11-20 支部大会#{later} 审批2026-11-10"
    )
    assert "上级审批日期 2026-11-10 早于 2026-11-20" in reply, reply
    reply = await secretary.say(
        f"/stage 发展甲 预备党员 2026-11-20 支部大会#{later} 审批2026-12-10"
    )
    assert "2026-12-10 还没到" in reply, reply
    assert "已记录" in await secretary.say(f"/stage 发展甲 预备党员 2026-11-20 支部大会#{later}")


async def test_the_history_names_the_approval_date_once(chat: Chat) -> None:
    secretary = await secretary_with_contacts(chat)
    await chat.enrol("发展乙", stage=Stage.CANDIDATE)
    held = await meeting(chat, MeetingKind.ASSEMBLY, date(2026, 9, 20))
    reply = await secretary.say(
        f"/stage 发展乙 预备党员 2026-09-20 支部大会#{held}，审批 2026-10-10"
    )
    assert reply.startswith("已记录"), reply
    file = await secretary.say("/pipeline 发展乙")
    line = next(x for x in file.splitlines() if "成为预备党员" in x)
    assert line == f"· 2026-09-20 成为预备党员，支部大会#{held}，上级审批 2026-10-10", line


async def test_talk_reminder_says_how_long_it_has_been(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await chat.bound("李老师")  # contact persons with a chat, so the reminders are queued
    await chat.bound("王五")
    await chat.enrol("积极甲", stage=Stage.ACTIVIST)
    await chat.enrol("积极乙", stage=Stage.ACTIVIST)
    await secretary.say("/stage 积极甲 入党积极分子 2026-01-10")
    await secretary.say("/contact 积极甲 李老师 2026-07-01")
    await secretary.say("/talk 积极甲 2026-02-01")  # five months before the contact began
    await secretary.say("/stage 积极乙 入党申请人 2026-03-05")
    await secretary.say("/stage 积极乙 入党积极分子 2026-05-01")
    await secretary.say("/contact 积极乙 王五 2026-08-01")  # no talk at all
    services = chat.services
    options = Options().having(PipelineSettings(contact_talk_months=3))
    chat.clock.now = datetime(2026, 12, 1, 2, tzinfo=UTC)
    async with services.sessions.begin() as session:
        assert await remind_contact_talks(session, services.box, options, chat.clock()) == 2
    texts = [q.text for q in await queued(services) if q.kind == "pipeline.reminded"]
    assert any("上次谈话是 2026-02-01，至今已 10 个月" in t for t in texts), texts
    assert any("自 2026-03-05 提出入党申请以来没有谈话记录（已 8 个月）" in t for t in texts)
    assert not any("3 个月没有谈话" in t for t in texts), texts


async def test_a_step_rests_on_a_meeting_of_the_branch_the_person_was_in_then(
    chat: Chat,
) -> None:
    """发展丙 moved from the first branch to the second on 2026-10-01: the first branch's
    assembly of September decided for them, the second's of September did not."""
    first, second = await chat.branch(), await chat.branch("数学学院教工党支部")
    secretary = await chat.bound("二支书记", role=Role.SECRETARY, branch=second.name)
    member_id, _ = await chat.enrol("发展丙", stage=Stage.CANDIDATE)
    moved_at = datetime(2026, 9, 30, 16, tzinfo=UTC)  # 2026-10-01 00:00 in Shanghai
    async with chat.services.sessions.begin() as session:
        await joined_on(session, member_id, datetime(2026, 1, 1, tzinfo=UTC))
        person = await session.get(Member, member_id)
        assert person is not None
        await move_membership(session, person, second, moved_at, "transferred", "transferred")
        held = {}
        for branch, day in ((first, 20), (second, 21)):
            row = Meeting(
                branch_id=branch.id,
                kind=MeetingKind.ASSEMBLY,
                title="讨论发展党员",
                starts_at=datetime(2026, 9, day, 6, tzinfo=UTC),
                status=MeetingStatus.FINISHED,
                checkin_secret="JBSWY3DPEHPK3PXP",
                created_at=datetime(2026, 9, 1, tzinfo=UTC),
            )
            session.add(row)
            await session.flush()
            held[branch.id] = row.id
    refused = await secretary.say(f"/stage 发展丙 预备党员 2026-09-25 支部大会#{held[second.id]}")
    assert f"找不到本支部的会议 #{held[second.id]}" in refused, refused
    done = await secretary.say(f"/stage 发展丙 预备党员 2026-09-25 支部大会#{held[first.id]}")
    assert "已记录：发展丙 于 2026-09-25 成为预备党员" in done, done
