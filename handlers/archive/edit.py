"""/archive_add (添加档案) and /archive_remove (撤回档案): a secretary keeps their branch's
archives, an admin anyone's. Missing arguments are asked for, one step at a time."""

from typing import Any

from handlers.account.changes import Editor
from handlers.archive.access import archive_member, changeable_entry, fetchable_file
from handlers.archive.domain import add_entry, withdraw
from handlers.archive.feature import feature
from handlers.archive.lines import entry_line
from handlers.archive.parse import parse_entry, parse_kind
from handlers.core.context import Context
from handlers.core.messages import Button, Msg, Reply, UserError
from handlers.core.parsing import parse_id
from handlers.core.registry import SECRETARY_UP, Replies
from storage.archive import ENTRY_KINDS
from storage.models import Member
from storage.roster_models import ArchiveEntry, ArchiveFile

ADD_FLOW = "archive_add"
REMOVE_FLOW = "archive_remove"
ADD_USAGE = Msg("cmd.archive_add.usage")


@feature.command(
    "archive_add", roles=SECRETARY_UP, aliases=("添加档案",), private_only=True, max_args=1000
)
async def archive_add(ctx: Context, args: str) -> Replies:
    """`/archive_add NAME KIND DETAILS` at once; with less, it asks for the rest."""
    tokens = args.split(maxsplit=2)
    if not tokens:
        await ctx.start_flow(ADD_FLOW, "name")
        return Reply(Msg("archive.ask_name"), (_cancel_row(),))
    member = await archive_member(ctx, tokens[0], change=True)
    if len(tokens) == 1:
        return await _ask_kind(ctx, member)
    kind = parse_kind(tokens[1])
    if len(tokens) == 2:
        return await _ask_details(ctx, member, kind)
    return await _add(ctx, member, kind, ctx.typed(tokens[2]))


@feature.flow(ADD_FLOW, roles=SECRETARY_UP)
async def archive_add_flow(ctx: Context, step: str, data: dict[str, Any], text: str) -> Replies:
    """Each answer moves one step on; a bad one is answered and the step asked again."""
    if step == "name":
        member = await archive_member(ctx, text.strip(), change=True)
        return await _ask_kind(ctx, member)
    member = await archive_member(ctx, f"#{data['member']}", change=True)
    if step == "kind":
        return await _ask_details(ctx, member, parse_kind(text))
    return await _add(ctx, member, data["kind"], ctx.typed(text))


def _cancel_row() -> tuple[Button, ...]:
    return (Button(Msg("broadcast.cancel_button"), "/cancel"),)


async def _ask_kind(ctx: Context, member: Member) -> Reply:
    await ctx.start_flow(ADD_FLOW, "kind", {"member": member.id})
    row = tuple(Button(Msg(f"archive.kind.{k}"), k) for k in ENTRY_KINDS)
    return Reply(Msg("archive.ask_kind", name=member.name), (row, _cancel_row()))


async def _ask_details(ctx: Context, member: Member, kind: str) -> Reply:
    await ctx.start_flow(ADD_FLOW, "details", {"member": member.id, "kind": kind})
    form = Msg(f"archive.form.{kind}")
    return Reply(Msg("archive.ask_details", name=member.name, form=form), (_cancel_row(),))


async def _add(ctx: Context, member: Member, kind: str, text: str) -> Reply:
    new = parse_entry(kind, text, ctx.today)
    editor = Editor(ctx.require_caller())
    entry = await add_entry(ctx.session, ctx.box, member, new, ctx.now, editor)
    await ctx.end_flow()
    line = entry_line(ctx.box, entry)
    return Reply(Msg("archive.added", name=member.name, line=line, id=entry.id))


def _target_id(text: str) -> tuple[str, int] | None:
    """`12` or `#12` an entry; `f3` or `文件3` a scan."""
    text = text.strip().lower()
    for prefix in ("文件", "附件", "f"):
        if text.startswith(prefix):
            found = parse_id(text[len(prefix) :])
            return ("file", found) if found is not None else None
    found = parse_id(text.removeprefix("#"))
    return ("entry", found) if found is not None else None


async def _target(ctx: Context, text: str) -> tuple[ArchiveEntry | ArchiveFile, Member]:
    parsed = _target_id(text)
    if parsed is None:
        raise UserError("usage", usage=Msg("cmd.archive_remove.usage"))
    kind, number = parsed
    found: ArchiveEntry | ArchiveFile
    if kind == "file":
        found = await fetchable_file(ctx, number, change=True)
    else:
        found = await changeable_entry(ctx, number)
    member = await ctx.session.get(Member, found.member_id)
    assert member is not None  # the access check found them
    return found, member


@feature.command(
    "archive_remove", roles=SECRETARY_UP, aliases=("撤回档案",), private_only=True, max_args=1000
)
async def archive_remove(ctx: Context, args: str) -> Replies:
    """`/archive_remove NUMBER REASON`; without the reason it asks for it."""
    head, _, reason = args.strip().partition(" ")
    target, member = await _target(ctx, head)
    if not reason.strip():
        key = "f" if isinstance(target, ArchiveFile) else "#"
        await ctx.start_flow(REMOVE_FLOW, "reason", {"target": f"{key}{target.id}"})
        return Reply(Msg("archive.ask_reason", name=member.name), (_cancel_row(),))
    return await _withdraw(ctx, target, member, ctx.typed(reason))


@feature.flow(REMOVE_FLOW, roles=SECRETARY_UP)
async def archive_remove_flow(ctx: Context, step: str, data: dict[str, Any], text: str) -> Replies:
    target, member = await _target(ctx, data["target"])
    return await _withdraw(ctx, target, member, ctx.typed(text))


async def _withdraw(
    ctx: Context, target: ArchiveEntry | ArchiveFile, member: Member, reason: str
) -> Reply:
    editor = Editor(ctx.require_caller())
    files = await withdraw(ctx.session, ctx.box, target, member, reason, ctx.now, editor)
    await ctx.end_flow()
    key = "archive.what_file" if isinstance(target, ArchiveFile) else "archive.what_entry"
    what = Msg(key, id=target.id)
    return Reply(Msg("archive.withdrawn", name=member.name, what=what, files=len(files)))
