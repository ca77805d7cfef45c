"""Live group posts through the real outbox sender and the fake Bot API over HTTP: drawn when
sent, edited in place, changes folded into one waiting edit, within the group's limit."""

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from handlers.core.messages import Msg, Reply
from handlers.groups import live
from storage.group_models import BranchGroup, GroupPost
from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_rig import Rig, telegram_bot

GROUP = -5001
# The state a test-only kind of post draws: how many have "joined".
COUNTS: dict[str, int] = {}


@live.drawer("test_count")
async def draw_count(_session: object, _box: object, post: GroupPost) -> Reply | None:
    if post.ref not in COUNTS:
        return None
    return Reply(Msg("group.line", id=COUNTS[post.ref], title="joined", platform="", since=""))


@pytest.fixture
async def rig(fake: FakeTelegram, database_url: str) -> AsyncIterator[Rig]:
    async with telegram_bot(fake, database_url) as started:
        yield started


async def bound_group(rig: Rig) -> BranchGroup:
    now = datetime.now(UTC)
    async with rig.services.sessions.begin() as session:
        group = BranchGroup(
            platform="telegram", chat_id=str(GROUP), kind="chat", title="t", bound_at=now
        )
        session.add(group)
    return group


async def change(rig: Rig, ref: str) -> None:
    async with rig.services.sessions.begin() as session:
        COUNTS[ref] += 1
        await live.refresh(session, ref, datetime.now(UTC))
    rig.sender.wake()


async def test_forty_changes_at_once_fold_into_a_few_edits(fake: FakeTelegram, rig: Rig) -> None:
    ref = f"test:{id(rig)}"
    COUNTS[ref] = 0
    group = await bound_group(rig)
    async with rig.services.sessions.begin() as session:
        await live.post(session, group, "test_count", ref, datetime.now(UTC))
    rig.sender.wake()
    await fake.wait_until(lambda: bool(fake.texts_to(GROUP)))
    await asyncio.gather(*(change(rig, ref) for _ in range(40)))
    await fake.wait_until(lambda: fake.texts_to(GROUP)[-1].startswith("#40 "), 20)
    sends = [c for c in fake.sent_to(GROUP) if c.method == "sendMessage"]
    edits = [c for c in fake.sent_to(GROUP) if c.method == "editMessageText"]
    assert len(sends) == 1 and 1 <= len(edits) <= 4, (len(sends), len(edits))
    assert fake.rejected_429 == 0  # paced under 20 a minute for the group
    gaps = [b.at - a.at for a, b in itertools.pairwise(edits)]
    assert all(gap >= 2.9 for gap in gaps), gaps


async def test_an_edit_before_the_first_message_is_sent_waits_for_it(
    fake: FakeTelegram, rig: Rig
) -> None:
    ref = f"test:{id(rig)}:early"
    COUNTS[ref] = 5
    group = await bound_group(rig)
    async with rig.services.sessions.begin() as session:
        await live.post(session, group, "test_count", ref, datetime.now(UTC))
        COUNTS[ref] = 6
        await live.refresh(session, ref, datetime.now(UTC))
    rig.sender.wake()
    await fake.wait_until(lambda: bool(fake.texts_to(GROUP)))
    await asyncio.sleep(0.5)
    assert [t[:3] for t in fake.texts_to(GROUP)] == ["#6 "]  # drawn once, as the state is
