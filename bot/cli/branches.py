"""CLI commands for branches as they change, on the `branch` group: list (with former names
and archived branches), rename, merge (preview, then confirm or --yes), split by grade, class
or a list, and archive. An operator acts as an admin does in chat, traced with their OS user."""

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app.services import Services
from bot.app.settings import Settings
from bot.cli.moves import clock_for, day_given, listed_in_file, operator, selection_options
from bot.cli.people import branch_group
from bot.cli.support import opened, renderer_for, run, say, settings_from, usage_error
from handlers.branches import domain, reshape
from handlers.core.messages import Msg, Series
from handlers.moves.domain import Clock


def _in_one_transaction(
    settings: Settings,
    work: Callable[[Services, AsyncSession, Clock], Coroutine[Any, Any, None]],
) -> None:
    """Run `work` in one transaction (all or nothing) and turn known problems into lines."""

    async def go() -> None:
        clock = clock_for(settings)
        async with opened(settings) as services, services.sessions.begin() as session:
            await work(services, session, clock)

    run(settings, go())


def _confirm(settings: Settings, preview: Msg, yes: bool) -> None:
    """Print the preview; unless --yes, ask, and stop (nothing changed) on no."""
    render = renderer_for(settings).render
    click.echo(render(preview))
    if not yes and not click.confirm(render(Msg("branch.go_ahead")), default=False):
        raise click.Abort()


@branch_group.command("list")
@click.option("--all", "everything", is_flag=True, help="Archived branches too, marked.")
@click.pass_context
def branch_list(ctx: click.Context, everything: bool) -> None:
    """List branches with their member counts and former names (tab-separated)."""
    settings = settings_from(ctx)
    render = renderer_for(settings).render

    async def go() -> None:
        async with opened(settings) as services, services.readers() as session:
            for item in await domain.listing(session, clock_for(settings), everything):
                b = item.branch
                columns = [f"#{b.id}", b.name, b.college or "-", str(item.members)]
                if item.archived_on is not None:
                    into = Msg("branch.into", target=item.merged_into) if item.merged_into else ""
                    columns.append(render(Msg("branch.archived", on=item.archived_on, into=into)))
                if item.former:
                    columns.append(render(Msg("branch.former", names=Series(item.former))))
                click.echo("\t".join(columns))

    run(settings, go())


@branch_group.command("rename")
@click.argument("old")
@click.argument("new")
@click.pass_context
def branch_rename(ctx: click.Context, old: str, new: str) -> None:
    """Rename a branch; the old name stays in its history (branch list shows it)."""
    settings = settings_from(ctx)

    async def work(services: Services, session: AsyncSession, clock: Clock) -> None:
        branch = await domain.branch_called(session, old)
        was = await domain.rename(session, services.box, branch, new, operator(), clock)
        say(settings, "branches.renamed", old=was, new=branch.name)

    _in_one_transaction(settings, work)


@branch_group.command("merge")
@click.argument("source")
@click.option("--into", "target", required=True, help="The branch SOURCE becomes part of.")
@click.option("--on", "on", help="The day it takes effect, YYYY-MM-DD (today by default).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation after the preview.")
@click.pass_context
def branch_merge(ctx: click.Context, source: str, target: str, on: str | None, yes: bool) -> None:
    """Merge SOURCE into TARGET: members and meetings not yet held move, SOURCE is archived."""
    settings = settings_from(ctx)

    async def work(services: Services, session: AsyncSession, clock: Clock) -> None:
        day = day_given(on, clock)
        plan = await reshape.plan_merge(
            session,
            await domain.branch_called(session, source),
            await domain.branch_called(session, target),
            day,
            clock,
        )
        _confirm(settings, plan.preview(), yes)
        await reshape.merge(session, services.box, plan, operator(), clock)
        click.echo(renderer_for(settings).render(plan.done()))

    _in_one_transaction(settings, work)


@branch_group.command("split")
@click.argument("source")
@click.option("--into", "target", required=True, help="The new (or an existing) branch.")
@selection_options
@click.option("--names", help="Names or staff numbers, separated by commas.")
@click.option("--on", "on", help="The day it takes effect, YYYY-MM-DD (today by default).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation after the preview.")
@click.pass_context
def branch_split(
    ctx: click.Context,
    source: str,
    target: str,
    grade: str | None,
    class_name: str | None,
    roster: Path | None,
    names: str | None,
    on: str | None,
    yes: bool,
) -> None:
    """Move a grade, a class or listed members of SOURCE into a new (or another) branch."""
    settings = settings_from(ctx)
    chosen: list[tuple[str, list[str]]] = [
        (k, [v]) for k, v in (("grade", grade), ("class", class_name)) if v
    ]
    if roster is not None:
        chosen.append(("list", listed_in_file(roster)))
    if names is not None:
        split_names = names.replace("，", ",").replace("、", ",").split(",")
        chosen.append(("list", [n.strip() for n in split_names if n.strip()]))
    if len(chosen) != 1:
        raise usage_error(settings, "branch.one_way")
    kind, values = chosen[0]

    async def work(services: Services, session: AsyncSession, clock: Clock) -> None:
        day = day_given(on, clock)
        origin = await domain.branch_called(session, source)
        plan = await reshape.plan_split(session, origin, target, kind, values, day, clock)
        _confirm(settings, plan.preview(), yes)
        made = await reshape.split(session, services.box, plan, operator(), clock)
        click.echo(renderer_for(settings).render(plan.done(made)))

    _in_one_transaction(settings, work)


@branch_group.command("archive")
@click.argument("name")
@click.option("--on", "on", help="The day it no longer exists from, YYYY-MM-DD (today).")
@click.pass_context
def branch_archive(ctx: click.Context, name: str, on: str | None) -> None:
    """Archive a branch that no longer exists (refused while it has members)."""
    settings = settings_from(ctx)

    async def work(services: Services, session: AsyncSession, clock: Clock) -> None:
        day = day_given(on, clock)
        branch = await domain.branch_called(session, name)
        await domain.archive(session, services.box, branch, day, operator(), clock)
        say(settings, "branches.archived_done", branch=branch.name, on=day)

    _in_one_transaction(settings, work)
