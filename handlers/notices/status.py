"""Who got a notice and who acknowledged it: /notice_status, /notice_remind, /notices, and the
summary its author gets unasked a day later."""

import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Context
from handlers.core.messages import Button, Denied, Msg, Reply, Series, UserError
from handlers.core.notify import blocked_why, queue_to_members, why_unreached
from handlers.core.parsing import parse_id
from handlers.core.registry import SECRETARY_UP, Replies
from handlers.notices.access import may_see
from handlers.notices.audience import Audience
from handlers.notices.feature import feature
from handlers.notices.message import headline, notice_reply
from handlers.notices.where import Where, where_of
from storage import groups, notices, outbox, people
from storage.models import Notice
from storage.outbox import Status

# A reminder round at most this often, so members are not nagged by repeated presses.
REMIND_INTERVAL = timedelta(hours=1)
NAMES_SHOWN = 60
RECENT = 10


async def visible_notice(ctx: Context, args: str, command: str) -> Notice:
    """The notice named in args, if the caller may see it (its branch, or any for admins)."""
    tokens = args.split()
    notice_id = parse_id(tokens[0]) if tokens else None
    if notice_id is None:
        raise UserError("usage", usage=Msg(f"cmd.{command}.usage"))
    notice = await notices.get(ctx.session, notice_id)
    if notice is None or not may_see(ctx, notice):
        target, exists = f"notice:{notice_id}", notice is not None
        raise Denied("notice.not_found", target=target, exists=exists, id=notice_id)
    return notice


def duration(delta: timedelta) -> Msg:
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return Msg("duration.minutes", minutes=minutes)
    if minutes < 48 * 60:
        return Msg("duration.hours", hours=minutes // 60, minutes=minutes % 60)
    return Msg("duration.days", days=minutes // (24 * 60))


def _names(names: list[str]) -> Msg | Series:
    if len(names) <= NAMES_SHOWN:
        return Series(names)
    return Msg("names.more", names=Series(names[:NAMES_SHOWN]), count=len(names))


def _capped(lines: list[Msg]) -> list[Msg]:
    if len(lines) <= NAMES_SHOWN:
        return lines
    return [*lines[:NAMES_SHOWN], Msg("names.and_more", count=len(lines))]


async def status_msg(session: AsyncSession, notice: Notice) -> Msg:
    """Delivery and acknowledgement of a notice, with the names a secretary acts on; the
    acknowledgements made in a group and in private chats counted together."""
    ref = notices.notice_ref(notice.id)
    recipients = await notices.recipients_with_names(session, notice.id)
    audience = Audience.from_json(notice.audience)
    lines: list[Msg] = [
        Msg(
            "notice.status_head",
            id=notice.id,
            at=notice.created_at,
            excerpt=headline(notice.text, notice.attachment),
        ),
        Msg(
            "notice.status_audience",
            audience=audience.describe(await people.branch_names(session, audience.branches)),
        ),
    ]
    in_groups = len(await groups.posts_of(session, ref))
    if where_of(notice) == Where.GROUP:
        lines.append(Msg("notice.status_groups_only", groups=in_groups, total=len(recipients)))
        delivery = None
        lost: list[Msg] = []
    else:
        delivery = await outbox.statuses_by_member(session, ref, "notice")
        lost = await _lost_ones(session, ref, recipients, delivery)
        lines.append(_delivery_line(recipients, delivery, len(lost), in_groups))
    if notice.require_ack:
        in_group = await notices.acked_in_group(session, notice.id)
        lines += _ack_lines(notice, recipients, delivery, in_group)
    else:
        lines.append(Msg("notice.status_no_ack"))
    if lost:
        lines.append(Msg("notice.status_lost", names=_capped(lost)))
    return Msg("notice.status", lines=lines)


_UNDER_WAY = (Status.SENT, Status.PENDING, Status.SENDING)


def _delivery_line(
    recipients: Sequence[tuple[int, str, datetime | None]],
    delivery: dict[int, str],
    lost: int,
    in_groups: int,
) -> Msg:
    sent = sum(1 for m, _, _ in recipients if delivery.get(m) == Status.SENT)
    queued = sum(1 for m, _, _ in recipients if delivery.get(m) in (Status.PENDING, Status.SENDING))
    groups = Msg("notice.status_also_groups", groups=in_groups) if in_groups else ""
    return Msg(
        "notice.status_delivery",
        sent=sent,
        total=len(recipients),
        queued=queued,
        lost=lost,
        groups=groups,
    )


async def _lost_ones(
    session: AsyncSession,
    ref: str,
    recipients: Sequence[tuple[int, str, datetime | None]],
    delivery: dict[int, str],
) -> list[Msg]:
    refused = await outbox.refused_on(session, ref, "notice")
    return [
        _lost(delivery.get(m), name, refused.get(m, set()))
        for m, name, _ in recipients
        if delivery.get(m) not in _UNDER_WAY
    ]


def _lost(status: str | None, name: str, refused_on: set[str]) -> Msg:
    """A member the notice cannot reach, and why (a refusal in the words of its chat app)."""
    if status == Status.BLOCKED:
        return Msg("notice.lost_blocked", name=name, why=blocked_why(refused_on))
    return Msg(f"notice.lost_{status or 'unbound'}", name=name)


def _ack_lines(
    notice: Notice,
    recipients: Sequence[tuple[int, str, datetime | None]],
    delivery: dict[int, str] | None,
    in_group: int,
) -> list[Msg]:
    """Acknowledged (how many of them in a group) and who has not, among those the notice
    reached (every recipient of one posted only to the group: they can all press 收到 there)."""
    acked = [at for _, _, at in recipients if at is not None]
    waiting = [
        name
        for m, name, at in recipients
        if at is None and (delivery is None or delivery.get(m) in _UNDER_WAY)
    ]
    total = len(recipients)
    rate = f"{len(acked) / total:.0%}" if total else "-"
    speed: Msg | str = ""
    if acked:
        speed = Msg(
            "notice.status_speed",
            median=duration(
                timedelta(
                    seconds=statistics.median(
                        (at - notice.created_at).total_seconds() for at in acked
                    )
                )
            ),
        )
    lines = [Msg("notice.status_acks", acked=len(acked), total=total, rate=rate, speed=speed)]
    if in_group:
        lines.append(Msg("notice.status_acked_in_group", count=in_group))
    if waiting:
        lines.append(Msg("notice.status_waiting", count=len(waiting), names=_names(waiting)))
    if notice.reminders:
        lines.append(Msg("notice.status_reminded", count=notice.reminders, at=notice.reminded_at))
    return lines


@feature.command(
    "notice_status", roles=SECRETARY_UP, aliases=("回执",), private_only=True, keeps_flow=True
)
async def notice_status(ctx: Context, args: str) -> Replies:
    notice = await visible_notice(ctx, args, "notice_status")
    buttons: tuple[tuple[Button, ...], ...] = ()
    if notice.require_ack:
        buttons = ((Button(Msg("notice.remind_button"), f"/notice_remind {notice.id}"),),)
    return Reply(await status_msg(ctx.session, notice), buttons)


@feature.command(
    "notice_remind", roles=SECRETARY_UP, aliases=("催回执",), private_only=True, keeps_flow=True
)
async def notice_remind(ctx: Context, args: str) -> Replies:
    """Send the notice again to those who have not acknowledged it."""
    notice = await visible_notice(ctx, args, "notice_remind")
    if not notice.require_ack:
        raise UserError("remind.no_ack", id=notice.id)
    if notice.reminded_at is not None and ctx.now - notice.reminded_at < REMIND_INTERVAL:
        wait = REMIND_INTERVAL - (ctx.now - notice.reminded_at)
        raise UserError("remind.too_soon", id=notice.id, wait=duration(wait))
    waiting = await notices.unacked_ids(ctx.session, notice.id)
    if not waiting:
        return Reply(Msg("remind.all_acked", id=notice.id))
    notice.reminders += 1
    notice.reminded_at = ctx.now
    ref = notices.notice_ref(notice.id)
    reached = await queue_to_members(
        ctx.session,
        waiting,
        notice_reply(notice, reminder=True),
        key=f"{ref}:remind{notice.reminders}",
        kind="notice.reminder",
        now=ctx.now,
        ref=ref,
    )
    await ctx.trace(
        "notice.reminded",
        ref=ref,
        data={"round": notice.reminders, "waiting": len(waiting), "reachable": len(reached)},
    )
    missed = [m for m in waiting if m not in reached]
    unreachable: Msg | str = ""
    if missed:
        why = await why_unreached(ctx.session, missed)
        unreachable = Msg("remind.unreachable", count=len(missed), why=why)
    return Reply(
        Msg(
            "remind.ok",
            id=notice.id,
            count=len(reached),
            round=notice.reminders,
            unreachable=unreachable,
        )
    )


@feature.command("notices", roles=SECRETARY_UP, aliases=("通知列表",), private_only=True)
async def notice_list(ctx: Context, args: str) -> Replies:
    """The branch's latest notices with their acknowledgement counts."""
    rows = await notices.recent(ctx.session, ctx.branch_scope(), RECENT)
    if not rows:
        return Reply(Msg("notices.none"))
    lines = [
        Msg(
            "notices.line_ack" if n.require_ack else "notices.line",
            id=n.id,
            at=n.created_at,
            excerpt=headline(n.text, n.attachment, 20),
            acked=acked,
            total=total,
        )
        for n, total, acked in rows
    ]
    return Reply(Msg("notices.list", lines=lines))


async def queue_due_summaries(session: AsyncSession, now: datetime) -> int:
    """Send each notice's author its acknowledgement summary once its time has come."""
    due = await notices.due_summaries(session, now)
    for notice in due:
        notice.summary_sent_at = now
        after = (notice.summary_due_at or now) - notice.created_at
        hours = max(round(after.total_seconds() / 3600), 1)
        text = Msg("notice.summary", hours=hours, status=await status_msg(session, notice))
        button = Button(Msg("notice.remind_button"), f"/notice_remind {notice.id}")
        ref = notices.notice_ref(notice.id)
        await queue_to_members(
            session,
            [notice.author_id],
            Reply(text, ((button,),)),
            key=f"{ref}:summary",
            kind="notice.summary",
            now=now,
            ref=ref,
        )
    return len(due)
