"""The `branchbot` command: init, run, demo, console, members, traces, backup, key rotation.

Every subcommand reads settings from BRANCHBOT_* variables (see docs/configuration.md).
"""

import asyncio
import logging
from pathlib import Path

import click

from bot.channels.console import ConsoleChat, bind_console, interact
from bot.cli import archive, branches, moves  # noqa: F401  (they join the branch and member groups)
from bot.cli.backup import backup_command, restore_command
from bot.cli.demo import run_demo, stdin_is_terminal
from bot.cli.dues import dues_group
from bot.cli.keys import rotate_key
from bot.cli.ledger import ledger
from bot.cli.people import branch_group, member_group
from bot.cli.report import report
from bot.cli.roster import member_export, member_import  # noqa: F401 (they join member_group)
from bot.cli.study import materials_group, questions_group, seed_starter_bank
from bot.cli.support import BranchbotGroup, fail, member_named, opened, run, say, settings_from
from bot.cli.surveys import surveys_group
from bot.cli.traces import export_group, trace_kinds, verify
from handlers.core.messages import Msg
from storage import schema
from storage.crypto import SecretBox
from storage.db import create_engine
from storage.files import owner_only_umask, private_dir


@click.group(cls=BranchbotGroup)
@click.version_option(package_name="branchbot")
@click.pass_context
def main(ctx: click.Context) -> None:
    """支部助手 branchbot: a chat assistant for university Party branches."""
    # Before anything is created: the database, its WAL and exports hold codes and personal
    # data, and must not be readable by other accounts on the machine (storage/files.py).
    owner_only_umask()
    ctx.ensure_object(dict)


@main.command()
def keygen() -> None:
    """Print a new SECRET_KEY (keep it safe: it decrypts phone and ID numbers)."""
    click.echo(SecretBox.generate_key())


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the database schema, or upgrade it to the newest version."""
    settings = settings_from(ctx)

    # With the key, a migration can encrypt personal data already stored (leave reasons).
    key = settings.secret_key.get_secret_value() if settings.secret_key else None

    async def go() -> str | None:
        engine = create_engine(settings.database_url)
        try:
            await schema.upgrade(engine, SecretBox(key) if key else None)
            return await schema.current_revision(engine)
        finally:
            await engine.dispose()

    try:
        revision = run(settings, go())
    except schema.SecretKeyNeeded:
        fail(settings, Msg("cli.init_needs_key"), 2)
    say(settings, "cli.init_done", revision=revision, url=_safe_url(settings.database_url))
    if settings.secret_key is not None:  # the bank's import is traced, which needs the key
        added = run(settings, seed_starter_bank(settings))
        if added:
            say(settings, "bank.seeded", count=added)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@main.command("run")
@click.pass_context
def run_service(ctx: click.Context) -> None:
    """Serve the configured adapters (Telegram polling or webhook) and the scheduler."""
    from bot.serve import serve

    settings = settings_from(ctx)
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    run(settings, serve(settings))


@main.command()
@click.option("--as", "name", required=True, help="The member to speak as.")
@click.option("--branch", "branch_name", help="Their branch, when the name is not unique.")
@click.pass_context
def console(ctx: click.Context, name: str, branch_name: str | None) -> None:
    """Chat with the bot in the terminal as a member (for development and administration)."""
    settings = settings_from(ctx)

    async def go() -> None:
        async with opened(settings) as services:
            async with services.readers() as session:
                member = await member_named(session, name, branch_name)
            account = await bind_console(services, member)
            say(
                settings,
                "cli.console_hello",
                name=member.name,
                branch=member.branch.name if member.branch else "-",
            )
            chat = ConsoleChat(services, account, Path("data/console"))
            await interact(chat, f"{member.name} ▶ ")

    run(settings, go())


@main.command()
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data"),
    help="Where the demo database is written.",
)
@click.option("--no-console", is_flag=True, help="Only play the scripted conversation.")
def demo(folder: Path, no_console: bool) -> None:
    """Build a demo branch, play a scripted conversation, then open the console."""
    logging.basicConfig(level=logging.WARNING)
    private_dir(folder)
    asyncio.run(run_demo(folder, interactive=stdin_is_terminal() and not no_console))


main.add_command(branch_group)
main.add_command(member_group)
main.add_command(questions_group)
main.add_command(materials_group)
main.add_command(verify)
main.add_command(export_group)
main.add_command(trace_kinds)
main.add_command(report)
main.add_command(ledger)
main.add_command(dues_group)
main.add_command(surveys_group)
main.add_command(backup_command)
main.add_command(restore_command)
main.add_command(rotate_key)


if __name__ == "__main__":
    main()
