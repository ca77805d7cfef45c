"""CLI commands for roster moves, on the `member` group: transfer within the school, out and
in, leaving for another reason, and a graduation batch. An operator's move takes effect at
once (as an admin's in chat) and is traced with their OS user."""

import getpass
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from bot.app.settings import Settings
from bot.cli.people import member_group
from bot.cli.support import (
    branch_named,
    member_named,
    now,
    opened,
    renderer_for,
    run,
    say,
    settings_from,
)
from handlers.account.changes import Editor
from handlers.account.roster import PERSON_COLUMNS
from handlers.common.tables import read_table
from handlers.core.messages import Msg, Series, UserError
from handlers.core.parsing import parse_date
from handlers.moves import domain, graduation
from handlers.moves.chat import REASONS
from handlers.moves.domain import Clock
from storage.enums import Departure, Role


def clock_for(settings: Settings) -> Clock:
    """Now, in the school's zone (the branch commands use it too)."""
    return Clock(now(), settings.zone)


def day_given(text: str | None, clock: Clock) -> date:
    """The --on day, or today."""
    return parse_date(text) if text else clock.today


def operator() -> Editor:
    """The operator at the command line, named by their OS user."""
    return Editor(None, getpass.getuser())


@member_group.command("transfer")
@click.argument("name")
@click.option("--to", "to_branch", required=True, help="The receiving branch of the school.")
@click.option("--on", "on", help="The transfer date, YYYY-MM-DD (today by default).")
@click.option("--branch", "branch_name", help="Their branch, when the name is not unique.")
@click.pass_context
def member_transfer(
    ctx: click.Context, name: str, to_branch: str, on: str | None, branch_name: str | None
) -> None:
    """Transfer a member to another branch of the school (转接), at once."""
    settings = settings_from(ctx)

    async def go() -> None:
        clock = clock_for(settings)
        day = day_given(on, clock)
        async with opened(settings) as services, services.sessions.begin() as session:
            member = await member_named(session, name, branch_name)
            target = await branch_named(session, to_branch)
            await domain.request_transfer(
                session, services.box, member, target, day, operator(), clock
            )
        say(settings, "moves.transferred", name=member.name, target=target.name, on=day)

    run(settings, go())


@member_group.command("transfer-out")
@click.argument("name")
@click.option("--to", "organisation", required=True, help="The receiving Party organisation.")
@click.option(
    "--letter", "letter_no", required=True, help="The introduction letter's number (介绍信编号)."
)
@click.option("--on", "on", help="The date, YYYY-MM-DD (today by default).")
@click.option("--branch", "branch_name", help="Their branch, when the name is not unique.")
@click.pass_context
def member_transfer_out(
    ctx: click.Context,
    name: str,
    organisation: str,
    letter_no: str,
    on: str | None,
    branch_name: str | None,
) -> None:
    """Transfer a member out of the school (转出); they keep /mydata for a while."""
    _leave(
        ctx,
        name,
        Departure.TRANSFERRED_OUT,
        on,
        branch_name,
        organisation=organisation,
        letter_no=letter_no,
    )


@member_group.command("leave")
@click.argument("name")
@click.option(
    "--reason",
    required=True,
    help="毕业 | 停止党籍 | 出党 | 去世 (graduated, stopped, left_party, died).",
)
@click.option("--on", "on", help="The date, YYYY-MM-DD (today by default).")
@click.option(
    "--basis", default="", help="The decision it rests on (required for 停止党籍 and 出党)."
)
@click.option("--branch", "branch_name", help="Their branch, when the name is not unique.")
@click.pass_context
def member_leave(
    ctx: click.Context, name: str, reason: str, on: str | None, basis: str, branch_name: str | None
) -> None:
    """A member leaves the roster for a reason; nobody is deleted."""
    settings = settings_from(ctx)
    why = REASONS.get(reason.strip().lower())
    if why is None:
        raise click.UsageError(
            renderer_for(settings).render(
                Msg("moves.bad_reason", value=reason, usage=Msg("cmd.depart.usage"))
            )
        )
    _leave(ctx, name, why, on, branch_name, basis=basis)


def _leave(
    ctx: click.Context,
    name: str,
    reason: Departure,
    on: str | None,
    branch_name: str | None,
    **details: str,
) -> None:
    settings = settings_from(ctx)

    async def go() -> None:
        clock = clock_for(settings)
        day = day_given(on, clock)
        async with opened(settings) as services, services.sessions.begin() as session:
            member = await member_named(session, name, branch_name)
            await domain.depart(
                session,
                services.box,
                member,
                reason,
                day,
                operator(),
                clock,
                access_days=settings.former_access_days,
                **details,
            )
        say(settings, "moves.left", name=member.name, reason=Msg(f"departure.{reason}"), on=day)

    run(settings, go())


@member_group.command("transfer-in")
@click.option("--branch", "branch_name", required=True, help="The receiving branch.")
@click.option("--name", required=True, help="The member's name.")
@click.option(
    "--from", "organisation", required=True, help="The Party organisation they come from."
)
@click.option(
    "--letter", "letter_no", required=True, help="The introduction letter's number (介绍信编号)."
)
@click.option("--on", "on", help="The date, YYYY-MM-DD (today by default).")
@click.pass_context
def member_transfer_in(
    ctx: click.Context,
    branch_name: str,
    name: str,
    organisation: str,
    letter_no: str,
    on: str | None,
) -> None:
    """Add a member transferred in from outside the school (转入); then `member bind-code` or
    /invite gives them a code."""
    settings = settings_from(ctx)

    async def go() -> None:
        clock = clock_for(settings)
        day = day_given(on, clock)
        async with opened(settings) as services, services.sessions.begin() as session:
            branch = await branch_named(session, branch_name)
            move = await domain.transfer_in(
                session, services.box, branch, name, organisation, letter_no, day, operator(), clock
            )
            origin, letter = move.organisation or "", move.letter_no or ""
        say(settings, "moves.transferred_in", name=name, source=origin, letter_no=letter, on=day)

    run(settings, go())


F = TypeVar("F", bound=Callable[..., Any])


def selection_options(command: F) -> F:
    """--grade, --class and --file: who a batch (a graduation, a split) picks."""
    options = (
        click.option("--grade", help="Everyone of this grade (年级), e.g. 2022级."),
        click.option("--class", "class_name", help="Everyone of this class (班级)."),
        click.option(
            "--file",
            "roster",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="A CSV or Excel list with 姓名 and/or 学号 columns.",
        ),
    )
    for option in reversed(options):
        command = option(command)
    return command


@member_group.command("graduate")
@click.option("--branch", "branch_name", help="Only this branch (default: every branch).")
@selection_options
@click.option("--on", "on", help="The leaving date, YYYY-MM-DD (today by default).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation after the preview.")
@click.pass_context
def member_graduate(
    ctx: click.Context,
    branch_name: str | None,
    grade: str | None,
    class_name: str | None,
    roster: Path | None,
    on: str | None,
    yes: bool,
) -> None:
    """A graduation batch: preview who leaves, confirm, then each leaves with a farewell."""
    settings = settings_from(ctx)
    chosen = [(k, v) for k, v in (("grade", grade), ("class", class_name)) if v]
    if len(chosen) + (roster is not None) != 1:
        raise click.UsageError(renderer_for(settings).render(Msg("graduation.one_way")))
    render = renderer_for(settings).render

    async def go() -> None:
        clock = clock_for(settings)
        day = day_given(on, clock)
        if day > clock.today:
            raise UserError("moves.future_date", on=day, today=clock.today)
        kind, values = chosen[0] if chosen else ("list", listed_in_file(roster))
        async with opened(settings) as services, services.sessions.begin() as session:
            scope = (await branch_named(session, branch_name)).id if branch_name else None
            batch = await graduation.pick(
                session, scope, kind, [values] if isinstance(values, str) else values
            )
            leaving = [m for m in batch.members if m.role != Role.ADMIN]
            if not leaving:
                raise UserError("graduate.nobody", unknown=Series(batch.unknown) or "-")
            click.echo(render(Msg("graduation.preview", count=len(leaving), on=day)))
            for m in leaving:
                click.echo(
                    f"#{m.id}\t{m.name}\t{m.staff_no or '-'}\t{m.branch.name if m.branch else '-'}"
                )
            if batch.unknown:
                click.echo(render(Msg("graduate.unknown", names=Series(batch.unknown))))
            if not yes and not click.confirm(render(Msg("graduation.confirm")), default=False):
                raise click.Abort()
            await graduation.graduate_all(
                session, services.box, leaving, day, operator(), clock, settings.former_access_days
            )
        say(settings, "graduation.done", count=len(leaving))

    run(settings, go())


def listed_in_file(roster: Path | None) -> list[str]:
    """The staff numbers (else names) a graduation list file names."""
    assert roster is not None
    table = read_table(roster.name, roster.read_bytes(), PERSON_COLUMNS, "graduation.empty_file")
    return [
        values.get("staff_no") or values.get("name", "")
        for _, values in table.rows
        if values.get("staff_no") or values.get("name")
    ]
