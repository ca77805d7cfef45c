"""School-wide reports list an archived branch only for periods when it existed: before and
across its archive date, not after it."""

from datetime import date

from handlers.common.periods import Period
from handlers.evaluation.school import school_report
from handlers.evaluation.scorecard import BranchScorecard
from tests.support.chat import Chat
from tests.support.evaluation import OPTIONS
from tests.support.people import admin_user

FIRST = "化学化工学院第一党支部"
SECOND = "化学化工学院第二党支部"
TODAY = date(2026, 12, 14)


async def cards_of(chat: Chat, period: Period) -> dict[str, BranchScorecard]:
    async with chat.services.sessions.begin() as session:
        cards = await school_report(session, chat.services.box, period, OPTIONS, today=TODAY)
    return {c.branch_name: c for c in cards}


def ranked(card: BranchScorecard, member_id: int) -> bool:
    """Whether the member counts in the card (a non-member is listed, marked, unranked)."""
    score = card.member(member_id)
    return score is not None and score.rank is not None


async def listed(chat: Chat, period: Period) -> list[str]:
    return list(await cards_of(chat, period))


async def test_an_archived_branch_is_listed_only_while_it_existed(chat: Chat) -> None:
    admin = await admin_user(chat)
    zhang, _ = await chat.enrolled("张三")
    await chat.branch(SECOND)
    chat.clock.advance(days=20)  # 2026-12-14
    await admin.say(f"/branch_merge {FIRST} {SECOND} 2026-12-10")
    assert "已合并" in await admin.say("确认")
    before = Period(date(2026, 11, 1), date(2026, 12, 1))
    across = Period(date(2026, 12, 1), date(2027, 1, 1))
    after = Period(date(2026, 12, 11), date(2026, 12, 15))
    assert await listed(chat, before) == [FIRST, SECOND]
    # Before the merge the member counts in the old branch; after it, in the new one.
    earlier, later = await cards_of(chat, before), await cards_of(chat, after)
    assert ranked(earlier[FIRST], zhang) and not ranked(earlier[SECOND], zhang)
    assert ranked(later[SECOND], zhang)
    assert await listed(chat, across) == [FIRST, SECOND]
    assert await listed(chat, after) == [SECOND]
    # Up to the archive day's start: a period ending then does not list it after.
    assert await listed(chat, Period(date(2026, 12, 10), date(2026, 12, 11))) == [SECOND]
    assert await listed(chat, Period(date(2026, 12, 9), date(2026, 12, 10))) == [FIRST, SECOND]
