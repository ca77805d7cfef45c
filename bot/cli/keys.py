"""`branchbot rotate-key`: everything the current SECRET_KEY sealed or signed, moved under a
new key in one transaction (storage/rekey.py). The service must be stopped meanwhile; the
procedure is in docs/operations.md."""

import getpass
from pathlib import Path

import click
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app.settings import Settings
from bot.cli.support import fail, now, opened, run, say, settings_from
from handlers.core.messages import Msg, UserError
from storage import rekey
from storage.crypto import SecretBox

# Other sessions on the same PostgreSQL database: a service still running would go on
# writing under the old key once the rotation commits.
_OTHERS = text(
    "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
)


@click.command("rotate-key")
@click.option(
    "--new-key-file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file holding the new key (make it with `branchbot keygen`).",
)
@click.pass_context
def rotate_key(ctx: click.Context, new_key_file: Path) -> None:
    """Re-encrypt every encrypted field and file, and re-sign the trace chain, under a new key.
    BRANCHBOT_SECRET_KEY must be the key in use now; stop the service first."""
    settings = settings_from(ctx)
    new = _new_box(settings, new_key_file)
    try:
        done = run(settings, _rotate(settings, new))
    except rekey.WrongKey as err:
        head = Msg("rotate.head_fits" if err.head_fits else "rotate.head_not_fits")
        fail(settings, Msg("rotate.wrong_key", tried=err.tried, opened=err.opened, head=head))
    except rekey.ChainNotSound as err:
        reason = Msg(f"cli.verify_{err.result.reason}")
        fail(settings, Msg("rotate.chain_broken", id=err.result.bad_id, reason=reason))
    say(
        settings,
        "rotate.done",
        values=done.values,
        traces=done.traces,
        invites=done.invites,
        web=done.web_codes,
    )


def _new_box(settings: Settings, path: Path) -> SecretBox:
    key = path.read_text(encoding="utf-8").strip()
    try:
        box = SecretBox(key)
    except ValueError:
        fail(settings, Msg("rotate.bad_new_key", path=path), 2)
    if key == settings.require_secret_key():
        fail(settings, Msg("rotate.same_key"), 2)
    return box


async def _rotate(settings: Settings, new: SecretBox) -> rekey.Rotation:
    async with opened(settings) as services:
        await _alone(services.engine)

        def progress(step: str, count: int) -> None:
            say(settings, "rotate.progress", err=True, step=step, count=count)

        async with services.sessions.begin() as session:
            return await rekey.rotate(
                session, services.box, new, now=now(), by=getpass.getuser(), progress=progress
            )


async def _alone(engine: AsyncEngine) -> None:
    """Refuse while other sessions use the PostgreSQL database (SQLite cannot tell: there
    the operator stops the service, as the procedure says)."""
    if engine.dialect.name != "postgresql":
        return
    async with engine.connect() as conn:
        others = int(await conn.scalar(_OTHERS) or 0)
    if others:
        raise UserError("rotate.not_alone", count=others)
