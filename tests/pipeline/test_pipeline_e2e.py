"""The pipeline over HTTP through the fake Bot API: a secretary records steps and contact
persons, the contact person hears of it, the daily job reminds the secretary of a deadline,
and the reminder's button opens the person's file."""

from handlers.core.context import Options
from handlers.pipeline.settings import PipelineSettings
from scheduler import pipeline_jobs
from storage.enums import Role, Stage
from tests.support.chat import Chat, Clock
from tests.support.fake_telegram import FakeTelegram
from tests.support.pipeline import check_complete_file, journey
from tests.support.telegram_rig import Rig, received, say


async def test_steps_contacts_and_a_deadline_reminder(
    fake: FakeTelegram, rig: Rig, clock: Clock
) -> None:
    chat = Chat(rig.services, clock)
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    teacher = await chat.bound("李老师")
    await chat.enrol("张三", stage=Stage.APPLICANT)
    assert "已补录" in await say(fake, secretary, "/stage 张三 入党申请人 2026-11-10")
    assert "已记录：2026-11-12 与 张三 谈话" in await say(fake, secretary, "/talk 张三 2026-11-12")
    reply = await say(fake, secretary, "/stage 张三 入党积极分子 2026-11-20 支委会研究确定")
    assert "成为入党积极分子" in reply and "尚未确定培养联系人" in reply
    assert "已通知" in await say(fake, secretary, "/contact 张三 李老师")
    assert "/talk 张三" in await received(fake, teacher, "培养联系人")

    await chat.enrol("预备乙", stage=Stage.PROBATIONARY)
    await say(fake, secretary, "/stage 预备乙 预备党员 2025-12-01")
    counts = await pipeline_jobs.daily()
    assert counts["deadlines"] == 1, counts
    reminder = await received(fake, secretary, "发展工作提醒")
    assert (
        "预备乙" in reminder
        and "预备期为一年" in reminder
        and "《中国共产党章程》第七条" in reminder
    )
    _, buttons = fake.buttons_on_latest(int(secretary.account_id))
    assert buttons == ["/pipeline 预备乙"]
    file = await say(fake, secretary, callback=buttons[0])
    assert "预备乙 · 预备党员" in file and "⏳ 预备期为一年" in file
    assert await pipeline_jobs.daily() == {
        "deadlines": 0,
        "contact_talks": 0,
        "thought_reports": 0,
        "orglife": 0,
        "minutes": 0,
        "care": 0,
        "feedback_opened": 0,
        "feedback": 0,
    }, "a second run the same day queues nothing"
    assert Options().of(PipelineSettings).pipeline_remind_at == "09:00"


async def test_a_person_carried_to_full_membership_over_telegram(
    fake: FakeTelegram, rig: Rig, clock: Clock
) -> None:
    chat = Chat(rig.services, clock)
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await chat.enrol("李老师")
    await chat.enrol("王五")
    for step in await journey(chat):
        assert (await say(fake, secretary, step)).startswith("已"), step
    check_complete_file(await say(fake, secretary, "/pipeline 张三"))
