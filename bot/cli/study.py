"""CLI commands for the question bank (题库) and the study materials (学习资料)."""

from pathlib import Path

import click

from bot.app.settings import Settings
from bot.cli.support import (
    branch_named,
    now,
    opened,
    run,
    run_import,
    say,
    settings_from,
    usage_error,
)
from handlers.core.messages import UserError
from handlers.study.bank import export_bank, import_bank, starter_bank
from handlers.study.documents import SUFFIXES, read_document
from handlers.study.materials import NewMaterial, add_material
from storage import quizzes
from storage.files import write_private
from storage.models import Question

FORMATS = {".json": "json", ".csv": "csv", ".xlsx": "xlsx"}


@click.group("questions")
def questions_group() -> None:
    """The quiz question bank: import and export."""


@questions_group.command("import")
@click.argument(
    "file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--starter", is_flag=True, help="Import the starter bank shipped with branchbot.")
@click.option("--replace", is_flag=True, help="Retire the questions that are not in the file.")
@click.pass_context
def questions_import(ctx: click.Context, file: Path | None, starter: bool, replace: bool) -> None:
    """Import questions from CSV, XLSX or JSON, all or nothing (codes already known are
    updated)."""
    settings = settings_from(ctx)
    if (file is None) == (not starter):
        raise usage_error(settings, "cli.file_or_starter")
    name, raw = starter_bank() if file is None else (file.name, file.read_bytes())
    run_import(settings, _import_questions(settings, name, raw, replace), "bank.invalid")


async def _import_questions(settings: Settings, name: str, raw: bytes, replace: bool) -> None:
    async with opened(settings) as services, services.sessions.begin() as session:
        result = await import_bank(session, services.box, name, raw, now(), replace=replace)
    say(
        settings,
        "bank.imported",
        added=result.added,
        updated=result.updated,
        retired=result.retired,
        name=name,
    )


async def seed_starter_bank(settings: Settings) -> int:
    """An empty bank gets the starter questions (on `branchbot init`); returns how many."""
    async with opened(settings) as services, services.sessions.begin() as session:
        if await quizzes.count_questions(session):
            return 0
        name, raw = starter_bank()
        return (await import_bank(session, services.box, name, raw, now())).added


@questions_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def questions_export(ctx: click.Context, file: Path) -> None:
    """Write the bank to FILE (.json, .csv or .xlsx) in the notation import reads."""
    settings = settings_from(ctx)
    fmt = FORMATS.get(file.suffix.lower())
    if fmt is None:
        raise usage_error(settings, "cli.export_format")

    async def go() -> list[Question]:
        async with opened(settings) as services, services.readers() as session:
            return [q for q in await quizzes.all_questions(session) if q.active]

    bank = run(settings, go())
    write_private(file, export_bank(bank, fmt))
    say(settings, "cli.exported", count=len(bank), path=file)


@click.group("materials")
def materials_group() -> None:
    """Study materials: import a folder of documents."""


@materials_group.command("import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--branch", "branch_name", help="The branch it is for; without: every branch.")
@click.pass_context
def materials_import(ctx: click.Context, folder: Path, branch_name: str | None) -> None:
    """Add every txt, md, docx and pdf file in FOLDER (files already added are skipped)."""
    settings = settings_from(ctx)
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())
    if not files:
        say(settings, "material.folder_empty", err=True, folder=folder)
        raise SystemExit(1)
    run(settings, _import_folder(settings, files, branch_name))


async def _import_folder(settings: Settings, files: list[Path], branch_name: str | None) -> None:
    added = skipped = failed = 0
    async with opened(settings) as services:
        branch_id = None
        if branch_name:
            async with services.readers() as session:
                branch_id = (await branch_named(session, branch_name)).id
        for path in files:
            try:
                async with services.sessions.begin() as session:  # one file, one transaction
                    document = read_document(path.name, path.read_bytes())
                    material, created = await add_material(
                        session,
                        services.box,
                        NewMaterial(document.title, document.body),
                        branch_id=branch_id,
                        actor_id=None,
                        now=now(),
                    )
            except UserError as err:
                failed += 1
                say(settings, "material.file_failed", err=True, name=path.name, problem=err.msg)
                continue
            added += created
            skipped += not created
            key = "material.file_added" if created else "material.file_skipped"
            say(settings, key, id=material.id, title=material.title, name=path.name)
    say(settings, "material.import_done", added=added, skipped=skipped, failed=failed)
    if failed:
        raise SystemExit(1)
