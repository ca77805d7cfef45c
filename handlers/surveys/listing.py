"""/surveys: the open surveys for the caller with where they stand; for a secretary also their
branch's surveys with how many have answered."""

from handlers.core.context import Context
from handlers.core.messages import Button, Msg, Reply, UserError
from handlers.core.registry import EVERYONE, SECRETARY_UP, Replies
from handlers.surveys.feature import feature
from handlers.surveys.show import headline
from storage import surveys
from storage.models import Member

SHOWN = 10  # surveys listed in each part


@feature.command("surveys", roles=EVERYONE, aliases=("问卷",))
async def survey_list(ctx: Context, args: str) -> Replies:
    if args:
        raise UserError("usage", usage=Msg("cmd.surveys.usage"))
    member = ctx.require_caller()
    replies = [await _mine(ctx, member)]
    if member.role in SECRETARY_UP:
        replies.append(await _managed(ctx))
    return replies


async def _mine(ctx: Context, member: Member) -> Reply:
    """Open surveys for the member: 已填, 填写中 (how far) or 未填, with buttons to go on."""
    found = [
        s
        for s in await surveys.open_surveys(ctx.session, [member.branch_id, None])
        if s.deadline > ctx.now and surveys.reaches(s, member, ctx.today)
    ][:SHOWN]
    if not found:
        return Reply(Msg("survey.mine_none"))
    ids = [s.id for s in found]
    taken = await surveys.taken_of(ctx.session, ids, member.id)
    positions = await surveys.positions_of(ctx.session, ids, member.id)
    lines, rows = [], []
    for survey in found:
        if survey.id in taken:
            status = Msg("survey.status_done")
        elif survey.id in positions:
            total = len(survey.questions)
            status = Msg("survey.status_started", done=positions[survey.id], total=total)
        else:
            status = Msg("survey.status_new")
        lines.append(
            Msg(
                "survey.mine_line", survey=headline(survey), status=status, deadline=survey.deadline
            )
        )
        if survey.id not in taken:
            label = Msg("survey.list_button", id=survey.id, title=survey.title)
            rows.append((Button(label, f"/survey {survey.id}"),))
    return Reply(Msg("survey.mine", lines=lines), tuple(rows))


async def _managed(ctx: Context) -> Reply:
    """The branch's surveys (every survey for an admin), newest first, with answer counts."""
    scope = ctx.branch_scope()
    found = await surveys.of_branch(ctx.session, scope, SHOWN)
    if not found:
        return Reply(Msg("survey.managed_none"))
    counts = await surveys.answer_counts(ctx.session, [s.id for s in found])
    lines = []
    for survey in found:
        audience = await surveys.audience_size(ctx.session, survey, ctx.today)
        if survey.closed_at is not None:
            state = Msg("survey.state_closed", at=survey.closed_at)
        else:
            state = Msg("survey.state_open", deadline=survey.deadline)
        answers = counts.get(survey.id, 0)
        line = Msg(
            "survey.managed_line",
            survey=headline(survey),
            state=state,
            answers=answers,
            audience=audience,
            anonymous=Msg("survey.anonymous_tag" if survey.anonymous else "survey.named_tag"),
        )
        lines.append(line)
    return Reply(Msg("survey.managed" if scope is not None else "survey.managed_all", lines=lines))
