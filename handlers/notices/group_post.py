"""A notice in the branch group: one live post per group with the notice's text, the count of
those who pressed 收到 (收到 12/30, never names) and the 收到 button, whose press is counted
for the presser's own account (handlers/notices/acks.py). Files stay in the private copies."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.messages import Button, Msg, Reply
from handlers.groups import live
from handlers.notices.message import notice_text
from storage import notices
from storage.crypto import SecretBox
from storage.group_models import BranchGroup, GroupPost

KIND = "notice"


async def post_to_groups(
    session: AsyncSession, notice_id: int, found: Sequence[BranchGroup], now: datetime
) -> None:
    for group in found:
        await live.post(session, group, KIND, notices.notice_ref(notice_id), now)


async def refresh(
    session: AsyncSession, notice_id: int, branch_id: int | None, now: datetime
) -> None:
    """A member of `branch_id` acknowledged the notice (in a group or privately): the posts
    whose count changed show it, in that branch's groups and the school-wide ones (a tap in
    one branch does not edit fifty groups' posts)."""
    ref = notices.notice_ref(notice_id)
    await live.refresh(session, ref, now, branch_ids={branch_id, None})


def notice_id_of(ref: str) -> int:
    return int(ref.removeprefix("notice:"))


@live.drawer(KIND)
async def draw(session: AsyncSession, box: SecretBox, post: GroupPost) -> Reply | None:
    """The notice as the group reads it; a branch group counts its own branch's recipients,
    a school-wide group everyone's."""
    notice = await notices.get(session, notice_id_of(post.ref))
    group = await session.get(BranchGroup, post.group_id)
    if notice is None or group is None:
        return None
    lines: list[Msg] = [notice_text(notice)]
    if notice.attachment:
        name = notice.attachment.get("file_name") or ""
        lines.append(Msg("notice.group_file", name=name))
    if not notice.require_ack:
        return Reply(Msg("notice.group_post", lines=lines))
    acked, total = await notices.ack_counts(session, notice.id, group.branch_id)
    lines.append(Msg("notice.group_count", acked=acked, total=total))
    button = Button(Msg("notice.ack_button"), f"/ack {notice.id}")
    return Reply(Msg("notice.group_post", lines=lines), ((button,),))
