"""CLI commands for branches and members: add, list, change, binding codes (the roster file's
import and export are in bot/cli/roster.py)."""

import getpass
import json
from datetime import timedelta

import click

from bot.cli.support import (
    branch_named,
    member_named,
    now,
    on_branch,
    opened,
    renderer_for,
    run,
    say,
    settings_from,
    usage_error,
)
from handlers.account.changes import Editor, change_member, done, parse_value
from handlers.account.members import (
    NewMember,
    add_branch,
    add_member,
    issue_bind_code,
    issue_invite,
)
from handlers.account.roster_checks import check_member
from handlers.core.messages import Msg, Series, UserError
from handlers.core.parsing import clean
from storage import people


@click.group("branch")
def branch_group() -> None:
    """Manage branches (党支部)."""


@branch_group.command("add")
@click.argument("name")
@click.option("--college", help="The college (学院) the branch belongs to.")
@click.pass_context
def branch_add(ctx: click.Context, name: str, college: str | None) -> None:
    """Create a branch."""
    settings = settings_from(ctx)

    async def go() -> None:
        async with opened(settings) as services, services.sessions.begin() as session:
            branch = await add_branch(session, services.box, name, now(), college)
            say(settings, "cli.branch_added", name=branch.name, id=branch.id)

    run(settings, go())


@click.group("member")
def member_group() -> None:
    """Manage members: add one, import a roster, list a branch."""


def _new_member(opts: dict[str, str | None]) -> NewMember:
    """The options checked by the same rules as a roster row."""
    new, problems = check_member({k: clean(v) for k, v in opts.items() if v})
    if new is None:
        raise UserError("member.invalid", problems=problems)
    return new


@member_group.command("add")
@click.option("--branch", "branch_name", required=True, help="Branch name.")
@click.option("--name", required=True, help="The member's name.")
@click.option("--role", help="member | committee | secretary | admin (or 党员/支委/书记/管理员).")
@click.option("--stage", help="applicant | activist | candidate | probationary | full.")
@click.option("--remote-until", help="Intern on placement until YYYY-MM-DD.")
@click.option("--staff-no", help="Student or staff number.")
@click.option("--phone", help="Mobile number (stored encrypted).")
@click.option("--id-number", help="Resident ID number (stored encrypted).")
@click.option("--json", "as_json", is_flag=True, help="Print {member_id, invite_code} as JSON.")
@click.pass_context
def member_add(ctx: click.Context, branch_name: str, as_json: bool, **opts: str | None) -> None:
    """Add a member and print their invite code."""
    settings = settings_from(ctx)

    async def go() -> None:
        new = _new_member(opts)
        async with on_branch(settings, branch_name) as (services, session, branch):
            member = await add_member(session, services.box, branch, new, now())
            ttl = timedelta(days=settings.invite_ttl_days)
            code = await issue_invite(session, services.box, member, now(), ttl)
        if as_json:
            click.echo(json.dumps({"member_id": member.id, "invite_code": code}))
            return
        expires = (now() + ttl).astimezone(settings.zone).date()
        say(
            settings,
            "cli.member_added",
            name=member.name,
            id=member.id,
            branch=branch.name,
            code=code,
            expires=expires,
        )

    run(settings, go())


@member_group.command("bind-code")
@click.argument("name")
@click.option("--branch", "branch_name", help="Their branch, when the name is not unique.")
@click.option("--json", "as_json", is_flag=True, help="Print {member_id, bind_code} as JSON.")
@click.pass_context
def member_bind_code(ctx: click.Context, name: str, branch_name: str | None, as_json: bool) -> None:
    """Print a code that binds a bound member's account on a further platform (e.g. WeCom)."""
    settings = settings_from(ctx)

    async def go() -> None:
        ttl = timedelta(days=settings.invite_ttl_days)
        async with opened(settings) as services, services.sessions.begin() as session:
            member = await member_named(session, name, branch_name)
            code, platforms = await issue_bind_code(session, services.box, member, now(), ttl)
        if as_json:
            click.echo(json.dumps({"member_id": member.id, "bind_code": code}))
            return
        say(
            settings,
            "cli.bind_code",
            name=member.name,
            id=member.id,
            branch=member.branch.name if member.branch else "-",
            code=code,
            expires=(now() + ttl).astimezone(settings.zone).date(),
            platforms=Series(Msg(f"platform.{p}") for p in platforms),
        )

    run(settings, go())


# The `member set` options, in the order they are applied, with the field each one sets.
SET_OPTIONS = (
    ("name", "name"),
    ("staff_no", "staff_no"),
    ("phone", "phone"),
    ("remote_until", "remote_until"),
    ("gender", "gender"),
    ("ethnicity", "ethnicity"),
    ("birth_date", "birth_date"),
    ("education", "education"),
    ("native_place", "native_place"),
    ("grade", "grade"),
    ("class_name", "class_name"),
    ("role", "role"),
)


@member_group.command("set")
@click.argument("name")
@click.option("--branch", "branch_name", help="Their branch, when the name is not unique.")
@click.option("--role", help="member | committee | secretary | admin (or 党员/支委/书记/管理员).")
@click.option("--name", "new_name", help="The name, spelt anew.")
@click.option("--staff-no", help="Student or staff number.")
@click.option("--phone", help="Mobile number (stored encrypted); none clears it.")
@click.option("--remote-until", help="Intern on placement until YYYY-MM-DD; none ends it.")
@click.option("--gender", help="男 or 女 (stored encrypted, like the next four).")
@click.option("--ethnicity", help="民族, e.g. 汉族.")
@click.option("--birth-date", help="出生日期, YYYY-MM-DD.")
@click.option("--education", help="学历, e.g. 大学本科.")
@click.option("--native-place", help="籍贯.")
@click.option("--grade", help="年级, e.g. 2023级.")
@click.option("--class", "class_name", help="班级.")
@click.pass_context
def member_set(
    ctx: click.Context, name: str, branch_name: str | None, new_name: str | None, **opts: str | None
) -> None:
    """Change a member's record, all given fields or none; each change is traced."""
    settings = settings_from(ctx)
    given = {**opts, "name": new_name}
    wanted = [(f, clean(given[o] or "")) for o, f in SET_OPTIONS if given[o] is not None]
    if not wanted:
        raise usage_error(settings, "record.nothing")
    editor = Editor(None, getpass.getuser())

    async def go() -> None:
        at = now()
        today = at.astimezone(settings.zone).date()
        values = [(f, parse_value(f, text, today)) for f, text in wanted]
        async with opened(settings) as services, services.sessions.begin() as session:
            member = await member_named(session, name, branch_name)
            changes = [
                await change_member(session, services.box, member, f, value, at, editor)
                for f, value in values
            ]
        for change in changes:
            click.echo(renderer_for(settings).render(done(change)))

    run(settings, go())


@member_group.command("list")
@click.option("--branch", "branch_name", required=True, help="Branch name.")
@click.pass_context
def member_list(ctx: click.Context, branch_name: str) -> None:
    """List a branch's members with role, stage and bound platforms."""
    settings = settings_from(ctx)

    async def go() -> None:
        async with opened(settings) as services, services.readers() as session:
            branch = await branch_named(session, branch_name)
            for m in await people.branch_members(session, branch.id):
                platforms = ",".join(a.platform for a in await m.awaitable_attrs.accounts) or "-"
                remote = m.remote_until.isoformat() if m.remote_until else "-"
                click.echo(f"#{m.id}\t{m.name}\t{m.role}\t{m.stage}\t{remote}\t{platforms}")

    run(settings, go())
