"""A merge end to end, on Telegram and on WeCom (the fake servers over HTTP): the admin's
preview, the confirm button, the member and the receiving secretary told."""

import pytest

from storage.enums import Role
from tests.support.chat import Clock
from tests.support.platforms import Both, heard, person

FIRST = "化学化工学院第一党支部"
SECOND = "化学化工学院第二党支部"


@pytest.fixture(params=["telegram", "wecom"])
def platform(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_a_merge_confirmed_with_the_button(both: Both, clock: Clock, platform: str) -> None:
    admin = await person(both, clock, platform, "组织员", role=Role.ADMIN, branch=SECOND)
    receiver = await person(both, clock, platform, "二支书记", role=Role.SECRETARY, branch=SECOND)
    member = await person(both, clock, platform, "张三")
    await admin.say(f"/branch_merge {FIRST} {SECOND}")
    await heard(admin, "成员 1 人：张三")
    await admin.press("branch_merge_confirm")
    await heard(admin, "已合并")
    assert f"自 2026-11-24 起你是“{SECOND}”的成员" in await heard(member, "已并入")
    assert "转入成员 1 人" in await heard(receiver, f"“{FIRST}”已并入本支部")
    since = len(member.texts())
    await member.say("/me")
    await heard(member, f"支部：{SECOND}", since)
