"""Roster (花名册) export: every field a secretary needs, per member, in the form of
handlers/account/roster_format.py; and `/roster_export` (导出花名册), which sends a secretary
their branch's roster (an admin any branch's) as an Excel file, watermarked and traced.

The JSON form keeps one record per member built in `record_of`; a further per-member section
(the archive, say) is added in `_sections`, the one place every export passes through.
"""

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.access.watermark import watermark_fields
from handlers.account.personal import personal_of
from handlers.account.record import feature
from handlers.account.roster_format import Mark, write
from handlers.archive.export import archive_export
from handlers.common.lookup import branch_asked
from handlers.core.context import Context
from handlers.core.messages import FileOut, Msg, Reply
from handlers.core.registry import SECRETARY_UP, Replies
from handlers.pipeline.rules import PersonFile
from storage import people, pipeline
from storage.crypto import SecretBox
from storage.enums import Stage
from storage.models import Branch, Member

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def record_of(box: SecretBox, member: Member, branch: Branch, file: PersonFile) -> dict[str, Any]:
    """One member's roster fields with stable English keys (the JSON form; the sheets show
    the same values under Chinese headers). Decrypted: this is the secretary's own roster."""
    personal = personal_of(box, member)
    return {
        "name": member.name,
        "gender": personal.get("gender"),
        "ethnicity": personal.get("ethnicity"),
        "birth_date": _iso(personal.get("birth_date")),
        "native_place": personal.get("native_place"),
        "education": personal.get("education"),
        "staff_no": member.staff_no,
        "phone": box.decrypt(member.phone_enc),
        "id_number": box.decrypt(member.id_number_enc),
        "grade": member.grade,
        "class_name": member.class_name,
        "stage": str(member.stage),
        "joined_on": _iso(file.entered(Stage.PROBATIONARY)),
        "full_on": _iso(file.entered(Stage.FULL)),
        "role": str(member.role),
        "remote_until": _iso(member.remote_until),
        "branch": branch.name,
        "interests": list(member.interests or []),
    }


async def _sections(session: AsyncSession, box: SecretBox, member: Member) -> dict[str, Any]:
    """Further per-member sections of the JSON form beside the roster fields: the member's
    archive (党员档案: entries, and the scans' metadata). The sheets carry the roster only."""
    return {"archive": await archive_export(session, box, member)}


async def roster_records(
    session: AsyncSession, box: SecretBox, branches: Sequence[Branch], *, sections: bool = False
) -> list[dict[str, Any]]:
    """Every active member of the branches, branch by branch; with `sections` (the JSON
    form) each record carries the further sections too."""
    records: list[dict[str, Any]] = []
    for branch in branches:
        members = list(await people.branch_members(session, branch.id))
        steps = await pipeline.steps(session, [m.id for m in members])
        for member in members:
            file = PersonFile(member.stage, steps[member.id], [], [])
            record = record_of(box, member, branch, file)
            if sections:
                record |= await _sections(session, box, member)
            records.append(record)
    return records


def roster_file(
    fmt: str, records: list[dict[str, Any]], mark: Mark, branches: Sequence[Branch], at: str
) -> bytes:
    """The roster file in `fmt` (xlsx, csv or json), with its watermark."""
    meta = {"exported_at": at, "branches": [b.name for b in branches]}
    return write(fmt, records, mark, meta)


@feature.command("roster_export", roles=SECRETARY_UP, aliases=("导出花名册",), private_only=True)
async def roster_export(ctx: Context, args: str) -> Replies:
    """The branch's roster as an Excel file (a secretary: their own; an admin: any, by name)."""
    caller = ctx.require_caller()
    branch = await branch_asked(
        ctx, args.strip(), unknown="roster.export_unknown", usage="cmd.roster_export.usage"
    )
    records = await roster_records(ctx.session, ctx.box, [branch])
    exported = await ctx.trace(
        "data.exported",
        branch_id=branch.id,
        ref=f"branch:{branch.id}",
        data={"what": "roster", "format": "xlsx", "branch": branch.name, "rows": len(records)},
    )
    at = ctx.now.astimezone(ctx.options.timezone)
    facts = watermark_fields(caller.name, caller.id, at, exported.id)
    line = " | ".join(f"{k}={v}" for k, v in facts.items())
    mark = Mark(f"{caller.name} #{caller.id}", line, facts)
    content = roster_file("xlsx", records, mark, [branch], at.isoformat())
    name = f"roster-{branch.id}-{ctx.today.isoformat()}.xlsx"
    return Reply(
        Msg("roster.export_ready", branch=branch.name, count=len(records), trace=exported.id),
        file=FileOut(name, content, XLSX),
    )
