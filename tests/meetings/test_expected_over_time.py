"""Who a meeting expects is who belonged to its branch when it started (the history is
tests/support/moves.py): a member who moved in later is not absent from it, one who moved
out or left later still is on it, and a meeting after the move expects the new branch."""

from datetime import date

from sqlalchemy import select

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
