"""Who a meeting expects is who belonged to its branch when it started (the history is
tests/support/moves.py): a member who moved in later is not absent from it, one who moved
out or left later still is on it, and a meeting after the move expects the new branch."""

from datetime import date

from sqlalchemy import select, update

from storage import meetings
from storage.enums import Presence
from storage.models import Attendance, Meeting
from tests.support.chat import Chat
from tests.support.moves import moved_history, noon


async def test_expected_by_the_membership_on_the_meetings_day(chat: Chat) -> None:
    moved = await moved_history(chat)
    names = {member_id: name for name, member_id in moved.ids.items()}
    async with chat.services.sessions.begin() as session:
        expected = {}
        for key, meeting_id in moved.meetings.items():
            meeting = await session.get(Meeting, meeting_id)
            assert meeting is not None
            expected[key] = sorted(names[i] for i in await meetings.expected_ids(session, meeting))
        absent = select(Attendance.meeting_id, Attendance.member_id).where(
            Attendance.presence == Presence.ABSENT
        )
        recorded = sorted((m, names[i]) for m, i in (await session.execute(absent)).all())
        later = {
            key: Meeting(
                branch_id=moved.branches[key], kind="theme_day", starts_at=noon(date(2026, 12, 1))
            )
            for key in ("A", "B")
        }
        ahead = {
            k: sorted(names[i] for i in await meetings.expected_ids(session, m))
            for k, m in later.items()
        }
    assert expected == {
        "A-9": sorted(["甲", "戊", "庚"]),
        "A-10": ["甲"],
        "B-9": ["己"],
        "B-10": sorted(["戊", "己"]),
    }
    # Finalised after the move and the leaving: the one absentee is 庚, at A's September meeting.
    assert recorded == [(moved.meetings["A-9"], "庚")]
    assert ahead == {"A": ["甲"], "B": sorted(["戊", "己"])}


async def test_a_recent_arrival_is_not_long_absent_from_the_new_branch(chat: Chat) -> None:
    """戊, in B since 1 Oct, missed A's September meeting and none after: over the three
    months to 24 Nov B cannot tell (not in it long enough); over a month they count."""
    moved = await moved_history(chat)
    mover = moved.ids["戊"]
    async with chat.services.sessions.begin() as session:
        await session.execute(
            update(Attendance)
            .where(Attendance.member_id == mover, Attendance.meeting_id == moved.meetings["A-9"])
            .values(presence=Presence.ABSENT)
        )
        await session.execute(
            update(Attendance)
            .where(Attendance.member_id == mover, Attendance.meeting_id == moved.meetings["B-10"])
            .values(presence=Presence.ABSENT)
        )
        b = moved.branches["B"]
        assert await meetings.long_absent(session, b, noon(date(2026, 8, 26))) == []
        assert await meetings.long_absent(session, b, noon(date(2026, 10, 10))) == [(mover, "戊")]
