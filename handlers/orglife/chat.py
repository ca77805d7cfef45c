"""`/orglife` (组织生活): the branch's status under each frequency rule for the current periods,
and the rules the last periods missed; an admin sees every branch side by side, or one."""

from handlers.core.context import Context
from handlers.core.messages import Msg, Reply, UserError
from handlers.core.registry import COMMITTEE_UP, Replies
from handlers.orglife.feature import feature
from handlers.orglife.rules import frequency_rules
from handlers.orglife.status import RuleStatus, branch_statuses
from handlers.orglife.words import MARKS, kind_name, missed_line, status_line
from storage import branches, people
from storage.models import Branch


@feature.command("orglife", roles=COMMITTEE_UP, aliases=("组织生活", "三会一课"))
async def orglife_command(ctx: Context, args: str) -> Replies:
    """The caller's branch; an admin: every branch, or the one named."""
    scope = ctx.branch_scope()
    name = args.strip()
    if scope is None and not name:
        return await _school(ctx)
    if name and scope is not None:
        raise UserError("orglife.own_branch_only")
    branch = await ctx.session.get(Branch, scope) if scope is not None else None
    if branch is None:
        branch = await people.branch_by_name(ctx.session, name)
        if branch is None:
            raise UserError("orglife.unknown_branch", name=name)
    statuses = (await branch_statuses(ctx.session, [branch.id], ctx.now, ctx.options.timezone))[
        branch.id
    ]
    return Reply(branch_view(branch.name, statuses))


def branch_view(name: str, statuses: list[RuleStatus]) -> Msg:
    missed = [missed_line(s) for s in statuses if s.last_missed]
    rules = frequency_rules()
    return Msg(
        "orglife.view",
        branch=name,
        lines=[status_line(s) for s in statuses],
        missed=Msg("orglife.missed_head", lines=missed) if missed else "",
        basis=rules.basis,
        version=rules.version,
    )


async def _school(ctx: Context) -> Reply:
    current = sorted(await branches.current_branches(ctx.session), key=lambda b: b.name)
    if not current:
        raise UserError("orglife.no_branches")
    found = await branch_statuses(
        ctx.session, [b.id for b in current], ctx.now, ctx.options.timezone
    )
    lines = [
        Msg(
            "orglife.school_line",
            branch=b.name,
            marks=" ".join(f"{MARKS[s.state]}{s.rule.id}" for s in found[b.id]),
            due=sum(1 for s in found[b.id] if s.state == "due"),
        )
        for b in current
    ]
    legend = [
        Msg("orglife.legend_kind", id=r.id, kind=kind_name(r)) for r in frequency_rules().rules
    ]
    return Reply(Msg("orglife.school", lines=lines, legend=legend))
