"""Moves end to end, on Telegram and on WeCom (the fake servers over HTTP): a transfer out
with the farewell heard and only /me and /mydata left open; a graduation confirmed with its
button."""

import pytest
from sqlalchemy import update

from storage.enums import Role
from storage.models import Member
from tests.support.chat import Clock
from tests.support.platforms import Both, heard, person


@pytest.fixture(params=["telegram", "wecom"])
def platform(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_transfer_out_leaves_mydata_open(both: Both, clock: Clock, platform: str) -> None:
    secretary = await person(both, clock, platform, "书记", role=Role.SECRETARY)
    member = await person(both, clock, platform, "张三")
    await secretary.say("/transfer_out 张三 某某公司党委 JX2026-031")
    await heard(secretary, "已登记：张三 转出")
    farewell = await heard(member, "转出至“某某公司党委”")
    assert "/mydata" in farewell
    since = len(member.texts())
    await member.say("/meetings")
    assert "支部的命令不再对您开放" in await heard(member, "离开本支部名册", since)
    since = len(member.texts())
    await member.say("/mydata")
    await heard(member, "全部数据", since)


async def test_graduation_confirmed_with_the_button(
    both: Both, clock: Clock, platform: str
) -> None:
    secretary = await person(both, clock, platform, "书记", role=Role.SECRETARY)
    graduate = await person(both, clock, platform, "毕业生")
    async with both.services.sessions.begin() as session:
        await session.execute(update(Member).where(Member.name == "毕业生").values(grade="2022级"))
    await secretary.say("/graduate 年级 2022级")
    await heard(secretary, "毕业离校预览：1 人")
    await secretary.press("graduate_confirm")
    await heard(secretary, "已办理 1 人毕业离校")
    assert "组织关系介绍信" in await heard(graduate, "祝贺毕业")
