"""A year's graduates leave in one batch: picked by grade, class or a list, previewed, then
confirmed; each gets a farewell; nothing changes before the confirmation or if the list
changed meanwhile."""

from sqlalchemy import select, update

from storage.enums import Departure, Role
from storage.models import Member
from tests.support.chat import Chat, User
from tests.support.outbox import queued_to
from tests.support.traces import traces_of


async def class_of_2022(chat: Chat, count: int) -> list[int]:
    """`count` members of grade 2022 (class 化学2201; the first bound to a chat account), and
    two of grade 2023."""
    ids = [(await chat.enrolled("毕业生00"))[0]]
    ids += [(await chat.enrol(f"毕业生{i:02d}"))[0] for i in range(1, count)]
    stay = [(await chat.enrol(f"在校生{i}"))[0] for i in range(2)]
    async with chat.services.sessions.begin() as session:
        where = Member.id.in_(ids)
        await session.execute(
            update(Member).where(where).values(grade="2022级", class_name="化学2201")
        )
        await session.execute(update(Member).where(Member.id.in_(stay)).values(grade="2023级"))
    return ids


async def active_ids(chat: Chat) -> set[int]:
    async with chat.services.sessions() as session:
        return set((await session.scalars(select(Member.id).where(Member.active))).all())


async def test_a_batch_of_fifty_is_previewed_then_confirmed_with_farewells(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    graduates = await class_of_2022(chat, 50)
    preview = await secretary.say("/graduate 年级 2022级")
    assert "毕业离校预览：50 人，离校日期 2026-11-24" in preview and "毕业生00" in preview
    assert "在校生" not in preview
    assert set(graduates) <= await active_ids(chat)  # nothing yet
    buttons = [b.data for b in secretary.replies[0].buttons[0]]
    assert buttons == ["/graduate_confirm", "/cancel"]
    done = await secretary.say(callback="/graduate_confirm")
    assert "已办理 50 人毕业离校" in done
    assert not set(graduates) & await active_ids(chat)
    left = await traces_of(chat.services, "member.left")
    assert len(left) == 50 and {t.data["reason"] for t in left} == {Departure.GRADUATED}
    assert len({t.data["batch"] for t in left}) == 1
    farewell = await queued_to(chat.services, graduates[0], "member_move")
    assert len(farewell) == 1 and "祝贺毕业" in farewell[0] and "组织关系介绍信" in farewell[0]
    assert "没有待确认的离校名单" in await secretary.say(callback="/graduate_confirm")


async def test_by_class_or_by_list_with_names_not_found(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await class_of_2022(chat, 3)
    assert "3 人" in await secretary.say("毕业离校 班级 化学2201 2026-11-24")
    await secretary.say("/cancel")
    preview = await secretary.say("/graduate 名单 毕业生00 毕业生01 查无此人")
    assert "2 人" in preview and "名单中未找到：查无此人" in preview
    assert "已办理 2 人" in await secretary.say("确认")


async def test_a_list_that_changed_before_confirming_is_refused_whole(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    graduates = await class_of_2022(chat, 3)
    await secretary.say("/graduate 年级 2022级")
    async with chat.services.sessions.begin() as session:
        await session.execute(update(Member).where(Member.id == graduates[0]).values(active=False))
    assert "请重新发送 /graduate" in await secretary.say(callback="/graduate_confirm")
    assert set(graduates[1:]) <= await active_ids(chat)


async def test_bad_selections_are_answered(chat: Chat) -> None:
    secretary: User = await chat.bound("书记", role=Role.SECRETARY)
    await class_of_2022(chat, 1)
    assert "用法" in await secretary.say("/graduate")
    assert "用法" in await secretary.say("/graduate 学院 化学")
    assert "没有找到要离校的成员" in await secretary.say("/graduate 年级 2030级")
    assert "还没到" in await secretary.say("/graduate 年级 2022级 2099-06-30")
    assert "请按“确认离校”" in await secretary.say("/graduate 年级 2022级") + await secretary.say(
        "好的"
    )
