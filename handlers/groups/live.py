"""The bot's posts in groups that follow live state: a notice's 收到 count, a roll-call's list.

A live post is queued as an outbox row whose payload names the post, not its text: the text
is made when the row is sent, from the state at that moment (`render`). A change of state
queues an edit (`refresh`) keyed by the post's count of edits taken up, so the changes that
come while one edit waits fold into it: forty people joining a roll-call at once cost a few
edits, paced by the group's limit, and the last one shows all forty. Features register how
their kind of post is drawn (`drawer`).
"""

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.messages import Reply
from handlers.core.registry import Replies

if TYPE_CHECKING:
    from handlers.core.context import Context
from storage import groups, outbox
from storage.crypto import SecretBox
from storage.group_models import BranchGroup, GroupPost

# In an outbox row's payload: the live post it draws ("$live") and, for an edit, that it is one.
LIVE = "$live"
EDIT = "$edit"
# Platforms whose group messages can be edited in place (WeCom's app chats cannot).
EDITABLE = frozenset({"telegram", "console"})

Drawer = Callable[[AsyncSession, SecretBox, GroupPost], Awaitable[Reply | None]]
_drawers: dict[str, Drawer] = {}
# What a reply to a kind of post does (a check-in code answering the code post, 接龙 +1
# answering a roll-call): called with the update's context and the post replied to.
Replier = Callable[["Context", GroupPost], Awaitable[Replies]]
_repliers: dict[str, Replier] = {}


def drawer(kind: str) -> Callable[[Drawer], Drawer]:
    """Register how a kind of live post is drawn from the state (None: it is gone)."""

    def register(fn: Drawer) -> Drawer:
        _drawers[kind] = fn
        return fn

    return register


def replier(kind: str) -> Callable[[Replier], Replier]:
    """Register what a member's reply to a kind of live post does."""

    def register(fn: Replier) -> Replier:
        _repliers[kind] = fn
        return fn

    return register


def replier_of(kind: str) -> Replier | None:
    return _repliers.get(kind)


async def post(
    session: AsyncSession,
    group: BranchGroup,
    kind: str,
    ref: str,
    now: datetime,
    *,
    priority: int = 5,
    member_id: int | None = None,
) -> GroupPost:
    """Queue a live post of `ref` to the group (once: a second call finds the first)."""
    key = f"post:{group.id}:{ref}"
    existing = await groups.post_by_key(session, key)
    if existing is not None:
        return existing
    found = GroupPost(
        group_id=group.id, kind=kind, ref=ref, outbox_key=key, edits=0, created_at=now
    )
    session.add(found)
    await session.flush()
    await outbox.enqueue(session, [_envelope(group, found, key, {LIVE: found.id}, priority)], now)
    return found


async def refresh(
    session: AsyncSession,
    ref: str,
    now: datetime,
    *,
    branch_ids: Collection[int | None] | None = None,
) -> int:
    """The state behind `ref` changed: queue an edit of each of its posts that can be edited
    (one waiting edit per post at most); with `branch_ids`, only of the posts in those
    branches' groups (None: school-wide groups), where the change shows. Returns how many
    posts will be edited."""
    posts = await groups.posts_of(session, ref)
    if not posts:
        return 0
    by_id = {g.id: g for g in await groups.groups_by_id(session, {p.group_id for p in posts})}
    envelopes = [
        _envelope(
            by_id[p.group_id], p, f"{p.outbox_key}:edit{p.edits}", {LIVE: p.id, EDIT: True}, 3
        )
        for p in posts
        if by_id[p.group_id].bound
        and by_id[p.group_id].platform in EDITABLE
        and (branch_ids is None or by_id[p.group_id].branch_id in branch_ids)
    ]
    await outbox.enqueue(session, envelopes, now)
    return len(envelopes)


def _envelope(
    group: BranchGroup, found: GroupPost, key: str, payload: dict[str, object], priority: int
) -> outbox.Envelope:
    return outbox.Envelope(
        key=key,
        platform=group.platform,
        chat_id=group.chat_id,
        payload=payload,
        kind=f"group_{found.kind}",
        ref=found.ref,
        branch_id=group.branch_id,
        to_group=True,
        priority=priority,
    )


@dataclass(frozen=True)
class Drawn:
    """What a live row sends: the reply (an edit names the message it replaces), or nothing
    (`skip`: the first message has not gone yet and will show the state itself; `wait`: it is
    in flight, try again shortly; `gone`: the post or its first message is no more)."""

    reply: Reply | None = None
    skip: bool = False
    wait: bool = False
    gone: str | None = None


async def draw(session: AsyncSession, box: SecretBox, payload: dict[str, object]) -> Drawn:
    """The live row's reply as the state is now. For an edit, the post's waiting edit is taken
    up first (committed by the caller before drawing), so a change after it queues anew."""
    post_id = payload.get(LIVE)
    found = await session.get(GroupPost, post_id) if isinstance(post_id, int) else None
    if found is None:
        return Drawn(gone="the post is gone")
    fn = _drawers.get(found.kind)
    if fn is None:
        return Drawn(gone=f"no drawer for {found.kind} posts")
    replaces = None
    if payload.get(EDIT):
        first = await groups.first_message(session, found)
        if first is None or first.status in (outbox.Status.FAILED, outbox.Status.BLOCKED):
            return Drawn(gone="its first message was never sent")
        if first.status == outbox.Status.PENDING:
            return Drawn(skip=True)
        if first.status == outbox.Status.SENDING or first.message_id is None:
            return Drawn(wait=True)
        replaces = first.message_id
    reply = await fn(session, box, found)
    if reply is None:
        return Drawn(gone="nothing to show any more")
    return Drawn(reply=Reply(reply.text, reply.buttons, replaces=replaces))
