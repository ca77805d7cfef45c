"""/volunteer: a member reports service (with an optional photo) or sees their own record."""

from handlers.core.context import Context
from handlers.core.messages import Msg, Reply, UserError
from handlers.core.registry import EVERYONE, Replies
from handlers.volunteer import domain
from handlers.volunteer.feature import feature
from storage import volunteer

SHOWN = 10  # a member's latest records listed by the bare command


@feature.command("volunteer", roles=EVERYONE, aliases=("志愿服务",), private_only=True)
async def report(ctx: Context, args: str) -> Replies:
    """`/volunteer DATE HOURS ACTIVITY` (a photo's caption) reports; bare, the record."""
    if not args:
        if ctx.incoming.attachments:  # a photo captioned with the bare command
            raise UserError("usage", usage=domain.usage())
        return await _own_record(ctx)
    member = ctx.require_caller()
    parsed = domain.parse_report(args, ctx.today)
    activity = " ".join(ctx.typed(parsed.activity).split())  # the member's own punctuation
    parsed = domain.Report(parsed.day, parsed.minutes, activity[: domain.MAX_ACTIVITY])
    earlier = await volunteer.same_report(ctx.session, member.id, parsed.day, parsed.activity)
    if earlier is not None:
        raise UserError(
            "volunteer.already", line=domain.line(earlier), status=domain.status_msg(earlier.status)
        )
    photo = domain.photo_of(ctx.incoming.attachments, ctx.incoming.platform)
    record, reached = await domain.record_report(
        ctx.session, ctx.box, member, parsed, photo, ctx.now
    )
    return Reply(
        Msg(
            "volunteer.sent",
            line=domain.line(record),
            photo=Msg("volunteer.sent_photo") if photo else "",
            nobody="" if reached else Msg("volunteer.nobody_to_decide"),
        )
    )


async def _own_record(ctx: Context) -> Reply:
    member = ctx.require_caller()
    records = await volunteer.of_member(ctx.session, member.id, SHOWN)
    if not records:
        return Reply(Msg("volunteer.none_yet", usage=domain.usage()))
    this_year = ctx.today.replace(month=1, day=1)
    year = await volunteer.approved_minutes(ctx.session, [member.id], since=this_year)
    total = await volunteer.approved_minutes(ctx.session, [member.id])
    waiting = await volunteer.pending_of_member(ctx.session, member.id)
    lines = [
        Msg("volunteer.own_line", line=domain.line(r), status=domain.status_msg(r.status))
        for r in records
    ]
    pending = (
        Msg("volunteer.own_pending", count=waiting.count, hours=domain.hours_text(waiting.minutes))
        if waiting.count
        else ""
    )
    return Reply(
        Msg(
            "volunteer.own",
            lines=lines,
            year=this_year.year,
            year_hours=domain.hours_text(year[member.id]),
            total_hours=domain.hours_text(total[member.id]),
            pending=pending,
            usage=domain.usage(),
        )
    )
