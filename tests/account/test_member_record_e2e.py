"""A role change over HTTP through the fake Bot API: an admin opens a member's record, presses
the role button, picks 支部书记; the old secretary and the new one hear of it."""

from storage.enums import Role
from tests.support.chat import Chat, Clock
from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_rig import Rig, received, say


async def test_a_new_secretary_by_buttons_over_telegram(
    fake: FakeTelegram, rig: Rig, clock: Clock
) -> None:
    chat = Chat(rig.services, clock)
    old = await chat.bound("老书记", role=Role.SECRETARY)
    new = await chat.bound("新书记", role=Role.COMMITTEE)
    admin = await chat.bound("组织员", role=Role.ADMIN)
    record = await say(fake, admin, "/member 新书记")
    assert "【新书记】" in record and "身份：支委" in record
    _, buttons = fake.buttons_on_latest(int(admin.account_id))
    role_button = next(b for b in buttons if b.endswith(" role"))
    assert "新角色" in await say(fake, admin, callback=role_button)
    _, choices = fake.buttons_on_latest(int(admin.account_id))
    secretary = next(b for b in choices if b.endswith("role secretary"))
    done = await say(fake, admin, callback=secretary)
    assert "支委 → 支部书记" in done and "原书记 老书记 已改为党员" in done
    assert "组织员 修改了您的信息" in await received(fake, old, "已任本支部书记")
    assert "组织员 修改了您的信息" in await received(fake, new, "您的身份现在是支部书记")
    assert "书记交接" in await say(fake, admin, "/member 老书记")
