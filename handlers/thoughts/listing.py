"""/thoughts: one's own reports and who read them; for a contact person or the secretary, the
reports waiting for them; `/thoughts NAME` lists one person's reports (traced)."""

from collections.abc import Sequence

from handlers.core.context import Context
from handlers.core.messages import Button, Denied, Msg, Reply, Series, UserError
from handlers.core.parsing import valid_name
from handlers.core.registry import EVERYONE, Replies
from handlers.thoughts.access import hands_in, may_read, may_read_reports_of
from handlers.thoughts.feature import feature
from handlers.thoughts.reminders import due_dates
from storage import people, thoughts
from storage.enums import Role
from storage.models import Member
from storage.pipeline import cultivated_by
from storage.pipeline_models import ThoughtReport

LISTED = 20  # reports listed at once
BUTTONS = 8  # of which this many get a button to open them


async def _lines(ctx: Context, reports: Sequence[ThoughtReport]) -> list[Msg]:
    """`#12 2026-11-24 入党积极分子 · 已阅：李四、王五` for each report."""
    reviews = await thoughts.reviews(ctx.session, [r.id for r in reports])
    lines = []
    for report in reports:
        names = Series(review.reader.name for review in reviews[report.id])
        status = Msg("thought.read_by", names=names) if names else Msg("thought.unread")
        lines.append(
            Msg(
                "thought.list_line",
                id=report.id,
                on=report.submitted_at.astimezone(ctx.options.timezone).date(),
                stage=Msg(f"stage.{report.stage}"),
                status=status,
            )
        )
    return lines


def _open_buttons(
    reports: Sequence[ThoughtReport], *, named: bool
) -> tuple[tuple[Button, ...], ...]:
    rows = []
    for report in reports[:BUTTONS]:
        label = (
            Msg("thought.open_named", id=report.id, name=report.member.name)
            if named
            else Msg("thought.open_id", id=report.id)
        )
        rows.append((Button(label, f"/thought_show {report.id}"),))
    return tuple(rows)


async def _own(ctx: Context, member: Member) -> Reply | None:
    reports, total = await thoughts.by_author(ctx.session, member.id, LISTED)
    expected = hands_in(member)
    if not reports and not expected:
        return None
    due = (await due_dates(ctx.session, [member], ctx.options))[member.id] if expected else None
    text = Msg(
        "thought.own",
        total=total,
        lines=await _lines(ctx, reports) if reports else Msg("thought.none_yet"),
        due=Msg("thought.next_due", due=due) if due else "",
    )
    return Reply(text, _open_buttons(reports, named=False))


async def _waiting(ctx: Context, reader: Member) -> Reply | None:
    """Reports waiting for a contact person or a secretary; None for anyone else."""
    secretary_of = reader.branch_id if reader.role == Role.SECRETARY else None
    cultivated = await cultivated_by(ctx.session, reader.id)
    if secretary_of is None and not cultivated:
        return None
    found, total = await thoughts.awaiting(
        ctx.session, reader.id, branch_id=secretary_of, author_ids=cultivated, limit=LISTED
    )
    shown = [r for r in found if await may_read(ctx.session, r, reader)]
    if not shown:
        return Reply(Msg("thought.nothing_waiting"))
    lines = [
        Msg(
            "thought.waiting_line",
            id=r.id,
            name=r.member.name,
            on=r.submitted_at.astimezone(ctx.options.timezone).date(),
        )
        for r in shown
    ]
    return Reply(Msg("thought.waiting", total=total, lines=lines), _open_buttons(shown, named=True))


async def _person(ctx: Context, name: str) -> list[Reply]:
    """The reports of the people of that name the caller may read; the view is traced."""
    reader = ctx.require_caller()
    if not valid_name(name):
        raise UserError("usage", usage=Msg("cmd.thoughts.usage"))
    named = await people.members_named(ctx.session, name, None)
    permitted = [m for m in named if await may_read_reports_of(ctx.session, m, reader)]
    if not permitted and named:  # namesakes exist, none of them readable: a traced refusal
        target = "thoughts_of:" + ",".join(f"#{m.id}" for m in named)
        raise Denied("thought.no_person", target=target, exists=True, name=name)
    if not permitted:
        raise UserError("thought.no_person", name=name)
    replies = []
    for person in permitted:
        reports, total = await thoughts.by_author(ctx.session, person.id, LISTED)
        await ctx.trace_view_of(person, "thought_reports")
        text = Msg(
            "thought.person",
            name=person.name,
            stage=Msg(f"stage.{person.stage}"),
            total=total,
            lines=await _lines(ctx, reports) if reports else Msg("thought.none_yet"),
        )
        replies.append(Reply(text, _open_buttons(reports, named=False)))
    return replies


@feature.command("thoughts", roles=EVERYONE, aliases=("我的思想汇报",), private_only=True)
async def thoughts_list(ctx: Context, args: str) -> Replies:
    if args:
        return await _person(ctx, args)
    caller = ctx.require_caller()
    replies = [r for r in (await _own(ctx, caller), await _waiting(ctx, caller)) if r]
    return replies or Reply(Msg("thought.nothing_for_you"))
