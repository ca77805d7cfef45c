"""`branchbot backup FILE` and `branchbot restore FILE` (storage/backup.py does the work).

A backup is written beside its target as FILE.partial, owner-only, and renamed into place
once complete, so a backup that failed or was killed never looks like a good one.
"""

import contextlib
import getpass
import gzip
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import click

from bot.app.services import Services
from bot.app.settings import Settings
from bot.cli.support import fail, now, opened, run, say, settings_from, traced_export
from handlers.core.messages import Msg
from storage import backup, chain, traces
from storage.files import open_private
from storage.snapshot import Header, UnreadableBackup


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def backup_command(ctx: click.Context, file: Path) -> None:
    """Write a consistent snapshot of the whole database to FILE (gzip'd JSON lines, owner-only);
    the service may keep running. Keep the SECRET_KEY apart from it."""
    settings = settings_from(ctx)
    snapshot = run(settings, _backup(settings, file))
    head = snapshot.header.head
    say(
        settings,
        "backup.done",
        path=file,
        tables=len(snapshot.rows),
        rows=snapshot.total,
        revision=snapshot.header.revision,
        head=head.last_id,
    )


async def _backup(settings: Settings, file: Path) -> backup.Snapshot:
    partial = file.with_name(file.name + ".partial")
    async with opened(settings) as services:
        taken_at = now()
        try:
            with _written(partial) as out:
                snapshot = await backup.dump(services.engine, out, taken_at)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, file)
        async with services.sessions.begin() as session:  # who took a copy of everything
            data = {"what": "backup", "file": file.name, "rows": snapshot.total}
            await traced_export(session, services, now(), None, "backup", data)
    return snapshot


@contextlib.contextmanager
def _written(path: Path) -> Iterator[IO[str]]:
    """A text stream into a new owner-only gzip file, flushed to disk when closed."""
    with os.fdopen(open_private(path), "wb") as raw:
        zipped = gzip.GzipFile(fileobj=raw, mode="wb")
        with io.TextIOWrapper(zipped, encoding="utf-8", newline="\n") as text:
            yield text  # closing the text stream closes the gzip stream, writing its end
        raw.flush()
        os.fsync(raw.fileno())


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def restore_command(ctx: click.Context, file: Path) -> None:
    """Load a backup into an EMPTY database (SQLite or PostgreSQL) with the schema version it
    was made at, and verify the trace chain with SECRET_KEY: all or nothing."""
    settings = settings_from(ctx)
    try:
        header, rows, checked = run(settings, _restore(settings, file))
    except UnreadableBackup as err:
        fail(settings, Msg("restore.unreadable", path=file, problem=str(err)))
    except backup.RestoreRefused as err:
        details = dict(err.details)
        if err.reason == "chain":
            details["why"] = Msg(f"cli.verify_{details['why']}")
        fail(settings, Msg(f"restore.{err.reason}", path=file, **details))
    say(
        settings,
        "restore.done",
        path=file,
        rows=rows,
        taken_at=header.taken_at.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M:%S"),
        revision=header.revision,
        count=checked,
    )


async def _restore(settings: Settings, file: Path) -> tuple[Header, int, int]:
    with gzip.open(file, "rt", encoding="utf-8") as source:
        header = backup.read_header(source)
        async with opened(settings, check=False) as services:
            await backup.prepare(services.engine, header)
            return header, *await _load(services, header, source, file)


async def _load(services: Services, header: Header, source: IO[str], file: Path) -> tuple[int, int]:
    """One transaction: the rows, the chain checked against the header, the walk kept and
    the restore traced after the backup's last trace."""
    began = now()
    async with services.sessions.begin() as session:
        rows, walked = await backup.restore(session, services.box, header, source)
        await chain.record_walk(session, services.box, walked, began)
        data = {
            "taken_at": header.taken_at.isoformat(),
            "revision": header.revision,
            "head": header.head.last_id,
            "rows": rows,
            "file": file.name,
            "by": getpass.getuser(),
        }
        await traces.append(session, services.box, kind="backup.restored", at=now(), data=data)
    return rows, walked.checked + 1
