"""Scorecards by the membership true on each date (tests/support/moves.py has the history):
a member moved from A to B on 2026-10-01 is on A's card for September and on B's for
October, each with only that part's facts; a member who left that day is on A's card for
September and on no card after. Every figure is worked out by hand below."""

from datetime import date, datetime

import pytest

from handlers.common.periods import Period
from handlers.evaluation.school import school_report
from handlers.evaluation.scorecard import (
    BranchScorecard,
    MemberScore,
    branch_scorecard,
    member_scorecard,
)
from storage.models import Member
from storage.roster import move_membership
from tests.support.chat import Chat
from tests.support.evaluation import BRANCH, OPTIONS, TODAY, bind_member
from tests.support.moves import ZONE, moved_history

PERIOD = Period(date(2026, 9, 1), date(2026, 11, 1))  # 61 days


async def card(chat: Chat, branch_id: int, period: Period = PERIOD) -> BranchScorecard:
    async with chat.services.sessions.begin() as session:
        return await branch_scorecard(
            session, chat.services.box, branch_id, period, OPTIONS, today=TODAY
        )


def row(card: BranchScorecard, member_id: int) -> MemberScore:
    found = card.member(member_id)
    assert found is not None
    return found


def figures(score: MemberScore) -> dict[str, tuple[float, float | None, float | None]]:
    return {k: (s.raw, s.base, s.points) for k, s in score.indicators.items()}


async def test_a_mover_counts_in_each_branch_for_their_days_there(chat: Chat) -> None:
    moved = await moved_history(chat)
    a, b = await card(chat, moved.branches["A"]), await card(chat, moved.branches["B"])
    mover = moved.ids["戊"]
    # On A, 1–30 Sep (30 days): A's September meeting, present → 25; on time → 10; 2 of
    # 4 materials → 15 × 0.5 = 7.5; quiz days 30 of 30 → 15; 120 of 150 right → 10; the
    # September notice acknowledged → 10; 2 h of 2 → 5; September's dues paid → 10.
    assert figures(row(a, mover)) == {
        "attendance": (1, 1, 25),
        "on_time": (1, 1, 10),
        "learned": (2, 4, 7.5),
        "quiz_days": (30, 30, 15),
        "quiz_accuracy": (120, 150, 10),
        "notices": (1, 1, 10),
        "volunteer": (2, 2, 5),
        "dues": (1, 1, 10),
        "thoughts": (0, None, None),
    }
    assert row(a, mover).total == 92.5 and row(a, mover).rank == 1
    # On B, 1–31 Oct (31 days): B's October meeting, late → attendance 25, on time 0; 5 of
    # 4 × 31/30 = 4.13 materials → 15; quiz days 10 of 31 → 15 × (10/31)/0.6 = 8.06; 30 of
    # 50 right → 10 × 0.6/0.8 = 7.5; the October notice not acknowledged → 0; 1 h of 2.07
    # → 2.42; October's dues unpaid → 0. Total 25 + 15 + 8.06 + 7.5 + 2.42 = 57.98 → 58.0.
    assert figures(row(b, mover)) == {
        "attendance": (1, 1, 25),
        "on_time": (0, 1, 0),
        "learned": (5, 4.13, 15),
        "quiz_days": (10, 31, 8.06),
        "quiz_accuracy": (30, 50, 7.5),
        "notices": (0, 1, 0),
        "volunteer": (1, 2.07, 2.42),
        "dues": (0, 1, 0),
        "thoughts": (0, None, None),
    }
    assert row(b, mover).total == 58.0 and row(b, mover).rank == 1
    # The secretaries, members all along: both their meetings (25 + 10), no materials,
    # quizzes or volunteer hours over 61 days, September and October's dues unpaid: ranked
    # on 80 of the 100 points, 35 × 100/80 = 43.75 → 43.8.
    for branch_card, secretary in ((a, "甲"), (b, "己")):
        assert row(branch_card, moved.ids[secretary]).total == 43.8
        assert row(branch_card, moved.ids[secretary]).indicators["dues"].base == 2
    # The trend: in July and August 戊 was in A (scored 0 on what counted), not in B.
    assert (row(a, mover).previous_total, row(a, mover).trend) == (0, 92.5)
    assert (row(b, mover).previous_total, row(b, mover).trend) == (None, None)
    assert [m.name for m in b.members] == ["戊", "己"]


async def test_a_member_who_left_counts_until_the_leaving(chat: Chat) -> None:
    moved = await moved_history(chat)
    a = await card(chat, moved.branches["A"])
    # 庚 on A for 1–30 Sep: absent at A's September meeting → 0 of 1; not attended → not
    # ranked on time; 0 of 4 materials; 12 quiz days of 30 → 15 × 0.4/0.6 = 10; 60 of 60
    # right → 10 (the quiz of 5 Oct, after leaving, is not counted); no notice; 0 of 2 h;
    # September's dues paid (October is not due: gone by its end) → 10. Ranked on 25 + 15
    # + 15 + 10 + 5 + 10 = 80 points: 30 × 100/80 = 37.5.
    leaver = row(a, moved.ids["庚"])
    assert figures(leaver) == {
        "attendance": (0, 1, 0),
        "on_time": (0, None, None),
        "learned": (0, 4, 0),
        "quiz_days": (12, 30, 10),
        "quiz_accuracy": (60, 60, 10),
        "notices": (0, None, None),
        "volunteer": (0, 2, 0),
        "dues": (1, 1, 10),
        "thoughts": (0, None, None),
    }
    assert leaver.indicators["on_time"].excluded == "not_attended"
    assert (leaver.total, leaver.rank) == (37.5, 3)
    assert [(m.name, m.rank) for m in a.members] == [("戊", 1), ("甲", 2), ("庚", 3)]
    # A's rates count each member for their own days: quiz days (0 + 30 + 12) / (61 + 30 + 30).
    assert a.branch_rates["quiz_days"] == pytest.approx(42 / 121)
    # After the move and the leaving, A's October card has its secretary alone.
    october = Period(date(2026, 10, 1), date(2026, 11, 1))
    after = await card(chat, moved.branches["A"], october)
    assert [m.name for m in after.members] == ["甲"]
    # B's September card lists 戊 (a member of B now) as not yet a member, unranked.
    september = Period(date(2026, 9, 1), date(2026, 10, 1))
    before = row(await card(chat, moved.branches["B"], september), moved.ids["戊"])
    assert before.rank is None
    assert {s.excluded for s in before.indicators.values()} == {"not_member"}


async def test_the_meeting_tables_follow_the_membership_on_the_day(chat: Chat) -> None:
    moved = await moved_history(chat)
    a, b = await card(chat, moved.branches["A"]), await card(chat, moved.branches["B"])
    # Finalised after the move and the leaving, yet A's September meeting expected 戊 and
    # 庚 (members of A that day), and neither A's October meeting nor B's September one
    # holds 戊 as absent.
    assert [(r.title, r.present, r.absent, r.late, r.expected) for r in a.meetings] == [
        ("A-9", ["甲", "戊"], ["庚"], [], 3),
        ("A-10", ["甲"], [], [], 1),
    ]
    assert [(r.title, r.present, r.absent, r.late, r.expected) for r in b.meetings] == [
        ("B-9", ["己"], [], [], 1),
        ("B-10", ["戊", "己"], [], ["戊"], 2),  # by member id
    ]


async def test_own_cards_and_the_school_report_agree(chat: Chat) -> None:
    moved = await moved_history(chat)
    cards = {"A": await card(chat, moved.branches["A"]), "B": await card(chat, moved.branches["B"])}
    async with chat.services.sessions.begin() as session:
        school = await school_report(session, chat.services.box, PERIOD, OPTIONS, today=TODAY)
        own = {
            name: await member_scorecard(
                session, chat.services.box, moved.ids[name], PERIOD, OPTIONS, today=TODAY
            )
            for name in moved.ids
        }
    # A member's own card is of the branch they were last in during the period: 戊's of B
    # (58.0, first of two), 庚's of A (37.5, third of three), and agrees with that card.
    for name, branch in (("甲", "A"), ("戊", "B"), ("庚", "A"), ("己", "B")):
        mine, theirs = own[name][0], row(cards[branch], moved.ids[name])
        assert own[name][1].branch_id == moved.branches[branch]
        assert (mine.total, mine.rank, mine.previous_total, mine.trend) == (
            theirs.total, theirs.rank, theirs.previous_total, theirs.trend
        )  # fmt: skip
        assert mine.indicators == theirs.indicators
    assert (own["戊"][0].total, own["戊"][0].rank) == (58.0, 1)
    assert (own["庚"][0].total, own["庚"][0].rank) == (37.5, 3)
    # The school report holds the same rows: 戊 on both branches, 庚 on A.
    by_id = {c.branch_id: c for c in school}
    for key in ("A", "B"):
        mine_card, theirs_card = by_id[moved.branches[key]], cards[key]
        assert [(m.name, m.total, m.rank, m.previous_total) for m in mine_card.members] == [
            (m.name, m.total, m.rank, m.previous_total) for m in theirs_card.members
        ]
        assert mine_card.branch_rates == theirs_card.branch_rates
        assert [(r.title, r.expected, r.attended) for r in mine_card.meetings] == [
            (r.title, r.expected, r.attended) for r in theirs_card.meetings
        ]


async def test_away_and_back_within_the_period_is_one_row(chat: Chat) -> None:
    """戊 moved back to A on 16 Oct: on A's card once, for 1–30 Sep and 16–31 Oct (46 days)."""
    moved = await moved_history(chat)
    home = await chat.branch(BRANCH)
    async with chat.services.sessions.begin() as session:
        mover = await session.get(Member, moved.ids["戊"])
        assert mover is not None
        back = datetime(2026, 10, 16, tzinfo=ZONE)
        await move_membership(session, mover, home, back, "transferred", "transferred")
    a, b = await card(chat, moved.branches["A"]), await card(chat, moved.branches["B"])
    assert [m.name for m in a.members].count("戊") == 1
    s = row(a, moved.ids["戊"]).indicators
    # Materials 2 (Sep) + 5 (20–24 Oct) of 4 × 46/30 = 6.13; quiz days 30 of 46 (the
    # October ones were in B); volunteer 2 + 1 h of 2 × 46/30 = 3.07 → 5 × 3/3.07 = 4.89.
    assert (s["learned"].raw, s["learned"].base) == (7, 6.13)
    assert (s["quiz_days"].raw, s["quiz_days"].base) == (30, 46)
    assert (s["volunteer"].raw, s["volunteer"].base, s["volunteer"].points) == (3, 3.07, 4.89)
    # On B for 1–15 Oct (15 days): the 10 October quizzes, no materials.
    t = row(b, moved.ids["戊"]).indicators
    assert (t["quiz_days"].raw, t["quiz_days"].base, t["learned"].raw) == (10, 15, 0)


async def test_inactive_lists_only_who_is_in_the_branch_now(chat: Chat) -> None:
    """A's card for the term holds 戊 (no quiz since 10 Oct) and 庚 (absent at 1 of 1
    meeting), but they moved away and left: /inactive names only 甲 (no quiz in 30 days)."""
    await moved_history(chat)
    secretary = await bind_member(chat, "甲")
    text = await secretary.say("/inactive 2026-09..2026-10")
    assert "· 甲：近 30 天没有每日答题" in text, text
    assert "戊" not in text and "庚" not in text
