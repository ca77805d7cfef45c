"""CLI commands for the trace store: verify the chain, export traces as JSONL or CSV."""

import json
import os
import sys
from datetime import datetime, time
from pathlib import Path
from typing import IO, Any

import click

from bot.app.settings import Settings
from bot.cli.support import (
    branch_named,
    now,
    opened,
    renderer_for,
    run,
    say,
    settings_from,
    traced_export,
)
from handlers.common.cells import CsvWriter
from handlers.core.messages import Msg
from handlers.core.parsing import parse_date
from storage import chain, people, traces
from storage.files import open_private
from storage.models import Trace
from storage.trace_kinds import TRACE_KINDS

EXPORT_FIELDS = ("id", "at", "kind", "branch", "member", "actor", "ref", "data", "hash")


@click.command("verify")
@click.pass_context
def verify(ctx: click.Context) -> None:
    """Check the trace chain; exits 1 and names the first bad row if anything was tampered.
    The outcome is kept: later reports check only the rows appended after it."""
    settings = settings_from(ctx)

    async def go() -> bool:
        async with opened(settings) as services:
            began = now()
            async with services.readers() as session:
                result = await chain.verify(session, services.box)
            async with services.sessions.begin() as session:
                await chain.record_walk(session, services.box, result, began)
        if result.ok:
            say(settings, "cli.verify_ok", count=result.checked)
        else:
            say(
                settings,
                "cli.verify_bad",
                err=True,
                id=result.bad_id,
                count=result.checked,
                reason=Msg(f"cli.verify_{result.reason}"),
            )
        return result.ok

    if not run(settings, go()):
        sys.exit(1)


def _row(trace: Trace, branch_names: dict[int, str], settings: Settings) -> dict[str, Any]:
    return {
        "id": trace.id,
        "at": trace.at.astimezone(settings.zone).isoformat(),
        "kind": trace.kind,
        "branch": branch_names.get(trace.branch_id) if trace.branch_id else None,
        "member": trace.member_id,
        "actor": trace.actor_id,
        "ref": trace.ref,
        "data": trace.data,
        "hash": trace.hash,
    }


def _write(out: IO[str], fmt: str, rows: list[dict[str, Any]], mark: str) -> None:
    """The rows after a watermark line: JSONL's first line is {"watermark": ...}; CSV's first
    row is one cell starting with "# " (skip it before reading the header)."""
    if fmt == "jsonl":
        out.write(json.dumps({"watermark": mark}, ensure_ascii=False) + "\n")
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    writer = CsvWriter(out)
    writer.writerow([f"# {mark}"])
    writer.writerow(EXPORT_FIELDS)
    for row in rows:
        record = {**row, "data": json.dumps(row["data"], ensure_ascii=False)}
        writer.writerow([record.get(field) for field in EXPORT_FIELDS])


async def _export(
    settings: Settings, fmt: str, branch: str | None, since: str | None, output: Path | None
) -> int:
    async with opened(settings) as services:
        async with services.readers() as session:
            branches = {b.id: b.name for b in await people.all_branches(session)}
            branch_id = None
            if branch is not None:
                branch_id = (await branch_named(session, branch)).id
            start = None
            if since is not None:
                start = datetime.combine(parse_date(since), time.min, settings.zone)
            rows = [
                _row(t, branches, settings)
                async for t in traces.iter_traces(session, branch_id=branch_id, since=start)
            ]
        at = now()
        async with services.sessions.begin() as session:  # a short write, after the long read
            watermarked = await traced_export(
                session,
                services,
                at,
                branch_id,
                "traces",
                {"what": "traces", "format": fmt, "rows": len(rows), "since": since},
            )
    mark = renderer_for(settings).render(watermarked)
    if output is None:
        _write(sys.stdout, fmt, rows, mark)
    else:
        with os.fdopen(open_private(output), "w", encoding="utf-8", newline="") as fh:
            _write(fh, fmt, rows, mark)
        say(settings, "cli.exported", err=True, count=len(rows), path=output)
    return len(rows)


@click.group("export")
def export_group() -> None:
    """Export data."""


@export_group.command("traces")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl")
@click.option("--branch", help="Only this branch's traces.")
@click.option("--since", help="Only traces on or after this date (YYYY-MM-DD).")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to a file instead of standard output.",
)
@click.pass_context
def export_traces(
    ctx: click.Context, fmt: str, branch: str | None, since: str | None, output: Path | None
) -> None:
    """Export traces (the export itself is traced as data.exported)."""
    settings = settings_from(ctx)
    run(settings, _export(settings, fmt, branch, since, output))


@click.command("trace-kinds")
def trace_kinds() -> None:
    """List every trace kind and what it records."""
    for kind, meaning in TRACE_KINDS.items():
        click.echo(f"{kind}\t{meaning}")
