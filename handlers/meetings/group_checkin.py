"""The check-in code in the branch group: a live post with the current code, redrawn as codes
turn (the scheduler's rotation job, every CODE_STEP seconds) and saying so once check-in is
over. A member checks in by replying to it with the code; the answer reaches them privately,
and the group never learns who checked in."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Context
from handlers.core.messages import Denied, Msg, Reply, UserError
from handlers.core.parsing import clean
from handlers.core.registry import Replies
from handlers.groups import live
from handlers.meetings.checkin import checkin
from handlers.meetings.domain import CODE_STEP, current_code, describe
from handlers.meetings.group_posts import CODE_KIND, code_ref, meeting_of, redraw_code
from storage import groups, meetings
from storage.crypto import SecretBox
from storage.enums import MeetingStatus
from storage.group_models import BranchGroup, GroupPost
from storage.meetings import ends_at
from storage.models import Meeting


def _open_at(meeting: Meeting, ref: str, at: datetime) -> bool:
    """Check-in of this opening was still open at `at` (not closed, moved or cancelled)."""
    scheduled = meeting.status == MeetingStatus.SCHEDULED
    return scheduled and code_ref(meeting) == ref and at < ends_at(meeting)


@live.drawer(CODE_KIND)
async def draw(session: AsyncSession, box: SecretBox, post: GroupPost) -> Reply | None:
    """The code as it was when the post last changed (the rotation job queues each turn of
    the code as a change, so that is the current one); a group whose messages cannot be
    edited is told check-in opened, without a code that would soon be stale."""
    meeting = await meetings.get(session, meeting_of(post.ref)[0])
    group = await session.get(BranchGroup, post.group_id)
    if meeting is None or group is None:
        return None
    at = await groups.last_queued(session, post) or post.created_at
    if not _open_at(meeting, post.ref, at):
        return Reply(Msg("checkin.group_closed", meeting=describe(meeting)))
    if group.platform not in live.EDITABLE:
        return Reply(Msg("checkin.group_open", meeting=describe(meeting)))
    code = current_code(meeting, at)
    minutes = CODE_STEP // 60
    return Reply(Msg("checkin.group_code", meeting=describe(meeting), code=code, minutes=minutes))


@live.replier(CODE_KIND)
async def check_in_by_reply(ctx: Context, post: GroupPost) -> Replies:
    """A reply to the code post with the code checks the sender in, as 签到 CODE would; every
    answer, a wrong code too, goes to the sender privately (the router sends it QUIETLY)."""
    try:
        return await checkin(ctx, clean(ctx.incoming.text))
    except Denied:
        raise
    except UserError as err:
        return Reply(err.msg)


async def rotate_codes(session: AsyncSession, now: datetime) -> int:
    """The codes turned: redraw the code posts of every meeting whose check-in is open.
    Returns how many posts will be edited."""
    count = 0
    for meeting in await meetings.open_for_checkin(session, None, now):
        count += await redraw_code(session, code_ref(meeting), now)
    return count
