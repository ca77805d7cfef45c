"""Who may hand in and read a meeting's minutes: the branch's secretary, an admin, and the
recorder named for the meeting; committee members may read them too."""

from handlers.core.context import Context
from handlers.core.messages import Msg, UserError
from handlers.meetings.domain import meeting_for
from storage.enums import Role
from storage.models import Meeting, Member

STAFF = frozenset({Role.SECRETARY, Role.ADMIN})


async def meeting_of(ctx: Context, text: str, usage: str) -> Meeting:
    """The meeting numbered first in `text` that the caller's branch holds (an admin: any);
    another branch's is "not found", traced (Denied)."""
    if not text.split():
        raise UserError("usage", usage=Msg(usage))
    caller = ctx.require_caller()
    scope = None if caller.role == Role.ADMIN else caller.branch_id
    if scope is None and caller.role != Role.ADMIN:
        raise UserError("error.no_branch")
    not_found = Msg("minutes.no_meeting", value=text.split()[0])
    meeting = await meeting_for(ctx.session, text, scope, not_found)
    if meeting.branch_id is None:  # a school-wide meeting keeps no branch minutes
        raise UserError("minutes.school_wide", id=meeting.id)
    return meeting


def may_write(caller: Member, meeting: Meeting) -> bool:
    return caller.role in STAFF or caller.id == meeting.recorder_id


def may_read(caller: Member, meeting: Meeting) -> bool:
    return caller.role != Role.MEMBER or caller.id == meeting.recorder_id
