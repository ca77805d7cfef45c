"""Organisational life end to end, on Telegram and on WeCom (the fake servers over HTTP): the
minutes of a general assembly handed in with a photo and then corrected, and a vote taken on
it with the ballot's buttons."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from storage.enums import Role, Stage
from storage.minutes_models import MeetingPhoto, Minutes
from storage.models import Meeting
from tests.support.chat import Chat, Clock
from tests.support.platforms import Both, Driver, TelegramUser, WeComUser, heard, person

PHOTO = b"\xff\xd8\xff\xe0 a photo of the meeting " + bytes(range(256))
ASSEMBLY = "/meeting_new 2026-11-25 14:30 | 支部党员大会 | 讨论接收预备党员"


@pytest.fixture(params=["telegram", "wecom"])
def platform(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def send_photo(both: Both, user: Driver) -> None:
    if isinstance(user, TelegramUser):
        user.fake.push_document(user.chat_id, "会议.jpg", "image/jpeg", content=PHOTO)
    else:
        assert isinstance(user, WeComUser)
        both.wecom.media["m-1"] = PHOTO
        assert await user.member.image("m-1") == 200


async def answer(user: Driver, text: str, expect: str) -> str:
    since = len(user.texts())
    await user.say(text)
    return await heard(user, expect, since)


async def begun_assembly(both: Both, clock: Clock, secretary: Driver) -> None:
    await answer(secretary, ASSEMBLY, "已创建会议 #1")
    async with both.services.sessions() as session:
        meeting = await session.get(Meeting, 1)
        assert meeting is not None
    clock.now = meeting.starts_at + timedelta(minutes=1)


async def test_minutes_with_a_photo_then_a_correction(
    both: Both, clock: Clock, platform: str
) -> None:
    secretary = await person(both, clock, platform, "书记", role=Role.SECRETARY)
    await begun_assembly(both, clock, secretary)
    await answer(secretary, "/minutes 1", "第 1 步")
    await answer(secretary, "学习全会精神；讨论发展对象", "第 2 步")
    await answer(secretary, "跳过", "第 3 步")
    await answer(secretary, "会议传达学习了全会精神。", "第 4 步")
    since = len(secretary.texts())
    await send_photo(both, secretary)
    await heard(secretary, "已保存照片（共 1 张）", since)
    await answer(secretary, "完成", "照片 1 张")
    await answer(secretary, "/minutes 1", "本次为更正")
    await answer(secretary, "补记讨论情况", "第 1 步")
    await answer(secretary, "学习全会精神；讨论发展对象", "第 2 步")
    await answer(secretary, "跳过", "第 3 步")
    await answer(secretary, "会议传达学习了全会精神，讨论了发展对象。", "第 2 版")
    shown = await answer(secretary, "/minutes_show 1", "会议记录")
    assert "第 2 版（共 2 版），更正：补记讨论情况" in shown
    async with both.services.sessions() as session:
        versions = (await session.scalars(select(Minutes.version))).all()
        (photo,) = (await session.scalars(select(MeetingPhoto))).all()
    assert sorted(versions) == [1, 2] and PHOTO not in photo.content_enc


async def test_a_vote_with_the_ballots_buttons(both: Both, clock: Clock, platform: str) -> None:
    secretary = await person(both, clock, platform, "书记", role=Role.SECRETARY)
    voter = await person(both, clock, platform, "党员甲")
    await Chat(both.services, clock).enrol("张三", stage=Stage.CANDIDATE)
    await begun_assembly(both, clock, secretary)
    shown = await answer(secretary, "/checkin_open 1", "签到码")
    code = shown.split("签到码：")[1][:6]
    for user in (secretary, voter):
        await answer(user, f"签到 {code}", "签到成功")
    await answer(secretary, "/vote_open 1 张三", "已发起表决 #1")
    await heard(voter, "表决 #1：接收为预备党员——张三")
    since = len(voter.texts())
    await voter.press("vote 1 for")
    await heard(voter, "已投票", since)
    await answer(secretary, "/vote 1 赞成", "已投票")
    result = await answer(secretary, "/vote_close 1", "结果：")
    assert "结果：通过" in result and "赞成 2，反对 0，弃权 0" in result
