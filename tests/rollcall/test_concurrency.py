"""Forty members joining one roll-call at the same moment: every one recorded once, at
positions 1..40, and the group's post edited in place once, showing all forty."""

import asyncio

from bot.channels.outbox import Limits, Outcome, Sent
from handlers.core.messages import Reply
from tests.support.chat import Chat
from tests.support.outbox import drain
from tests.support.rollcall import GROUP, bound_group, entries, sent, traced

PEOPLE = 40


class Recording:
    """A transport that keeps what it was asked to send: (chat, text, message replaced)."""

    def __init__(self, chat: Chat) -> None:
        self.render = chat.services.renderer.render
        self.sent: list[tuple[str, str, str | None]] = []

    async def deliver(self, chat_id: str, reply: Reply, to_group: bool = False) -> Outcome:
        text = self.render(reply.text) if reply.text else ""
        self.sent.append((chat_id, text, reply.replaces))
        return Sent(str(900 + len(self.sent)))


async def test_forty_join_at_once_and_the_post_is_edited_once(chat: Chat) -> None:
    secretary = await bound_group(chat)
    await secretary.in_group(GROUP).send("/jielong 党日活动报名")
    message_id = await sent(chat)  # the post is in the group
    members = [await chat.bound(f"党员{i:02d}") for i in range(1, PEOPLE + 1)]

    toasts = await asyncio.gather(
        *(m.in_group(GROUP).send(callback="/jielong_join 1") for m in members)
    )
    assert all(t and t[0].toast for t in toasts)
    found = await entries(chat)
    assert [e.position for e in found] == list(range(1, PEOPLE + 1))
    assert len({e.member_id for e in found}) == PEOPLE
    assert len(await traced(chat, "rollcall.joined")) == PEOPLE

    transport = Recording(chat)
    limits = Limits(per_second=1000, chat_per_second=1000, group_per_minute=6000)
    await drain(chat.services, transport, chat.clock, limits)  # type: ignore[arg-type]
    edits = [(text, replaces) for chat_id, text, replaces in transport.sent if replaces]
    assert len(edits) == 1  # forty changes folded into one edit of the post
    text, replaces = edits[0]
    assert replaces == message_id
    assert all(f"党员{i:02d}" in text for i in range(1, PEOPLE + 1))
    assert f"{PEOPLE}. 党员" in text and f"已接龙 {PEOPLE} 人" in text
