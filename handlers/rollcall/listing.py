"""`/jielong_list 编号` (接龙名单): a roll-call's whole list, privately, for the branch's staff,
with buttons for the Excel and CSV files (`/jielong_list 编号 xlsx`). A file names everyone
who joined, with when, and who left again; it carries its exporter's watermark and its
export is traced (rollcall.exported)."""

from datetime import datetime
from typing import Any

from handlers.access.watermark import watermark_fields
from handlers.common.cells import csv_bytes, xlsx_append, xlsx_bytes
from handlers.core.context import Context
from handlers.core.messages import Button, FileOut, Msg, Reply, UserError
from handlers.core.registry import COMMITTEE_UP, Replies
from handlers.rollcall.commands import staff_rollcall
from handlers.rollcall.feature import feature
from handlers.rollcall.post import details
from storage import rollcalls
from storage.group_models import RollCall
from storage.rollcalls import Line, rollcall_ref

FORMATS = {
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "excel": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "csv": ("csv", "text/csv"),
}
# The file's columns: part of its format, so Chinese whatever the reader's language (as the
# roster's are, handlers/account/roster_format.py).
TOPIC = "主题"
HEADERS = ("序号", "姓名", "接龙时间", "状态", "退出时间")
ON_LIST, LEFT = "在列", "已退出"


@feature.command("jielong_list", roles=COMMITTEE_UP, aliases=("接龙名单",))
async def jielong_list(ctx: Context, args: str) -> Replies:
    """The list as text with export buttons, or (with a format) as a file."""
    rollcall = await staff_rollcall(ctx, args, "jielong_list")
    words = args.split()
    if len(words) > 1:
        return await _export(ctx, rollcall, words[1].lower())
    lines = await rollcalls.lines(ctx.session, rollcall.id, with_left=True)
    on_list = [line for line in lines if line.withdrawn_at is None]
    text = Msg(
        "rollcall.list",
        id=rollcall.id,
        topic=rollcall.topic,
        details=await details(ctx.session, rollcall),
        names=[
            Msg("rollcall.name_line", place=place, name=line.name)
            for place, line in enumerate(on_list, 1)
        ]
        or Msg("rollcall.nobody_yet"),
        count=len(on_list),
        left=len(lines) - len(on_list),
        state=Msg("rollcall.state_closed" if rollcall.closed_at else "rollcall.state_open"),
    )
    buttons = tuple(
        Button(Msg(f"rollcall.export_{fmt}"), f"/jielong_list {rollcall.id} {fmt}")
        for fmt in ("xlsx", "csv")
    )
    return Reply(text, (buttons,))


async def _export(ctx: Context, rollcall: RollCall, asked: str) -> Reply:
    if asked not in FORMATS:
        raise UserError("rollcall.bad_format", value=asked, usage=Msg("cmd.jielong_list.usage"))
    fmt, mime = FORMATS[asked]
    lines = await rollcalls.lines(ctx.session, rollcall.id, with_left=True)
    exported = await ctx.trace(
        "rollcall.exported",
        branch_id=rollcall.branch_id,
        ref=rollcall_ref(rollcall.id),
        data={"format": fmt, "rows": len(lines)},
    )
    caller = ctx.require_caller()
    at = ctx.now.astimezone(ctx.options.timezone)
    facts = watermark_fields(caller.name, caller.id, at, exported.id)
    mark = " | ".join(f"{k}={v}" for k, v in facts.items())
    rows = [[TOPIC, rollcall.topic], list(HEADERS), *_rows(lines, ctx)]
    if fmt == "xlsx":
        content = _workbook(rows, f"{caller.name} #{caller.id}", mark)
    else:
        content = csv_bytes([[mark], *rows])
    name = f"jielong-{rollcall.id}-{ctx.today.isoformat()}.{fmt}"
    return Reply(
        Msg("rollcall.exported", id=rollcall.id, rows=len(lines), trace=exported.id),
        file=FileOut(name, content, mime),
    )


def _rows(lines: list[Line], ctx: Context) -> list[list[Any]]:
    """One row per member who joined: their place on the list (none once they left)."""

    def when(at: datetime | None) -> str:
        return at.astimezone(ctx.options.timezone).strftime("%Y-%m-%d %H:%M") if at else ""

    rows, place = [], 0
    for line in lines:
        on = line.withdrawn_at is None
        place += on
        state = ON_LIST if on else LEFT
        rows.append(
            [place if on else "", line.name, when(line.joined_at), state, when(line.withdrawn_at)]
        )
    return rows


def _workbook(rows: list[list[Any]], author: str, mark: str) -> bytes:
    """The topic, the header and the list as a workbook that names who exported it (in its
    properties and its last line)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.properties.creator = book.properties.lastModifiedBy = author
    book.properties.description = mark
    sheet = book.active
    assert sheet is not None
    sheet.title = "接龙"
    for row in rows:
        xlsx_append(sheet, row)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A3"
    xlsx_append(sheet, [])
    xlsx_append(sheet, [mark])
    return xlsx_bytes(book)
