"""A roll-call's post in its group, drawn from the list as it is when the post (or an edit
of it) is sent: the topic, deadline, limit and what it is for, the numbered names, and the
接龙 / 退出 buttons while it is open. Only names are shown: what each member put there."""

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.messages import Button, Msg, Reply
from handlers.groups import live
from handlers.meetings.domain import describe
from handlers.rollcall.domain import KIND
from handlers.rollcall.parse import MEETING
from storage import meetings, rollcalls
from storage.crypto import SecretBox
from storage.group_models import GroupPost, RollCall

SHOWN = 100  # names on the post; the rest are counted, and /jielong_list has them all


def rollcall_of(ref: str) -> int:
    """The roll-call a post's ref ("rollcall:3") names."""
    return int(ref.removeprefix(f"{KIND}:"))


@live.drawer(KIND)
async def draw(session: AsyncSession, box: SecretBox, post: GroupPost) -> Reply | None:
    rollcall = await rollcalls.get(session, rollcall_of(post.ref))
    if rollcall is None:
        return None
    lines = await rollcalls.lines(session, rollcall.id)
    names: list[Msg] = [
        Msg("rollcall.name_line", place=place, name=line.name)
        for place, line in enumerate(lines[:SHOWN], 1)
    ]
    if len(lines) > SHOWN:
        names.append(Msg("rollcall.more", count=len(lines) - SHOWN, id=rollcall.id))
    text = Msg(
        "rollcall.post",
        id=rollcall.id,
        topic=rollcall.topic,
        details=await details(session, rollcall),
        names=names or Msg("rollcall.nobody_yet"),
        status=_status(rollcall, len(lines)),
    )
    if rollcall.closed_at is not None:
        return Reply(text)
    join = Button(Msg("rollcall.join_button"), f"/jielong_join {rollcall.id}")
    leave = Button(Msg("rollcall.leave_button"), f"/jielong_leave {rollcall.id}")
    return Reply(text, ((join, leave),))


async def details(session: AsyncSession, rollcall: RollCall) -> list[Msg]:
    """The deadline, the limit and what it pre-registers for, those it has."""
    found = []
    if rollcall.deadline is not None:
        found.append(Msg("rollcall.deadline_line", at=rollcall.deadline))
    if rollcall.capacity is not None:
        found.append(Msg("rollcall.capacity_line", capacity=rollcall.capacity))
    attached = rollcall.attached_to
    if attached and attached.startswith(MEETING):
        meeting = await meetings.get(session, int(attached.removeprefix(MEETING)))
        if meeting is not None:
            found.append(Msg("rollcall.meeting_line", meeting=describe(meeting)))
    elif attached:
        found.append(Msg("rollcall.activity_line", name=attached))
    return found


def _status(rollcall: RollCall, count: int) -> Msg:
    if rollcall.closed_at is not None:
        return Msg("rollcall.status_closed", count=count)
    if rollcall.capacity is not None:
        key = "rollcall.status_full" if count >= rollcall.capacity else "rollcall.status_limited"
        return Msg(key, count=count, capacity=rollcall.capacity)
    return Msg("rollcall.status_open", count=count)
