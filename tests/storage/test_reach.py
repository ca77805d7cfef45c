"""Where personal messages go (DELIVER_TO=last): the chat app a member really used last, even
within minutes of a switch, at no write per message for a member who stays on one app."""

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm.attributes import set_committed_value

from bot.app.services import Services
from handlers.account.members import issue_invite
from storage import people, schema
from storage.db import create_engine
from storage.models import Member
from tests.conftest import empty_database
from tests.support.chat import Chat, User


async def on_both(chat: Chat, name: str) -> tuple[int, User, User]:
    """A member bound on Telegram, then a minute later on WeCom (so WeCom is used last)."""
    member_id, code = await chat.enrol(name)
    telegram = chat.user()
    assert "绑定成功" in await telegram.say(f"/start {code}")
    async with chat.services.sessions() as session, session.begin():
        member = await session.get(Member, member_id)
        assert member is not None
        second = await issue_invite(session, chat.services.box, member, chat.clock(), timedelta(1))
    chat.clock.advance(minutes=1)
    wecom = chat.user("wecom-user", platform="wecom")
    assert "绑定成功" in await wecom.say(f"/start {second}")
    return member_id, telegram, wecom


async def reached(services: Services, member_id: int) -> list[str]:
    """The member's chat apps, the one personal messages go to first."""
    async with services.sessions() as session:
        places = await people.reach_everywhere(session, [member_id])
    return [where.platform for where in places[member_id]]


async def test_a_switch_within_minutes_moves_personal_messages(chat: Chat) -> None:
    member_id, telegram, wecom = await on_both(chat, "党员甲")
    assert await reached(chat.services, member_id) == ["wecom", "telegram"]
    chat.clock.advance(minutes=2)  # well inside last_seen_at's ten-minute resolution
    await telegram.say("/me")
    assert await reached(chat.services, member_id) == ["telegram", "wecom"]
    chat.clock.advance(minutes=2)
    await wecom.say("/me")
    assert await reached(chat.services, member_id) == ["wecom", "telegram"]
    chat.clock.advance(minutes=2)
    replies = await telegram.send("/mydata")  # the switch, seen by the same update
    export = json.loads(next(r.file for r in replies if r.file is not None).content)
    assert export["profile"]["last_platform"] == "telegram"


async def test_group_chatter_and_the_console_do_not_move_them(chat: Chat) -> None:
    member_id, telegram, _ = await on_both(chat, "党员甲")
    chat.clock.advance(minutes=2)
    in_group = telegram.in_group("-100777")
    await in_group.say("/me")  # personal messages go to private chats only
    assert await reached(chat.services, member_id) == ["wecom", "telegram"]


def _writes(services: Services) -> tuple[list[str], object]:
    statements: list[str] = []

    def count(*args: object) -> None:
        sql = str(args[2]).lstrip().upper()
        if sql.startswith("UPDATE MEMBERS") or sql.startswith("UPDATE PLATFORM_ACCOUNTS"):
            statements.append(sql)

    return statements, count


async def test_staying_on_one_app_costs_no_write(chat: Chat) -> None:
    user = await chat.bound("党员甲")
    member_id, other_telegram, wecom = await on_both(chat, "党员乙")
    engine = chat.services.engine.sync_engine
    statements, count = _writes(chat.services)
    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(3):
            chat.clock.advance(minutes=2)
            await user.say("/me")
            await wecom.say("/me")
        assert statements == []
        await other_telegram.say("/me")  # a switch: one write, of the member's row
        assert len(statements) == 1 and statements[0].startswith("UPDATE MEMBERS")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert await reached(chat.services, member_id) == ["telegram", "wecom"]


async def test_an_earlier_switch_never_overrides_a_later_one(chat: Chat) -> None:
    member_id, _, _ = await on_both(chat, "党员甲")
    later = chat.clock() + timedelta(minutes=5)
    async with chat.services.sessions() as session, session.begin():
        member = await session.get(Member, member_id)
        assert member is not None
        await people.note_platform(session, member, "telegram", later)
    async with chat.services.sessions() as session, session.begin():
        member = await session.get(Member, member_id)
        assert member is not None
        set_committed_value(member, "last_platform", "telegram")  # read before that switch
        await people.note_platform(session, member, "wecom", later - timedelta(minutes=1))
    assert await reached(chat.services, member_id) == ["telegram", "wecom"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_racing_switches_from_two_processes_keep_the_later(chat: Chat) -> None:
    """Two processes each take a Telegram message from a member last on WeCom; the later
    message's time stays even though it commits first (the guard is checked again on the
    row the earlier one waited for)."""
    member_id, _, _ = await on_both(chat, "党员甲")
    now = chat.clock()
    sessions = chat.services.sessions
    later, earlier = sessions(), sessions()
    try:
        for session in (later, earlier):
            await session.begin()
        first = await later.get(Member, member_id)
        second = await earlier.get(Member, member_id)
        assert first is not None and second is not None
        await people.note_platform(later, first, "telegram", now + timedelta(minutes=3))
        waiting = asyncio.create_task(
            people.note_platform(earlier, second, "telegram", now + timedelta(minutes=2))
        )
        await asyncio.sleep(0.2)
        assert not waiting.done()  # behind the row lock of the later switch
        await later.commit()
        await waiting
        await earlier.commit()
    finally:
        await later.close()
        await earlier.close()
    async with sessions() as session:
        at = await session.scalar(select(Member.last_platform_at).where(Member.id == member_id))
    assert at == now + timedelta(minutes=3)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_the_upgrade_fills_in_the_app_seen_last(backend: str, tmp_path: Path) -> None:
    """Migration 0010 starts each member on the chat app their accounts say they used last
    (the console never counts), so nobody pays a write on their first message after it."""
    url = await empty_database(backend, tmp_path)
    engine = create_engine(url)
    await schema.upgrade(engine, revision="0009")
    at = datetime(2026, 11, 1, 8, 0)
    rows = [
        "INSERT INTO members (id, name, role, stage, interests, active, created_at)"
        " VALUES (1, '张三', 'member', 'full', '[]', :yes, :at), (2, '李四', 'member', 'full',"
        " '[]', :yes, :at)",
        "INSERT INTO platform_accounts (platform, external_id, member_id, chat_id, bound_at,"
        " last_seen_at) VALUES ('telegram', 't1', 1, 't1', :at, :at),"
        " ('wecom', 'w1', 1, 'w1', :at, :later), ('console', 'c1', 1, 'c1', :at, :latest),"
        " ('console', 'c2', 2, 'c2', :at, :at)",
    ]
    async with engine.begin() as conn:
        for statement in rows:
            values = {"yes": True, "at": at, "later": at + timedelta(minutes=2)}
            await conn.execute(text(statement), {**values, "latest": at + timedelta(hours=1)})
    await schema.upgrade(engine)
    async with engine.connect() as conn:
        query = "SELECT id, last_platform, last_platform_at FROM members ORDER BY id"
        found = (await conn.execute(text(query))).all()
    await engine.dispose()
    assert [(m, p) for m, p, _ in found] == [(1, "wecom"), (2, None)]
    assert found[0][2] is not None and found[1][2] is None
