"""Shared plumbing for CLI commands: settings, services, error-to-exit-code mapping, output."""

import asyncio
import getpass
import sys
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app.services import SchemaOutdated, Services, build_services, check_schema
from bot.app.settings import ConfigError, Settings, load_settings
from handlers.access.watermark import exporter, watermark
from handlers.common.tables import RowsInvalid
from handlers.core.extras import MissingExtra
from handlers.core.i18n import Renderer
from handlers.core.messages import Msg, Series, UserError
from handlers.core.parsing import parse_id
from storage import branches, people, traces
from storage.models import Branch, Member

T = TypeVar("T")


def settings_from(ctx: click.Context) -> Settings:
    settings = ctx.obj.get("settings") if ctx.obj else None
    if settings is None:
        settings = load_settings()
        ctx.ensure_object(dict)["settings"] = settings
    return settings


def renderer_for(settings: Settings | None) -> Renderer:
    if settings is None:
        return Renderer()
    return Renderer(settings.lang, settings.zone)


def say(settings: Settings | None, key: str, *, err: bool = False, **params: Any) -> None:
    click.echo(renderer_for(settings).render(Msg(key, **params)), err=err)


def fail(settings: Settings | None, msg: Msg, code: int = 1) -> NoReturn:
    click.echo(renderer_for(settings).render(msg), err=True)
    sys.exit(code)


def run_import(settings: Settings, coro: Coroutine[Any, Any, None], invalid_key: str) -> None:
    """Run an all-or-nothing import; a refused one lists every bad row by line under
    `invalid_key`, then exits 1."""
    try:
        run(settings, coro)
    except RowsInvalid as err:
        rows = [Msg("roster.row", line=e.line, problem=e.problem) for e in err.errors]
        say(settings, invalid_key, err=True, count=len(rows), rows=rows)
        raise SystemExit(1) from None


def usage_error(settings: Settings, key: str, **params: Any) -> click.UsageError:
    return click.UsageError(renderer_for(settings).render(Msg(key, **params)))


def run(settings: Settings | None, coro: Coroutine[Any, Any, T]) -> T:
    """Run a CLI coroutine; known problems become one line on stderr and an exit code."""
    try:
        return asyncio.run(coro)
    except ConfigError as err:
        fail(settings, Msg("cli.config_error", variable=err.variable, problem=err.problem), 2)
    except MissingExtra as err:
        fail(settings, Msg("cli.missing_extra", purpose=err.purpose, extra=err.extra), 2)
    except SchemaOutdated as err:
        fail(settings, Msg("cli.not_initialised", current=err.current or "-", head=err.head))
    except UserError as err:
        fail(settings, err.msg)


@asynccontextmanager
async def opened(settings: Settings, check: bool = True) -> AsyncIterator[Services]:
    services = build_services(settings)
    try:
        if check:
            await check_schema(services.engine)
        yield services
    finally:
        await services.close()


@asynccontextmanager
async def on_branch(
    settings: Settings, branch_name: str
) -> AsyncIterator[tuple[Services, AsyncSession, Branch]]:
    """One checked transaction on the branch named `branch_name` (a UserError listing the
    branches when there is none)."""
    async with opened(settings) as services, services.sessions.begin() as session:
        yield services, session, await branch_named(session, branch_name)


async def traced_export(
    session: AsyncSession,
    services: Services,
    at: datetime,
    branch_id: int | None,
    ref: str,
    data: dict[str, Any],
) -> Msg:
    """Trace a command-line export (data.exported, `data` and the OS account that ran it);
    returns the watermark line that names who, when and the trace."""
    user = getpass.getuser()
    exported = await traces.append(
        session,
        services.box,
        kind="data.exported",
        at=at,
        branch_id=branch_id,
        ref=ref,
        data={**data, "by": user},
    )
    return watermark(exporter(user), at, exported.id)


def now() -> datetime:
    return datetime.now(UTC)


async def branch_named(session: AsyncSession, name: str) -> Branch:
    """The branch with this name, or a UserError listing the branches there are."""
    branch = await people.branch_by_name(session, name)
    if branch is None:
        current = await branches.current_branches(session)  # not the archived ones
        names = Series(b.name for b in current) or "-"
        raise UserError("branch.unknown", name=name, names=names)
    return branch


async def member_named(session: AsyncSession, name: str, branch_name: str | None) -> Member:
    """The one active member `name` (or #ID) means, in the named branch if given; else a
    UserError saying there is none or several."""
    member_id = parse_id(name) if name.startswith("#") else None
    if member_id is not None:
        member = await session.get(Member, member_id)
        found = [member] if member is not None and member.active else []
    else:
        branch = await branch_named(session, branch_name) if branch_name else None
        found = list(await people.members_named(session, name, branch.id if branch else None))
    if not found:
        raise UserError("cli.member_unknown", name=name)
    if len(found) > 1:
        raise UserError("cli.member_ambiguous", name=name, count=len(found))
    return found[0]


class BranchbotGroup(click.Group):
    """The top-level group: a bad setting found anywhere becomes one line and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as err:
            fail(None, Msg("cli.config_error", variable=err.variable, problem=err.problem), 2)
